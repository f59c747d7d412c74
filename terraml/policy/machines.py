"""Which machine a pool or job runs on: as named, or the cheapest one carrying the accelerator.

Pure functions: spec values and catalog rows in, plain results out.
"""

from __future__ import annotations

from collections.abc import Callable
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
                    count: int | None, catalog: Catalog, allowed: Callable[[str], bool] | None = None) -> Machine:
    """The instance type a pool or job runs on: as named, or the cheapest type carrying the accelerator.

    ``allowed`` narrows the pick to types a service offers (SageMaker trains on a subset of EC2's types).
    """
    if instance_type:
        row = catalog.vm(cloud, region, instance_type)
        if row is None:
            return Machine(instance_type, None, None, None, "as named (not in the price catalog)")
        return Machine(instance_type, row.accelerator, row.accelerator_count, row, "as named")
    assert accelerator is not None
    wanted = count or 1
    row = catalog.cheapest(cloud, region, accelerator, wanted, allowed)
    if row is None:
        counts = sorted({r.accelerator_count for r in catalog.offers(cloud, region, accelerator)
                         if r.accelerator_count and r.accelerator_count >= 1
                         and (allowed is None or allowed(r.instance_type))})
        shown = ", ".join(f"{c:g}" for c in counts) or "none"
        raise Unresolvable(
            f"no {cloud} instance type in {region} has exactly {wanted} x {accelerator}; "
            f"counts offered there: {shown}. Set accelerator_count to one of them, or name an instance type."
        )
    price = f"${row.on_demand_usd_per_hour:g}/h on-demand"
    return Machine(row.instance_type, accelerator, row.accelerator_count, row,
                   f"cheapest with {wanted} x {accelerator} in {region} ({price})")
