"""Where actual spend comes from, per cloud: one small interface, one source per cloud."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class SpendSource(Protocol):
    def spend(self, team: str, month: str) -> tuple[Decimal | None, str]: ...


class NotYet:
    def __init__(self, why: str):
        self.why = why

    def spend(self, team: str, month: str) -> tuple[Decimal | None, str]:
        return None, self.why


def spend_source(cloud: str) -> SpendSource:
    if cloud == "aws":
        from terraml.providers.aws.billing import CostExplorerSpend

        return CostExplorerSpend()
    return {"gcp": NotYet("not built yet: the GCP source reads the Cloud Billing export in BigQuery"),
            "azure": NotYet("not built yet: the Azure source runs a Cost Management query")}[cloud]
