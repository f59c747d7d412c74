"""What an estimate is made of: lines that each explain themselves, and the usage assumptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PRICED, FREE, UNPRICED = "priced", "free", "unpriced"
CURRENCY = "USD"
"""Every price row and every figure of an estimate is in US dollars (list prices)."""
OverrideName = Literal["storage_gb", "data_gb", "ingest_gb"]
"""Quantities a usage override may set: storage (buckets, registries, log groups), data processed (NAT) and
log data ingested (CloudWatch log groups)."""


class Usage(BaseModel):
    """Usage-based quantities an estimate cannot read from the stacks. Override them in a usage file
    (`--usage usage.yaml`); `terraml cost usage` prints every field with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)

    hours_per_month: float = Field(default=730, gt=0, le=744)
    """Hours a month is billed for (AWS, GCP and Azure all price monthly figures at 730)."""
    bucket_storage_gb: float = Field(default=500, ge=0)
    """Data kept in each artifact bucket (datasets, checkpoints, models)."""
    registry_storage_gb: float = Field(default=50, ge=0)
    """Images kept in each container registry."""
    nat_data_gb: float = Field(default=100, ge=0)
    """Data processed by each NAT gateway per month (S3 traffic bypasses it through the gateway endpoint)."""
    log_ingest_gb: float = Field(default=10, ge=0)
    """Log data ingested into each CloudWatch log group per month (EKS control-plane logs, VPC flow logs)."""
    log_storage_gb: float | None = Field(default=None, ge=0)
    """Log data kept in each CloudWatch log group. Default (None): the steady state of its retention, i.e.
    monthly ingestion x retention_in_days in months (an upper bound: CloudWatch bills the compressed size);
    a group that never expires is counted at 12 months of ingestion."""
    overrides: dict[str, dict[OverrideName, Annotated[float, Field(ge=0)]]] = {}
    """Per resource, by address 'stack:type.name' as `terraml cost report --format csv` lists it, e.g.
    {"vision-aws:aws_s3_bucket.artifacts_bucket_A41425E9": {"storage_gb": 2000}} (log groups take
    "ingest_gb" and "storage_gb", NAT gateways "data_gb"). An address that matches no
    resource is an error that lists the addresses there are."""

    def for_resource(self, address: str, name: str, default: float) -> float:
        return self.overrides.get(address, {}).get(name, default)

    @classmethod
    def template(cls) -> str:
        """A usage file with every field at its default, each preceded by what it means (YAML comments)."""
        out = ["# terraml usage assumptions (pass with --usage FILE); every value below is the default."]
        for name, info in cls.model_fields.items():
            doc = " ".join((info.description or "").split())
            default = info.default if name != "overrides" else {}
            value = "null" if default is None else "{}" if default == {} else f"{default:g}"
            out += ["", *(f"# {chunk}" for chunk in _wrap(doc)), f"{name}: {value}"]
        return "\n".join(out) + "\n"


def _wrap(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


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
    caveat: str | None = None
    """Doubt or age of the price row used; None: read from ``source`` and ``as_of`` (terraml.catalog.row_caveat)
    on the day the estimate is reported."""

    def caveat_on(self, today: date | None = None) -> str:
        """The price row's caveat (doubt, age in months) for this line's capacity, '' when none or unpriced."""
        if self.caveat is not None:
            return self.caveat
        if self.status != PRICED or not (self.source or self.as_of):
            return ""
        from terraml.catalog import row_caveat

        return row_caveat(self.source, self.as_of, today, self.capacity)

    def explain(self) -> str:
        if self.status != PRICED:
            return f"{self.status}: {self.reason}"
        qty = (f"{self.quantity_min:g}" if self.quantity_min == self.quantity_max
               else f"{self.quantity_min:g}-{self.quantity_max:g}")
        text = f"{qty} {self.unit} x ${self.unit_price:g} ({self.price_ref}, as of {self.as_of})"
        return f"{text}; {self.assumption}" if self.assumption else text

    def to_dict(self, today: date | None = None) -> dict:
        """The line for reports; ``caveat`` is the price row's caveat on ``today`` (default: the current date)."""
        data = asdict(self)
        data["monthly_min"] = float(self.monthly_min)
        data["monthly_max"] = float(self.monthly_max)
        data["explain"] = self.explain()
        data["caveat"] = self.caveat_on(today)
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

    def unpriced(self, team: str | None = None) -> list[Line]:
        return [line for line in self.lines if line.status == UNPRICED and (team is None or line.team == team)]


def not_priced(lines: list[Line]) -> dict:
    """What the totals leave out: the count of unpriced lines and how many share each reason (most first)."""
    reasons: dict[str, int] = {}
    for line in lines:
        if line.status == UNPRICED:
            reasons[line.reason] = reasons.get(line.reason, 0) + 1
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return {"count": sum(reasons.values()), "reasons": [{"reason": r, "count": n} for r, n in ordered]}
