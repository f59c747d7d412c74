"""A monthly Cloud Billing budget on the team's project and label, alerting the owners by email."""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class TeamBudgetProps:
    display_name: str
    billing_account: str
    project_number: str
    label_key: str
    label_value: str
    """The team's label: the budget counts only resources that carry it."""
    monthly_usd: float
    """In the billing account's currency, which must be USD (Cloud Billing rejects another currency)."""
    owners: list[str]
    alert_at_percent: list[int]


class TeamBudget(Module):
    def __init__(self, scope: Construct, id: str, props: TeamBudgetProps):
        super().__init__(scope, id)
        channels = [Resource(self, f"owner-{re.sub('[^a-z0-9]+', '-', owner.lower())}",
                             "google_monitoring_notification_channel", {
                                 "display_name": f"{props.display_name}: {owner}", "type": "email",
                                 "labels": {"email_address": owner}}, tags={})
                    for owner in sorted(props.owners)]
        rules = [{"threshold_percent": pct / 100, "spend_basis": "CURRENT_SPEND"}
                 for pct in sorted(props.alert_at_percent)]
        rules.append({"threshold_percent": 1.0, "spend_basis": "FORECASTED_SPEND"})
        units, cents = divmod(round(props.monthly_usd * 100), 100)
        Resource(self, "budget", "google_billing_budget", {
            "billing_account": props.billing_account,
            "display_name": props.display_name,
            "budget_filter": {
                "projects": [f"projects/{props.project_number}"],
                "labels": {props.label_key: props.label_value},
                "calendar_period": "MONTH",
                "credit_types_treatment": "INCLUDE_ALL_CREDITS",
            },
            "amount": {"specified_amount": {"currency_code": "USD", "units": str(units),
                                            "nanos": cents * 10_000_000 or None}},
            "threshold_rules": rules,
            "all_updates_rule": {"monitoring_notification_channels": [c.attr("id") for c in channels],
                                 "disable_default_iam_recipients": False},
        })
