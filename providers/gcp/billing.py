"""Actual spend from the Cloud Billing export in BigQuery, grouped by the team's label.

The standard usage cost export (https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables/standard-usage)
has one row per SKU, resource and hour with ``cost``, ``currency``, ``credits`` (negative amounts),
``invoice.month`` ('YYYYMM') and the resource's ``labels`` (key/value pairs). A team's spend for a month is the
sum of cost plus credits of the rows of that invoice month whose ``team`` label is the team's label value, the
label the GCP stacks put on every resource (the one rule: providers/gcp/labels.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from google.api_core.exceptions import GoogleAPICallError
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import bigquery

from terraml.errors import CredentialsError, ProviderError
from terraml.providers.gcp.labels import label_value

SQL = """SELECT label.value AS team, invoice.month AS invoice_month, currency,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(credit.amount AS NUMERIC)) FROM UNNEST(credits) AS credit), 0)) AS credits
FROM `{table}`, UNNEST(labels) AS label
WHERE label.key = @label_key AND label.value = @team AND invoice.month = @invoice_month
GROUP BY team, invoice_month, currency"""
"""One row per currency (a billing account has one) for the team's label and the invoice month; NUMERIC sums, so
money is added exactly (the export's cost is FLOAT64)."""

def invoice_month(month: str) -> str:
    """'2026-11' -> '202611', the export's invoice.month."""
    return month.replace("-", "")


@dataclass(frozen=True)
class Spend:
    amount: Decimal
    """Cost plus credits (credits are negative), in ``currency``."""
    currency: str
    cost: Decimal
    credits: Decimal


class BigQueryBillingSpend:
    """``spend(team, month)`` -> (amount, note), from the billing export table ``export_table``
    ('project.dataset.table'); the query runs in the table's project unless ``project`` is given."""

    def __init__(self, export_table: str, client_factory: Callable[[], bigquery.Client] | None = None,
                 label_key: str = "team", project: str | None = None):
        self.export_table = export_table
        self.project = project or export_table.split(".", 1)[0]
        self.client_factory = client_factory or (lambda: bigquery.Client(project=self.project))
        self.label_key = label_key

    def request(self, team: str, month: str) -> tuple[str, list[bigquery.ScalarQueryParameter]]:
        """The SQL and its parameters (the table id is checked by the spec; values travel as parameters)."""
        return SQL.format(table=self.export_table), [
            bigquery.ScalarQueryParameter("label_key", "STRING", self.label_key),
            bigquery.ScalarQueryParameter("team", "STRING", label_value(team)),
            bigquery.ScalarQueryParameter("invoice_month", "STRING", invoice_month(month))]

    def read(self, team: str, month: str) -> Spend:
        sql, params = self.request(team, month)
        try:
            rows = list(self.client_factory().query_and_wait(
                sql, job_config=bigquery.QueryJobConfig(query_parameters=params)))
        except DefaultCredentialsError:
            raise CredentialsError("the Cloud Billing export in BigQuery needs Google credentials: run `gcloud auth "
                                   "application-default login` or set GOOGLE_APPLICATION_CREDENTIALS.") from None
        except GoogleAPICallError as exc:
            raise ProviderError(f"BigQuery query on {self.export_table}: {exc.message or exc}") from None
        currencies = sorted({row["currency"] for row in rows})
        if len(currencies) > 1:
            raise ProviderError(f"{self.export_table}: the team's {month} rows are in {', '.join(currencies)}; "
                                "terraml sums one currency per billing account")
        cost = sum((Decimal(str(row["cost"])) for row in rows), Decimal(0))
        credits = sum((Decimal(str(row["credits"])) for row in rows), Decimal(0))
        return Spend(cost + credits, currencies[0] if currencies else "USD", cost, credits)

    def spend(self, team: str, month: str) -> tuple[Decimal, str]:
        result = self.read(team, month)
        if result.currency != "USD":  # budgets and the job ledger are in USD: never add another currency to them
            raise ProviderError(f"{self.export_table}: team {team}'s {month} spend is {result.amount:,.2f} "
                                f"{result.currency}; terraml budgets are in USD, so it is not added to them (convert "
                                "it, or export the billing account in USD).")
        return result.amount, (f"Cloud Billing export {self.export_table}, cost + credits ({result.credits:,.2f}) "
                               f"in {result.currency}, label {self.label_key}={label_value(team)}, invoice month "
                               f"{invoice_month(month)}")
