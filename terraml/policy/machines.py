"""Cloud-neutral decisions made from the spec and the catalog, shared by validation and the stacks.

Pure functions: spec objects and catalog rows in, plain results out.
"""

from __future__ import annotations

from dataclasses import dataclass

from terraml.catalog import Catalog, VmRow


class Unresolvable(ValueError):
    """The spec asks for a machine the catalog cannot provide; the message says why and the fix."""


@dataclass(frozen=True)
class Machine:
    instance_type: str
    accelerator: str | None
    gpus: float | None  # per node; None when the catalog does not know the type
    row: VmRow | None
    why: str


def resolve_machine(cloud: str, region: str, instance_type: str | None, accelerator: str | None,
                    count: int | None, catalog: Catalog) -> Machine:
    """The instance type a pool runs on: as named, or the cheapest type carrying the accelerator."""
    if instance_type:
        row = catalog.vm(cloud, region, instance_type)
        if row is None:
            return Machine(instance_type, None, None, None, "as named (not in the price catalog)")
        return Machine(instance_type, row.accelerator, row.accelerator_count, row, "as named")
    assert accelerator is not None
    wanted = count or 1
    row = catalog.cheapest(cloud, region, accelerator, wanted)
    if row is None:
        counts = sorted({r.accelerator_count for r in catalog.offers(cloud, region, accelerator)
                         if r.accelerator_count and r.accelerator_count >= 1})
        shown = ", ".join(f"{c:g}" for c in counts) or "none"
        raise Unresolvable(
            f"no {cloud} instance type in {region} has exactly {wanted} x {accelerator}; "
            f"counts offered there: {shown}. Set accelerator_count to one of them, or name an instance type."
        )
    price = f"${row.on_demand_usd_per_hour:g}/h on-demand"
    return Machine(row.instance_type, accelerator, row.accelerator_count, row,
                   f"cheapest with {wanted} x {accelerator} in {region} ({price})")


@dataclass(frozen=True)
class CapacityGroup:
    capacity: str  # "spot" | "on-demand"
    priority: int  # higher = the autoscaler tries it first
    max_price_usd_per_hour: float | None = None


@dataclass(frozen=True)
class CapacityPlan:
    groups: tuple[CapacityGroup, ...]
    why: str


def capacity_plan(mode: str, max_price_ratio: float | None, row: VmRow | None,
                  price_cap_enforced_by_cloud: bool) -> CapacityPlan:
    """Which node groups a pool becomes, and why.

    spot -> one spot group; on-demand -> one on-demand group; auto -> a spot group the autoscaler
    tries first plus an on-demand group it falls back to. With ``max_price_ratio``: clouds that cap
    the spot price themselves (Azure) get the cap; elsewhere the catalog's spot price decides at
    synth time, and an auto pool whose spot price is above the ratio is planned on-demand only.
    """
    cap = None
    if max_price_ratio is not None and row and row.on_demand_usd_per_hour:
        cap = round(row.on_demand_usd_per_hour * max_price_ratio, 5)
    if mode == "on-demand":
        return CapacityPlan((CapacityGroup("on-demand", 10),), "on-demand only")
    spot = CapacityGroup("spot", 50, cap if price_cap_enforced_by_cloud else None)
    if mode == "spot":
        return CapacityPlan((spot,), "spot only: never falls back to on-demand")
    if (max_price_ratio is not None and not price_cap_enforced_by_cloud and row
            and row.spot_usd_per_hour is not None and row.on_demand_usd_per_hour):
        ratio = row.spot_usd_per_hour / row.on_demand_usd_per_hour
        if ratio > max_price_ratio:
            return CapacityPlan(
                (CapacityGroup("on-demand", 10),),
                f"auto: catalog spot price is {ratio:.0%} of on-demand, above max_price_ratio "
                f"{max_price_ratio:.0%}, so on-demand only",
            )
    return CapacityPlan((spot, CapacityGroup("on-demand", 10)),
                        "auto: spot group preferred by the autoscaler, on-demand group as fallback")
