"""What an estimate is made of: lines that each explain themselves, and the usage assumptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PRICED, FREE, UNPRICED = "priced", "free", "unpriced"
OverrideName = Literal["storage_gb", "data_gb"]
"""Quantities a usage override may set: storage (buckets, registries) and data processed (NAT)."""


class Usage(BaseModel):
    """Usage-based quantities an estimate cannot read from the stacks. Override them in a usage file."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    hours_per_month: float = Field(default=730, gt=0, le=744)
    """Hours a month is billed for (AWS, GCP and Azure all price monthly figures at 730)."""
    bucket_storage_gb: float = Field(default=500, ge=0)
    """Data kept in each artifact bucket (datasets, checkpoints, models)."""
    registry_storage_gb: float = Field(default=50, ge=0)
    """Images kept in each container registry."""
    nat_data_gb: float = Field(default=100, ge=0)
    """Data processed by each NAT gateway per month (S3 traffic bypasses it through the gateway endpoint)."""
    overrides: dict[str, dict[OverrideName, Annotated[float, Field(ge=0)]]] = {}
    """Per resource, by address 'stack:type.name' as `terraml cost report --format csv` lists it, e.g.
    {"vision-aws:aws_s3_bucket.artifacts_bucket_A41425E9": {"storage_gb": 2000}}. An address that matches no
    resource is an error that lists the addresses there are."""

    def for_resource(self, address: str, name: str, default: float) -> float:
        return self.overrides.get(address, {}).get(name, default)


@dataclass(slots=True)  # not frozen: frozen dataclasses pay a setattr per field, and estimates make 10,000s
class Line:
    stack: str
    team: str
    cloud: str
    region: str
    address: str  # "type.name" as in the Terraform JSON
    resource_type: str
    component: str  # what is charged: "nodes", "control plane", "storage", ...
    status: str  # priced | free | unpriced
    monthly_min: Decimal = Decimal(0)
    monthly_max: Decimal = Decimal(0)
    quantity_min: float | None = None
    quantity_max: float | None = None
    unit: str = ""
    unit_price: float | None = None
    capacity: str | None = None  # spot | on-demand, for compute
    price_ref: str = ""  # which price row: "vm_prices.csv aws us-east-1 g5.2xlarge spot"
    source: str = ""
    as_of: str = ""
    assumption: str = ""
    reason: str = ""  # why free or unpriced

    def explain(self) -> str:
        if self.status != PRICED:
            return f"{self.status}: {self.reason}"
        qty = (f"{self.quantity_min:g}" if self.quantity_min == self.quantity_max
               else f"{self.quantity_min:g}-{self.quantity_max:g}")
        text = f"{qty} {self.unit} x ${self.unit_price:g} ({self.price_ref}, as of {self.as_of})"
        return f"{text}; {self.assumption}" if self.assumption else text

    def to_dict(self) -> dict:
        data = asdict(self)
        data["monthly_min"] = float(self.monthly_min)
        data["monthly_max"] = float(self.monthly_max)
        data["explain"] = self.explain()
        return data


@dataclass
class Estimate:
    lines: list[Line] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)
    source_dir: Path | None = None

    def priced(self) -> list[Line]:
        return [line for line in self.lines if line.status == PRICED]

    def total(self, team: str | None = None, cloud: str | None = None) -> tuple[Decimal, Decimal]:
        """Monthly (min, max) of the priced lines, optionally of one team and/or one cloud."""
        rows = [line for line in self.priced()
                if (team is None or line.team == team) and (cloud is None or line.cloud == cloud)]
        return sum((r.monthly_min for r in rows), Decimal(0)), sum((r.monthly_max for r in rows), Decimal(0))

    def teams(self) -> list[str]:
        return sorted({line.team for line in self.lines})
