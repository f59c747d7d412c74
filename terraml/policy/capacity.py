"""Which node groups a GPU pool becomes, and how they relate: one typed plan every cloud reads.

``auto`` means a spot group the cluster autoscaler tries first plus an on-demand group it falls back
to. The plan says, once, each group's capacity, autoscaler priority, minimum, name suffix and the
labels that mark it; the stacks name and label their node groups from it, build their autoscaler
priorities from it, and the pricers pair an auto pool's groups by the same labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from terraml.catalog import VmRow
    from terraml.spec.base import SpotMode

Capacity = Literal["spot", "on-demand"]

POOL_LABEL = "terraml.io/pool"
"""Node label naming the spec's pool; both groups of an auto pool carry the same value."""
CAPACITY_LABEL = "terraml.io/capacity"
"""Node label with the group's capacity ('spot' or 'on-demand')."""
ACCELERATOR_LABEL = "terraml.io/accelerator"
CATCH_ALL_PRIORITY = 1
"""Autoscaler priority of every group no tier names (the system pool)."""


@dataclass(frozen=True)
class GroupKind:
    capacity: Capacity
    priority: int
    """Higher = the autoscaler tries it first."""
    suffix: str
    """Ends the group's name ('<pool>-spot', '<pool>-ondemand'), which autoscaler tiers match."""


SPOT = GroupKind("spot", 50, "spot")
ON_DEMAND = GroupKind("on-demand", 10, "ondemand")
KINDS = (SPOT, ON_DEMAND)


@dataclass(frozen=True)
class CapacityGroup:
    kind: GroupKind
    min_nodes: int
    max_nodes: int
    fallback: bool = False
    """True for the on-demand half of an auto pool: it runs only when the spot group cannot."""
    max_price_usd_per_hour: float | None = None
    """Set only where the cloud enforces a spot price cap itself."""

    @property
    def capacity(self) -> Capacity:
        return self.kind.capacity

    @property
    def priority(self) -> int:
        return self.kind.priority

    @property
    def suffix(self) -> str:
        return self.kind.suffix


@dataclass(frozen=True)
class CapacityPlan:
    groups: tuple[CapacityGroup, ...]
    why: str


def capacity_plan(mode: SpotMode, max_price_ratio: float | None, row: VmRow | None, *, min_nodes: int,
                  max_nodes: int, price_cap_enforced_by_cloud: bool) -> CapacityPlan:
    """The node groups a pool becomes, and why.

    spot -> one spot group; on-demand -> one on-demand group; auto -> a spot group the autoscaler
    tries first plus an on-demand fallback group with no minimum of its own. With ``max_price_ratio``:
    clouds that cap the spot price themselves (Azure) get the cap; elsewhere the catalog's spot price
    decides at synth time, and an auto pool whose spot price is above the ratio is planned on-demand only.
    """
    cap = None
    if max_price_ratio is not None and row and row.on_demand_usd_per_hour:
        cap = round(row.on_demand_usd_per_hour * max_price_ratio, 5)
    on_demand = CapacityGroup(ON_DEMAND, min_nodes, max_nodes)
    if mode == "on-demand":
        return CapacityPlan((on_demand,), "on-demand only")
    spot = CapacityGroup(SPOT, min_nodes, max_nodes, max_price_usd_per_hour=cap if price_cap_enforced_by_cloud
                         else None)
    if mode == "spot":
        return CapacityPlan((spot,), "spot only: never falls back to on-demand")
    if (max_price_ratio is not None and not price_cap_enforced_by_cloud and row
            and row.spot_usd_per_hour is not None and row.on_demand_usd_per_hour):
        ratio = row.spot_usd_per_hour / row.on_demand_usd_per_hour
        if ratio > max_price_ratio:
            return CapacityPlan(
                (on_demand,),
                f"auto: catalog spot price is {ratio:.0%} of on-demand, above max_price_ratio "
                f"{max_price_ratio:.0%}, so on-demand only",
            )
    fallback = CapacityGroup(ON_DEMAND, 0, max_nodes, fallback=True)
    return CapacityPlan((spot, fallback), "auto: spot group preferred by the autoscaler, on-demand group as fallback")


def autoscaler_priorities(pattern: str) -> dict[int, list[str]]:
    """The cluster autoscaler's priority-expander tiers: each kind's priority -> the pattern of its
    groups' names (``pattern`` has one '{suffix}' slot, in the cloud's own naming), plus a catch-all."""
    tiers = {kind.priority: [pattern.format(suffix=kind.suffix)] for kind in KINDS}
    return {**tiers, CATCH_ALL_PRIORITY: [".*"]}
