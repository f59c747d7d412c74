"""Job cost before submit (expected and worst case under the spot policy) and after (billed).

Pure functions. Billing runs at most max_runtime_hours per attempt (SageMaker's MaxRuntime caps all
attempts of one job together), so the worst case is bounded by the stopping conditions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobEstimate:
    expected_usd: float
    worst_usd: float
    explain: str


def job_estimate(*, mode: str, first_capacity: str, hours: float, instances: int, on_demand_usd_per_hour: float,
                 spot_usd_per_hour: float | None, price_note: str = "") -> JobEstimate:
    """Expected: the whole max runtime once, on the capacity the spot decision picked.
    Worst: spot and auto pay the spot runtime; auto may then redo it all on on-demand."""
    spot = spot_usd_per_hour if spot_usd_per_hour is not None else on_demand_usd_per_hour
    od_cost = hours * instances * on_demand_usd_per_hour
    spot_cost = hours * instances * spot
    expected = spot_cost if first_capacity == "spot" else od_cost
    if mode == "on-demand" or first_capacity == "on-demand":
        worst, how = od_cost, "worst: the full runtime on on-demand"
    elif mode == "spot":
        worst, how = spot_cost, "worst: the full runtime on spot (spot never falls back)"
    else:
        worst, how = spot_cost + od_cost, ("worst: the full runtime on spot, then all of it again on on-demand "
                                           "(auto fallback)")
    rate = f"${spot:g}/h spot" if first_capacity == "spot" else f"${on_demand_usd_per_hour:g}/h on-demand"
    text = f"expected: {hours:g} h x {instances} instance(s) x {rate}; {how}"
    return JobEstimate(round(expected, 2), round(worst, 2), f"{text}; {price_note}" if price_note else text)
