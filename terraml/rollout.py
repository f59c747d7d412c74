"""Canary rollouts that roll back by themselves: one watcher for every cloud whose serving service does not.

SageMaker rolls a blue/green deployment back on its own CloudWatch alarms. Vertex AI and Azure ML do not:
after a backend has split traffic (the new version takes the canary share), terraml watches the canary's
error rate and p99 latency and, on a breach of the spec's thresholds (``endpoints[].rollout``), sends all
traffic back to the previous version. With no breach for the bake time it promotes the canary to 100%.

The watcher knows nothing about a cloud: it reads samples from a ``MetricsSource`` and acts through a
``TrafficControl``; each backend provides both (its cloud's metrics API and traffic split). The clock and
sleep are injected so that tests can show the rollback comes within ``ROLLBACK_DEADLINE_S`` of a breach.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

ROLLBACK_DEADLINE_S = 120.0
"""A breach is acted on within this long: the poll interval is capped so that detection plus the traffic
switch fits inside it."""
MAX_INTERVAL_S = 60.0
MAX_BLIND_S = 60.0
"""A canary whose metrics cannot be read for this long is rolled back: an unobserved canary is not kept.
Backends bound each metrics call (a timeout) so that a hanging call counts as unreadable in time."""


@dataclass(frozen=True)
class Thresholds:
    """When a canary has failed (the spec's endpoints[].rollout)."""

    max_error_percent: float
    """Share of the canary's requests that failed (HTTP 5xx or the service's error count), in percent."""
    max_p99_latency_ms: float
    bake_minutes: float
    """How long the canary must stay healthy before it takes all traffic."""
    min_requests: int = 1
    """Samples with fewer canary requests than this say nothing about the error rate and are not judged
    on it (latency is judged whenever the source reports it)."""
    promote_min_requests: int = 1
    """The canary is promoted only after serving at least this many requests over the bake; with fewer,
    nothing says it is healthy, so the watch ends 'inconclusive' and the traffic split stays as it is."""


@dataclass(frozen=True)
class CanarySample:
    """The canary's health over the last sampling window."""

    requests: int
    error_percent: float | None = None
    p99_latency_ms: float | None = None


class MetricsSource(Protocol):
    def sample(self) -> CanarySample:
        """The canary version's metrics over the most recent window (a network call to the cloud's metrics
        API; fakes in tests)."""


class TrafficControl(Protocol):
    def rollback(self) -> None:
        """Send all traffic back to the version that served before the canary (and drop the canary)."""

    def promote(self) -> None:
        """Send all traffic to the canary."""


@dataclass(frozen=True)
class RolloutResult:
    outcome: str
    """'promoted', 'rolled back' or 'inconclusive' (too little traffic to judge: nothing changed)."""
    reason: str
    breach_at: float | None = None
    """Clock time of the sample that showed the breach."""
    acted_at: float | None = None
    """Clock time when the traffic switch returned."""
    samples: int = 0


def breach(sample: CanarySample, thresholds: Thresholds) -> str | None:
    """Why this sample fails the thresholds, or None when it does not. Pure."""
    if sample.error_percent is not None and sample.requests >= thresholds.min_requests \
            and sample.error_percent > thresholds.max_error_percent:
        return (f"canary error rate {sample.error_percent:.2f}% over {sample.requests} request(s) is above "
                f"max_error_percent {thresholds.max_error_percent:g}%")
    if sample.p99_latency_ms is not None and sample.p99_latency_ms > thresholds.max_p99_latency_ms:
        return (f"canary p99 latency {sample.p99_latency_ms:.0f} ms is above max_p99_latency_ms "
                f"{thresholds.max_p99_latency_ms:g} ms")
    return None


def watch(metrics: MetricsSource, traffic: TrafficControl, thresholds: Thresholds, *,
          interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep,
          on_sample: Callable[[CanarySample, str | None], None] | None = None) -> RolloutResult:
    """Sample every ``interval_s`` (at most MAX_INTERVAL_S) until the bake time has passed healthy (promote)
    or a sample breaches the thresholds (roll back at once). A window without canary requests judges latency
    only; the bake ends on a healthy sample, and promotes only when the canary served enough requests. Metrics
    that cannot be read for MAX_BLIND_S roll the canary back."""
    interval_s = min(max(interval_s, 0.0), MAX_INTERVAL_S)
    start = clock()
    bake_s = thresholds.bake_minutes * 60
    count = served = 0
    blind_since: float | None = None
    while True:
        try:
            sample = metrics.sample()
        except Exception as exc:  # noqa: BLE001 - any failure to observe the canary counts as not observed
            now = clock()
            blind_since = now if blind_since is None else blind_since
            if now - blind_since >= MAX_BLIND_S:
                why = (f"the canary's metrics could not be read for {now - blind_since:.0f} s ({exc}); an "
                       "unobserved canary is not kept")
                _switch(traffic.rollback, why)
                return RolloutResult("rolled back", why, breach_at=now, acted_at=clock(), samples=count)
            sleep(interval_s)
            continue
        blind_since = None
        count += 1
        served += sample.requests
        now = clock()
        why = breach(sample, thresholds)
        if on_sample:
            on_sample(sample, why)
        if why is not None:
            _switch(traffic.rollback, why)
            return RolloutResult("rolled back", why, breach_at=now, acted_at=clock(), samples=count)
        if now - start >= bake_s:
            if served < thresholds.promote_min_requests:
                needed = thresholds.promote_min_requests
                return RolloutResult("inconclusive", f"the canary served {served} request(s) in "
                                     f"{thresholds.bake_minutes:g} min, fewer than the {needed} needed to call it "
                                     "healthy (rollout.min_requests); the traffic split is left as it is",
                                     samples=count)
            traffic.promote()
            return RolloutResult("promoted", f"healthy for {thresholds.bake_minutes:g} min over {served} "
                                 "request(s)", acted_at=clock(), samples=count)
        sleep(min(interval_s, bake_s - (now - start)))


def _switch(action: Callable[[], None], why: str) -> None:
    """Move the traffic; a failure says plainly that the canary still serves (never a bare traceback)."""
    from terraml.errors import ProviderError, TerramlError

    try:
        action()
    except TerramlError as exc:
        raise ProviderError(f"rolling the canary back failed ({exc}) after: {why}. The canary still takes its share "
                            "of traffic: set the endpoint's traffic back to the previous version by hand.") from None
