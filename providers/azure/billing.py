"""Actual spend from Azure Cost Management: one query per subscription of the team's azure block, the month's
ActualCost grouped by the team tag (TagKey grouping, filtered to the team's value).

Cost Management reports in the billing account's currency. terraml's budgets (budget.monthly_usd) and job
ledger are in USD, so ``spend()`` refuses any other currency (ProviderError naming it: the submit guardrail then
warns and counts the ledger only) rather than adding, say, euros to dollars; spend in more than one currency is
refused rather than summed. ``query()`` still reports what Cost Management said, with its currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.costmanagement import CostManagementClient
from azure.mgmt.costmanagement.models import (
    QueryAggregation,
    QueryComparisonExpression,
    QueryDataset,
    QueryDefinition,
    QueryFilter,
    QueryGrouping,
    QueryTimePeriod,
)

from terraml.errors import CredentialsError, ProviderError


def month_period(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The month 'YYYY-MM' as Cost Management's custom time period: its first second to its last (inclusive)."""
    start = dt.datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
    following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, following - dt.timedelta(seconds=1)


def subscriptions_of(platform, team: str) -> list[str]:
    """The Cost Management scopes of a team: the subscription of its azure block ('/subscriptions/<id>')."""
    found = platform.team(team)
    block = found.clouds.azure if found is not None else None
    return [f"/subscriptions/{block.subscription_id}"] if block is not None else []


@dataclass(frozen=True)
class Spend:
    amount: Decimal
    currency: str | None
    """None when no cost was reported (nothing tagged with the team this month)."""
    note: str


class CostManagementSpend:
    """``spend(team, month)`` -> (amount, note) over ``scopes``. ``client_factory`` makes the Cost Management
    client (tests pass one built on a fake transport)."""

    def __init__(self, scopes: Sequence[str], client_factory: Callable[[], CostManagementClient] | None = None,
                 tag_key: str = "team", cost_column: str = "PreTaxCost"):
        """``cost_column``: the ActualCost column summed, as Microsoft's subscription-scope query examples name it;
        Microsoft Customer Agreement billing accounts also offer 'Cost'."""
        if not scopes:
            raise ProviderError("Cost Management needs a scope: the team has no clouds.azure.subscription_id")
        self.scopes = list(scopes)
        self.client_factory = client_factory or self._default_client
        self.tag_key = tag_key
        self.cost_column = cost_column

    @staticmethod
    def _default_client() -> CostManagementClient:
        from azure.identity import DefaultAzureCredential

        return CostManagementClient(DefaultAzureCredential())

    def definition(self, team: str, month: str) -> QueryDefinition:
        start, end = month_period(month)
        return QueryDefinition(
            type="ActualCost", timeframe="Custom", time_period=QueryTimePeriod(from_property=start, to=end),
            dataset=QueryDataset(
                aggregation={"totalCost": QueryAggregation(name=self.cost_column, function="Sum")},
                grouping=[QueryGrouping(type="TagKey", name=self.tag_key)],
                filter=QueryFilter(tags=QueryComparisonExpression(name=self.tag_key, operator="In",
                                                                  values_property=[team]))))

    def query(self, team: str, month: str) -> Spend:
        client = self.client_factory()
        totals: dict[str, Decimal] = {}
        for scope in self.scopes:
            try:
                result = client.query.usage(scope, self.definition(team, month))
            except ClientAuthenticationError as exc:
                raise CredentialsError(f"Cost Management needs Azure credentials (az login, or a service "
                                       f"principal in AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET): "
                                       f"{exc.message}") from None
            except HttpResponseError as exc:
                raise ProviderError(f"Cost Management query on {scope}: {exc.message}") from None
            props = result.properties
            names = [c.name.lower() for c in (props.columns or [])] if props else []
            for row in (props.rows or []) if props else []:
                cell = dict(zip(names, row, strict=False))
                if str(cell.get("tagkey", "")).lower() != self.tag_key.lower() or cell.get("tagvalue") != team:
                    continue
                currency = str(cell.get("currency") or "")
                cost = cell.get(self.cost_column.lower(), cell.get("totalcost", 0))
                totals[currency] = totals.get(currency, Decimal(0)) + Decimal(str(cost))
        if len(totals) > 1:
            raise ProviderError(f"Cost Management reported {team}'s spend in several currencies "
                                f"({', '.join(sorted(totals))}); terraml does not convert between them")
        currency, amount = next(iter(totals.items()), (None, Decimal(0)))
        where = ", ".join(self.scopes)
        return Spend(amount, currency, f"Cost Management ActualCost in {currency or 'no cost reported'}, tag "
                                       f"{self.tag_key}={team}, {where}")

    def spend(self, team: str, month: str) -> tuple[Decimal, str]:
        """The team's month in USD, with a note; ProviderError when Cost Management bills in another currency."""
        found = self.query(team, month)
        if found.currency is not None and found.currency.upper() != "USD":
            raise ProviderError(f"Cost Management reported {team}'s {month} spend as {found.amount} {found.currency}, "
                                f"not USD: terraml budgets are in USD (budget.monthly_usd); convert the amount "
                                f"yourself (Cost Management's currency is the billing account's, {found.currency})")
        return found.amount, found.note
