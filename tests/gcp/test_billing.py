"""GCP actual spend: google-cloud-bigquery against a local fake of the BigQuery REST API (jobs.query, jobs.get,
jobs.getQueryResults), and the export table's configuration (flag > environment > spec)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from terraml.errors import ProviderError, UserError
from terraml.providers.gcp.billing import SQL, BigQueryBillingSpend, label_value
from terraml.providers.gcp.spec import EXPORT_TABLE_ENV, GcpBlock, resolve_export_table

from .bigquery_server import FakeBigQuery

TABLE = "billing-proj.billing_export.gcp_billing_export_v1_0123AB_4567CD_89EF01"


def _spend(fake: FakeBigQuery, team="nlp", month="2026-11"):
    return BigQueryBillingSpend(TABLE, client_factory=fake.client).spend(team, month)


def test_spend_is_cost_plus_credits_of_the_teams_label_and_month():
    """The export's November rows for label team=nlp: cost 1,234.56 USD, credits -100.25 (spend-based discounts
    and promotions, negative): 1,234.56 - 100.25 = 1,134.31 USD, added exactly."""
    with FakeBigQuery(rows=[("nlp", "202611", "USD", "1234.56", "-100.25")]) as fake:
        amount, note = _spend(fake)
    assert amount == Decimal("1134.31") and isinstance(amount, Decimal)
    assert TABLE in note and "team=nlp" in note and "202611" in note and "USD" in note
    [(method, path, body)] = fake.requests
    assert (method, path) == ("POST", "/bigquery/v2/projects/billing-proj/queries")
    query = body["query"]
    assert f"FROM `{TABLE}`, UNNEST(labels) AS label" in query
    assert "WHERE label.key = @label_key AND label.value = @team AND invoice.month = @invoice_month" in query
    assert query.rstrip().endswith("GROUP BY team, invoice_month, currency") and query == SQL.format(table=TABLE)
    assert body["useLegacySql"] is False
    params = {p["name"]: p["parameterValue"]["value"] for p in body["queryParameters"]}
    assert params == {"label_key": "team", "team": "nlp", "invoice_month": "202611"}


def test_a_query_that_is_not_done_at_once_is_polled_to_its_result():
    """Same figures through jobs.get and jobs.getQueryResults: 99.99 + (-0.99) = 99.00."""
    with FakeBigQuery(rows=[("nlp", "202611", "USD", "99.99", "-0.99")], complete_at_once=False) as fake:
        amount, _ = _spend(fake)
    assert amount == Decimal("99.00")
    verbs = [(m, p.split("?")[0].rsplit("/", 2)[-2]) for m, p, _ in fake.requests]
    assert verbs[0] == ("POST", "billing-proj") and ("GET", "jobs") in verbs and ("GET", "queries") in verbs


def test_the_team_name_is_matched_by_the_one_gcp_label_rule():
    """A team named 'NLP.Research' is labelled 'nlp_research' on GCP resources: billing, the stacks and the Vertex
    AI backend share one rule (providers/gcp/labels.py)."""
    from terraml.modules.gcp import labels as stack_labels
    from terraml.providers.gcp import labels, vertex_request

    assert label_value is labels.label_value is stack_labels.label_value is vertex_request.label_value
    assert label_value("NLP.Research") == "nlp_research"


def test_errors_name_the_table_and_never_sum_two_currencies():
    with FakeBigQuery(error=(404, f"Not found: Table {TABLE}")) as fake, \
            pytest.raises(ProviderError, match=r"BigQuery query on billing-proj\.billing_export\..*Not found"):
        _spend(fake)
    rows = [("nlp", "202611", "USD", "10", "0"), ("nlp", "202611", "EUR", "5", "0")]
    with FakeBigQuery(rows=rows) as fake, pytest.raises(ProviderError, match="in EUR, USD"):
        _spend(fake)


def test_a_bill_in_another_currency_is_never_added_to_usd_budgets():
    rows = [("nlp", "202611", "EUR", "80.50", "-0.50")]
    with FakeBigQuery(rows=rows) as fake, pytest.raises(ProviderError, match=r"80\.00 EUR; terraml budgets are in USD"):
        _spend(fake)


def test_the_export_table_is_resolved_once_flag_then_environment_then_spec():
    block = GcpBlock(project="acme-nlp-prod", region="us-central1", network={"cidr": "10.30.0.0/16"},
                     billing_export_table=TABLE)
    env_table = "other-proj.exports.gcp_billing_export_v1_X"
    assert resolve_export_table(None, {}, block) == TABLE
    assert resolve_export_table(None, {EXPORT_TABLE_ENV: env_table}, block) == env_table
    assert resolve_export_table("flag-proj.d.t", {EXPORT_TABLE_ENV: env_table}, block) == "flag-proj.d.t"
    with pytest.raises(UserError, match=rf"clouds\.gcp\.billing_export_table in the spec \(or {EXPORT_TABLE_ENV}\)"):
        resolve_export_table(None, {}, None)
    with pytest.raises(UserError, match=rf"{EXPORT_TABLE_ENV}: 'billing_export' is not a BigQuery table id"):
        resolve_export_table(None, {EXPORT_TABLE_ENV: "billing_export"}, block)
    with pytest.raises(ValueError, match="billing_export_table"):
        GcpBlock(project="acme-nlp-prod", region="us-central1", network={"cidr": "10.30.0.0/16"},
                 billing_export_table="not a table")
