"""terraml's rollout watcher (terraml.rollout.watch), pure: a fake metrics source, a recording traffic control
and an injected clock. A breach is acted on within ROLLBACK_DEADLINE_S of the moment it happens."""

from __future__ import annotations

from terraml.rollout import MAX_INTERVAL_S, ROLLBACK_DEADLINE_S, CanarySample, Thresholds, breach, watch

T = Thresholds(max_error_percent=1.0, max_p99_latency_ms=500, bake_minutes=10)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.now += s


class Traffic:
    def __init__(self, clock, switch_s=5.0):
        self.clock, self.switch_s, self.calls = clock, switch_s, []

    def rollback(self):
        self.clock.now += self.switch_s  # the traffic switch itself takes a moment
        self.calls.append(("rollback", self.clock.now))

    def promote(self):
        self.calls.append(("promote", self.clock.now))


class Source:
    """The canary turns bad at ``bad_from`` (clock seconds): each sample reports the window just ended."""

    def __init__(self, clock, bad_from=None, bad=CanarySample(200, error_percent=7.5, p99_latency_ms=90)):
        self.clock, self.bad_from, self.bad, self.times = clock, bad_from, bad, []

    def sample(self):
        self.times.append(self.clock.now)
        if self.bad_from is not None and self.clock.now >= self.bad_from:
            return self.bad
        return CanarySample(200, error_percent=0.5, p99_latency_ms=90)


def test_a_breach_is_rolled_back_within_the_deadline_of_when_it_began():
    for bad_from in (1.0, 59.0, 61.0, 299.0, 301.0):
        clock = Clock()
        traffic = Traffic(clock)
        result = watch(Source(clock, bad_from), traffic, T, interval_s=30, clock=clock, sleep=clock.sleep)
        assert result.outcome == "rolled back" and "7.50%" in result.reason
        assert traffic.calls == [("rollback", result.acted_at)]
        assert result.acted_at - bad_from <= ROLLBACK_DEADLINE_S, bad_from


def test_a_long_interval_is_capped_so_the_deadline_still_holds():
    clock = Clock()
    source = Source(clock, bad_from=0.5)
    result = watch(source, Traffic(clock), T, interval_s=3600, clock=clock, sleep=clock.sleep)
    assert source.times[1] - source.times[0] == MAX_INTERVAL_S
    assert result.acted_at - 0.5 <= ROLLBACK_DEADLINE_S


def test_latency_alone_breaches():
    clock = Clock()
    source = Source(clock, bad_from=120, bad=CanarySample(0, p99_latency_ms=900))
    result = watch(source, Traffic(clock), T, interval_s=30, clock=clock, sleep=clock.sleep)
    assert result.outcome == "rolled back" and "900 ms" in result.reason


def test_a_healthy_canary_is_promoted_after_the_bake_and_never_rolled_back():
    clock = Clock()
    traffic = Traffic(clock)
    result = watch(Source(clock), traffic, T, interval_s=30, clock=clock, sleep=clock.sleep)
    assert result.outcome == "promoted" and traffic.calls == [("promote", 600.0)]
    assert result.samples == 21  # at 0, 30, ..., 600 s


def test_too_few_requests_say_nothing_about_the_error_rate():
    quiet = Thresholds(1.0, 500, 10, min_requests=20)
    assert breach(CanarySample(3, error_percent=66.7), quiet) is None
    assert "66.70%" in breach(CanarySample(30, error_percent=66.7), quiet)
    assert breach(CanarySample(30, error_percent=1.0), quiet) is None  # at the threshold is not above it


class Flaky:
    """Metrics that cannot be read from ``down_from`` on (the metrics API fails or times out)."""

    def __init__(self, clock, down_from):
        self.clock, self.down_from = clock, down_from

    def sample(self):
        if self.clock.now >= self.down_from:
            raise TimeoutError("monitoring API timed out")
        return CanarySample(200, error_percent=0.1, p99_latency_ms=90)


def test_a_canary_whose_metrics_cannot_be_read_is_rolled_back_within_the_deadline():
    from terraml.rollout import MAX_BLIND_S

    clock = Clock()
    traffic = Traffic(clock)
    result = watch(Flaky(clock, down_from=100), traffic, T, interval_s=30, clock=clock, sleep=clock.sleep)
    assert result.outcome == "rolled back" and "could not be read" in result.reason and "timed out" in result.reason
    # the first unreadable sample is at 120 s (the one at 90 s still read); blind for MAX_BLIND_S, then acted
    assert result.breach_at - 120 >= MAX_BLIND_S and result.acted_at - 100 <= ROLLBACK_DEADLINE_S
    assert [c[0] for c in traffic.calls] == ["rollback"]


def test_a_canary_without_enough_traffic_is_neither_promoted_nor_rolled_back():
    clock = Clock()
    traffic = Traffic(clock)
    quiet = Thresholds(1.0, 500, 10, promote_min_requests=50)
    source = Source(clock, bad_from=0, bad=CanarySample(2, error_percent=0.0, p99_latency_ms=90))
    result = watch(source, traffic, quiet, interval_s=60, clock=clock, sleep=clock.sleep)
    assert result.outcome == "inconclusive" and "served 22 request(s)" in result.reason  # 11 samples x 2
    assert traffic.calls == []


def test_a_failed_rollback_says_the_canary_still_serves():
    import pytest

    from terraml.errors import ProviderError

    class Broken(Traffic):
        def rollback(self):
            raise ProviderError("UpdateEndpoint: previous model 1003 not found")

    clock = Clock()
    with pytest.raises(ProviderError, match="still takes its share of traffic") as info:
        watch(Source(clock, bad_from=0), Broken(clock), T, interval_s=30, clock=clock, sleep=clock.sleep)
    assert "previous model 1003 not found" in str(info.value)
