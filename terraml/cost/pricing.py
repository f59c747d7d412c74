"""What every pricer gets, and the helpers that turn prices and quantities into explained lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from terraml.catalog import Catalog, FixedFee, VmRow
from terraml.cost.model import FREE, PRICED, UNPRICED, Line, Usage
from terraml.cost.tfjson import StackDoc


@dataclass(slots=True)
class ResourceToPrice:
    stack: StackDoc
    rtype: str
    name: str
    block: dict
    team: str
    cloud: str
    region: str
    catalog: Catalog
    usage: Usage
    today: date = field(default_factory=date.today)
    """The day prices that depend on dates are read for (EKS support tiers); injected by tests."""

    @property
    def address(self) -> str:
        return f"{self.rtype}.{self.name}"

    @property
    def usage_key(self) -> str:
        return f"{self.stack.name}:{self.address}"

    # An estimate makes a line for every resource: Line's leading fields (who and what) are passed by position
    # and the priced ones built in one call, without a second round of keyword arguments.
    def line(self, component: str, status: str, **fields) -> Line:
        return Line(self.stack.name, self.team, self.cloud, self.region, f"{self.rtype}.{self.name}", self.rtype,
                    component, status, **fields)

    def free(self, reason: str, component: str = "resource") -> list[Line]:
        return [Line(self.stack.name, self.team, self.cloud, self.region, f"{self.rtype}.{self.name}", self.rtype,
                     component, FREE, reason=reason)]

    def unpriced(self, reason: str, component: str = "resource") -> list[Line]:
        return [Line(self.stack.name, self.team, self.cloud, self.region, f"{self.rtype}.{self.name}", self.rtype,
                     component, UNPRICED, reason=reason)]

    def money(self, quantity: float, price: float) -> Decimal:
        if quantity and price and type(quantity) in _EXACT and type(price) in _EXACT:
            return _money(quantity, price)
        return Decimal(str(quantity)) * Decimal(str(price))

    def hourly(self, component: str, count_min: float, count_max: float, price: float, price_ref: str,
               source: str, as_of: str, capacity: str | None = None, assumption: str = "",
               unit: str = "node-hours") -> Line:
        """count x hours_per_month x $/hour."""
        hours = self.usage.hours_per_month
        low, high = count_min * hours, count_max * hours
        return Line(self.stack.name, self.team, self.cloud, self.region, f"{self.rtype}.{self.name}", self.rtype,
                    component, PRICED, monthly_min=self.money(low, price), monthly_max=self.money(high, price),
                    quantity_min=low, quantity_max=high, unit=unit, unit_price=price, capacity=capacity,
                    price_ref=price_ref, source=source, as_of=as_of, assumption=assumption)

    def fee_line(self, component: str, fee: FixedFee, quantity: float, unit: str, assumption: str = "",
                 quantity_max: float | None = None) -> Line:
        """quantity x a fixed_fees.csv row; ``quantity_max`` when the quantity scales (e.g. disks per node)."""
        high = quantity if quantity_max is None else quantity_max
        note = assumption
        if not _covers(fee.region, self.region):
            note = "; ".join(x for x in (note, f"the price row is for {fee.region}, applied to {self.region}") if x)
        return Line(self.stack.name, self.team, self.cloud, self.region, f"{self.rtype}.{self.name}", self.rtype,
                    component, PRICED, monthly_min=self.money(quantity, fee.usd),
                    monthly_max=self.money(high, fee.usd), quantity_min=quantity, quantity_max=high, unit=unit,
                    unit_price=fee.usd, price_ref=f"fixed_fees.csv {fee.key}", source=fee.source, as_of=fee.as_of,
                    assumption=note)

    def fee(self, key: str, component: str, quantity: float, unit: str, assumption: str = "",
            quantity_max: float | None = None, what: str = "") -> list[Line]:
        """A fixed_fees.csv row times a quantity; a missing row makes the line unpriced, never $0."""
        fee = self.catalog.fee(key)
        if fee is None:
            return self.unpriced(f"no '{key}' row in fixed_fees.csv" + (f" ({what})" if what else ""), component)
        return [self.fee_line(component, fee, quantity, unit, assumption, quantity_max)]

    def storage(self, key: str, component: str, usage_field: str, described: str, extra: str = "") -> list[Line]:
        """GB from the usage assumptions (or this resource's override) x a per-GB-month fee."""
        gb = self.usage.for_resource(self.usage_key, "storage_gb", getattr(self.usage, usage_field))
        note = f"assumes {gb:g} GB {described} (usage: {usage_field})" + (f"; {extra}" if extra else "")
        return self.fee(key, component, gb, "GB-months", note)

    def nodes(self, component: str, instance_type: str, count_min: float, count_max: float, spot: bool,
              assumption: str = "", max_price: float | None = None) -> list[Line]:
        """A group of VMs at min and max size, at the spot price when the group is spot."""
        row: VmRow | None = self.catalog.vm(self.cloud, self.region, instance_type)
        if row is None:
            return self.unpriced(f"no price for {instance_type} in {self.region} in vm_prices.csv", component)
        notes = [assumption] if assumption else []
        capacity, price = ("spot", row.spot_usd_per_hour) if spot else ("on-demand", row.on_demand_usd_per_hour)
        if spot and price is None:
            capacity, price = "spot", row.on_demand_usd_per_hour
            notes.append("no spot price in the catalog: priced at on-demand")
        if price is None:
            return self.unpriced(f"no {capacity} price for {instance_type} in {self.region}", component)
        if spot and max_price is not None and 0 <= max_price < price:
            notes.append(f"capped by the pool's max spot price ${max_price:g}/h")
            price = max_price
        ref = f"vm_prices.csv {self.cloud} {self.region} {instance_type} {capacity.replace('-', '')}"
        return [self.hourly(component, count_min, count_max, price, ref, row.source, row.as_of, capacity,
                            "; ".join(notes))]


_EXACT = (int, float)
"""Quantities and prices whose equal values print alike (Decimal(2) and Decimal('2.0') do not): those are cached."""


@lru_cache(maxsize=4096, typed=True)
def _money(quantity: float, price: float) -> Decimal:
    """quantity x price, exactly as written (the Decimal of each one's str). An estimate has few distinct pairs, so
    cached; ``typed``: 730 and 730.0 print differently. Zeros (0.0 == -0.0) are never cached."""
    return Decimal(str(quantity)) * Decimal(str(price))


def fee_covers(fee: FixedFee, region: str) -> bool:
    return _covers(fee.region, region)


@lru_cache(maxsize=1024)
def _covers(where: str, region: str) -> bool:
    where = where.lower()
    return where.startswith("all") or region in where or (where.startswith("us regions") and region.startswith("us"))


Pricer = Callable[[ResourceToPrice], list[Line]]


class OneLine:
    """A pricer whose one line is the same for every resource of its type but for the resource's own fields:
    a free or an unpriced type (most of a stack). ``estimate`` makes that line itself, without a ResourceToPrice."""

    __slots__ = ("status", "reason")

    def __init__(self, status: str, reason: str):
        self.status, self.reason = status, reason

    def __call__(self, r: ResourceToPrice) -> list[Line]:
        return [r.line("resource", self.status, reason=self.reason)]


def free_because(reason: str) -> Pricer:
    """A pricer for resource types the cloud does not charge for."""
    return OneLine(FREE, reason)


def no_price_row(what: str) -> Pricer:
    """A pricer for charged resource types the catalog cannot price yet: listed, never $0."""
    return OneLine(UNPRICED, f"{what}: no price row in the catalog")
