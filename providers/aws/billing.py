"""Actual spend from AWS Cost Explorer, grouped by the team's cost-allocation tag."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

from terraml.errors import CredentialsError, ProviderError


def month_bounds(month: str) -> tuple[str, str]:
    start = dt.date.fromisoformat(f"{month}-01")
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.isoformat(), end.isoformat()


class CostExplorerSpend:
    """``spend(team, month)`` -> (USD, note). Cost Explorer is a global API served from us-east-1."""

    def __init__(self, client_factory: Callable[[], object] | None = None, tag_key: str = "team"):
        self.client_factory = client_factory or (lambda: boto3.client("ce", region_name="us-east-1"))
        self.tag_key = tag_key

    def request(self, team: str, month: str) -> dict:
        start, end = month_bounds(month)
        return {"TimePeriod": {"Start": start, "End": end}, "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"],
                "Filter": {"Tags": {"Key": self.tag_key, "Values": [team], "MatchOptions": ["EQUALS"]}},
                "GroupBy": [{"Type": "TAG", "Key": self.tag_key}]}

    def spend(self, team: str, month: str) -> tuple[Decimal, str]:
        try:
            response = self.client_factory().get_cost_and_usage(**self.request(team, month))
        except NoCredentialsError:
            raise CredentialsError("Cost Explorer needs AWS credentials (AWS_PROFILE or access keys).") from None
        except ClientError as exc:
            raise ProviderError(f"Cost Explorer GetCostAndUsage: {exc}") from None
        total = Decimal(0)
        wanted = f"{self.tag_key}${team}"
        for period in response.get("ResultsByTime", []):
            groups = period.get("Groups")
            if groups:
                total += sum((Decimal(g["Metrics"]["UnblendedCost"]["Amount"]) for g in groups
                              if wanted in g.get("Keys", [])), Decimal(0))
            else:
                total += Decimal(period.get("Total", {}).get("UnblendedCost", {}).get("Amount", "0"))
        return total, f"Cost Explorer, UnblendedCost, tag {wanted}"
