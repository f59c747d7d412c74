"""`cost actual` for Azure: azure-mgmt-costmanagement's real client over an injected azure-core RequestsTransport whose
requests adapter records each request and answers with canned Cost Management JSON (no network, no account).

The canned answers follow the Query API's shape: properties.columns (the summed cost column, TagKey, TagValue,
Currency) and properties.rows.
"""

from __future__ import annotations

import io
import json
import time
from decimal import Decimal

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.costmanagement import CostManagementClient

from terraml.errors import CredentialsError, ProviderError
from terraml.providers.azure.billing import CostManagementSpend, month_period, subscriptions_of

SUB_A = "/subscriptions/00000000-0000-0000-0000-000000000000"
SUB_B = "/subscriptions/11111111-1111-1111-1111-111111111111"
COLUMNS = [{"name": "PreTaxCost", "type": "Number"}, {"name": "TagKey", "type": "String"},
           {"name": "TagValue", "type": "String"}, {"name": "Currency", "type": "String"}]


class StubCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("fake-token", int(time.time()) + 3600)


class CannedAdapter(requests.adapters.BaseAdapter):
    """Answers each POST .../providers/Microsoft.CostManagement/query with the rows of its scope."""

    def __init__(self, rows_by_scope: dict[str, list], status: int = 200, error: dict | None = None):
        super().__init__()
        self.rows_by_scope, self.status, self.error = rows_by_scope, status, error
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.seen.append(request)
        scope = request.path_url.split("/providers/Microsoft.CostManagement/query")[0]
        body = self.error if self.error else {
            "id": f"{scope}/providers/Microsoft.CostManagement/query/x", "name": "x",
            "type": "Microsoft.CostManagement/query",
            "properties": {"nextLink": None, "columns": COLUMNS, "rows": self.rows_by_scope.get(scope, [])}}
        data = json.dumps(body).encode()
        response = requests.Response()
        response.status_code = self.status
        response.headers["Content-Type"] = "application/json"
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(data), status=self.status, preload_content=False,
                                            headers={"Content-Type": "application/json",
                                                     "Content-Length": str(len(data))})
        response.request, response.url = request, request.url
        return response

    def close(self):
        pass


def spend_source(adapter: CannedAdapter, scopes=(SUB_A,)) -> CostManagementSpend:
    session = requests.Session()
    session.mount("https://", adapter)
    factory = lambda: CostManagementClient(  # noqa: E731 - the factory the class takes
        StubCredential(), transport=RequestsTransport(session=session, session_owner=False), retry_total=0)
    return CostManagementSpend(list(scopes), client_factory=factory)


def test_spend_sums_the_team_tag_rows_and_sends_the_month_grouped_by_the_tag():
    adapter = CannedAdapter({SUB_A: [[1234.5, "team", "nlp", "USD"], [0.25, "team", "nlp", "USD"],
                                     [99.0, "team", "vision", "USD"]],
                             SUB_B: [[765.25, "Team", "nlp", "USD"]]})
    amount, note = spend_source(adapter, (SUB_A, SUB_B)).spend("nlp", "2026-02")
    # nlp: 1234.5 + 0.25 in the first subscription, 765.25 in the second ("Team": tag names are case-insensitive);
    # vision's 99.0 is not the team's.
    assert amount == Decimal("1234.5") + Decimal("0.25") + Decimal("765.25") == Decimal("2000.00")
    assert note == f"Cost Management ActualCost in USD, tag team=nlp, {SUB_A}, {SUB_B}"
    assert [r.method for r in adapter.seen] == ["POST", "POST"]
    assert [r.path_url.split("?")[0] for r in adapter.seen] == [
        f"{SUB_A}/providers/Microsoft.CostManagement/query", f"{SUB_B}/providers/Microsoft.CostManagement/query"]
    assert all(r.url.startswith("https://management.azure.com/") and "api-version=" in r.url for r in adapter.seen)
    assert adapter.seen[0].headers["Authorization"] == "Bearer fake-token"
    body = json.loads(adapter.seen[0].body)
    assert body == {
        "type": "ActualCost", "timeframe": "Custom",
        # February 2026 has 28 days: its first second to its last, inclusive.
        "timePeriod": {"from": "2026-02-01T00:00:00Z", "to": "2026-02-28T23:59:59Z"},
        "dataset": {"aggregation": {"totalCost": {"name": "PreTaxCost", "function": "Sum"}},
                    "grouping": [{"type": "TagKey", "name": "team"}],
                    "filter": {"tags": {"name": "team", "operator": "In", "values": ["nlp"]}}}}


def test_no_rows_is_zero_spend():
    amount, note = spend_source(CannedAdapter({})).spend("nlp", "2026-11")
    assert amount == Decimal(0) and "no cost reported" in note


def test_spend_in_two_currencies_is_refused_not_summed():
    adapter = CannedAdapter({SUB_A: [[10, "team", "nlp", "EUR"], [5, "team", "nlp", "USD"]]})
    with pytest.raises(ProviderError, match=r"several currencies \(EUR, USD\)"):
        spend_source(adapter).spend("nlp", "2026-11")


def test_a_billing_currency_other_than_usd_is_refused_naming_it():
    source = spend_source(CannedAdapter({SUB_A: [[80.5, "team", "nlp", "EUR"]]}))
    with pytest.raises(ProviderError, match=r"80\.5 EUR, not USD: terraml budgets are in USD.*convert"):
        source.spend("nlp", "2026-11")
    found = source.query("nlp", "2026-11")  # what Cost Management said, unconverted
    assert found.amount == Decimal("80.5") and found.currency == "EUR"


def test_usd_spend_is_returned():
    amount, note = spend_source(CannedAdapter({SUB_A: [[12.25, "team", "nlp", "USD"]]})).spend("nlp", "2026-11")
    assert amount == Decimal("12.25") and note.startswith("Cost Management ActualCost in USD")


def test_the_budget_guardrail_counts_only_the_ledger_when_the_bill_is_not_in_usd(tmp_path):
    from terraml.guardrails import month_to_date
    from terraml.spec import load_platform

    from ..conftest import EXAMPLE

    team = load_platform(str(EXAMPLE)).platform.team("nlp")
    source = spend_source(CannedAdapter({SUB_A: [[80.5, "team", "nlp", "EUR"]]}))
    spend = month_to_date(tmp_path, team, "azure", now=time.mktime((2026, 11, 15, 0, 0, 0, 0, 0, 0)),
                          spend_of=lambda cloud, t, month: source.spend(t, month))
    assert spend.total == Decimal(0)  # not 80.5 euros counted as dollars
    assert any("EUR" in w and "counts the job ledger only" in w for w in spend.warnings), spend.warnings


def test_api_errors_name_the_scope_and_auth_errors_ask_for_credentials():
    error = {"error": {"code": "BadRequest", "message": "Invalid query definition"}}
    with pytest.raises(ProviderError, match=f"Cost Management query on {SUB_A}: .*Invalid query definition"):
        spend_source(CannedAdapter({}, status=400, error=error)).spend("nlp", "2026-11")
    denied = {"error": {"code": "AuthenticationFailed", "message": "token expired"}}
    with pytest.raises(CredentialsError, match="az login"):
        spend_source(CannedAdapter({}, status=401, error=denied)).spend("nlp", "2026-11")


def test_month_period_and_the_teams_subscription(example_spec):
    assert [t.isoformat() for t in month_period("2024-02")] == ["2024-02-01T00:00:00+00:00",
                                                                "2024-02-29T23:59:59+00:00"]
    assert [t.isoformat() for t in month_period("2026-12")][1] == "2026-12-31T23:59:59+00:00"
    assert subscriptions_of(example_spec.platform, "nlp") == ["/subscriptions/00000000-0000-0000-0000-000000000000"]
    assert subscriptions_of(example_spec.platform, "vision") == []  # no azure block
    with pytest.raises(ProviderError, match="subscription_id"):
        CostManagementSpend([])
