"""The spot decision is one pure function with one meaning on every backend."""

from __future__ import annotations

import pytest

from terraml.policy.spot import decide, with_defaults
from terraml.spec.job import JobSpot


def policy(**kw) -> JobSpot:
    return with_defaults(JobSpot(**kw), max_runtime_hours=4)


@pytest.mark.parametrize("spot,kwargs,capacity,reason", [
    (dict(mode="on-demand"), {}, "on-demand", "policy is on-demand"),
    (dict(mode="spot"), {}, "spot", "never falls back"),
    (dict(mode="spot"), {"interruptions": 10}, "spot", "never falls back"),
    (dict(mode="spot"), {"capacity_error": True}, "spot", "never falls back"),
    (dict(mode="auto"), {}, "spot", "spot first"),
    (dict(mode="auto", max_interruptions=3), {"interruptions": 2}, "spot", "spot first"),
    (dict(mode="auto", max_interruptions=3), {"interruptions": 3}, "on-demand", "3 interruptions reached"),
    (dict(mode="auto"), {"interruptions": 3}, "on-demand", "max_interruptions 3"),  # the default limit
    (dict(mode="auto"), {"capacity_error": True}, "on-demand", "no spot capacity"),
    (dict(mode="auto", max_price_ratio=0.7), {"on_demand_usd_per_hour": 1.0, "spot_usd_per_hour": 0.69},
     "spot", "spot first (spot $0.69/h vs on-demand $1/h)"),
    (dict(mode="auto", max_price_ratio=0.7), {"on_demand_usd_per_hour": 1.0, "spot_usd_per_hour": 0.71},
     "on-demand", "spot costs 71% of on-demand, above max_price_ratio 70%"),
    (dict(mode="auto", max_interruptions=0), {}, "on-demand", "0 interruptions reached"),
])
def test_decision_table(spot, kwargs, capacity, reason):
    decision = decide(policy(**spot), max_runtime_hours=4, **kwargs)
    assert decision.capacity == capacity
    assert reason in decision.reason


def test_checkpointing_needed_only_beyond_one_interval():
    long = decide(policy(mode="spot", checkpoint_every_minutes=15), max_runtime_hours=4)
    short = decide(with_defaults(JobSpot(mode="spot", checkpoint_every_minutes=30), 0.25), max_runtime_hours=0.25)
    assert long.checkpointing and "resumes from the last checkpoint" in long.then
    assert not short.checkpointing and "restarts" in short.then


def test_defaults_fill_what_spot_needs():
    filled = policy(mode="auto")
    assert (filled.max_wait_hours, filled.max_interruptions, filled.checkpoint_every_minutes) == (8, 3, 15)
    assert policy(mode="spot").max_interruptions is None  # spot never counts toward a fallback
    assert policy(mode="on-demand") == JobSpot(mode="on-demand")
