"""The spot decision: which capacity a job runs on next, and why. One meaning on every backend.

Pure: the policy, prices and what has happened so far in; a decision out. Backends act on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from terraml.spec.job import JobSpot

DEFAULT_CHECKPOINT_MINUTES = 15
DEFAULT_MAX_INTERRUPTIONS = 3


def with_defaults(spot: JobSpot, max_runtime_hours: float) -> JobSpot:
    """Fill the defaults a spot or auto policy needs; on-demand needs none."""
    if spot.mode == "on-demand":
        return spot
    return spot.model_copy(update={
        "max_wait_hours": spot.max_wait_hours if spot.max_wait_hours is not None else 2 * max_runtime_hours,
        "max_interruptions": (spot.max_interruptions if spot.max_interruptions is not None or spot.mode == "spot"
                              else DEFAULT_MAX_INTERRUPTIONS),
        "checkpoint_every_minutes": spot.checkpoint_every_minutes or DEFAULT_CHECKPOINT_MINUTES,
    })


@dataclass(frozen=True)
class SpotDecision:
    capacity: str  # "spot" | "on-demand"
    reason: str
    checkpointing: bool
    then: str  # what happens on the next interruption or capacity error


def decide(spot: JobSpot, *, max_runtime_hours: float, on_demand_usd_per_hour: float | None = None,
           spot_usd_per_hour: float | None = None, interruptions: int = 0,
           capacity_error: bool = False) -> SpotDecision:
    """Capacity for the next attempt of a job whose policy is ``spot`` (already with defaults)."""
    runtime_min = max_runtime_hours * 60
    if spot.mode == "on-demand":
        return SpotDecision("on-demand", "policy is on-demand", False, "no interruptions on on-demand")
    checkpointing = runtime_min > (spot.checkpoint_every_minutes or DEFAULT_CHECKPOINT_MINUTES)
    resume = "resumes from the last checkpoint" if checkpointing else "restarts (shorter than one checkpoint)"
    if spot.mode == "spot":
        return SpotDecision("spot", "policy is spot: never falls back to on-demand", checkpointing,
                            f"on interruption: waits for spot capacity again (up to {spot.max_wait_hours:g} h "
                            f"in all) and {resume}")
    limit = spot.max_interruptions if spot.max_interruptions is not None else DEFAULT_MAX_INTERRUPTIONS
    if capacity_error:
        return SpotDecision("on-demand", "auto: no spot capacity (or the spot wait ran out)", checkpointing,
                            f"runs to the end on on-demand and {resume}")
    if interruptions >= limit:
        return SpotDecision("on-demand", f"auto: {interruptions} interruptions reached max_interruptions {limit}",
                            checkpointing, f"finishes on on-demand and {resume}")
    if spot.max_price_ratio is not None and on_demand_usd_per_hour and spot_usd_per_hour is not None:
        ratio = spot_usd_per_hour / on_demand_usd_per_hour
        if ratio > spot.max_price_ratio:
            return SpotDecision("on-demand", f"auto: spot costs {ratio:.0%} of on-demand, above max_price_ratio "
                                             f"{spot.max_price_ratio:.0%}", checkpointing, "stays on on-demand")
    price = ""
    if on_demand_usd_per_hour and spot_usd_per_hour is not None:
        price = f" (spot ${spot_usd_per_hour:g}/h vs on-demand ${on_demand_usd_per_hour:g}/h)"
    return SpotDecision("spot", f"auto: spot first{price}", checkpointing,
                        f"on interruption: {resume}; after {limit} interruptions or a capacity error, "
                        "finishes on on-demand")
