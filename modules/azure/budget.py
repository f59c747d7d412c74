"""A monthly consumption budget on the team's resource group, alerting the owners."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.errors import UserError
from terraml.modules.core import Module, Resource

MAX_NOTIFICATIONS = 5  # Azure Cost Management allows five per budget
# The budget starts on the first of the month it is created in and keeps that date: Azure refuses a start
# date in a past month on creation, so a date fixed in the code would break every later first deploy.
# The expression is the same string on every synth (deterministic JSON); Terraform evaluates it once, at
# the first plan, and ignore_changes keeps it.
START_OF_THIS_MONTH = "${formatdate(\"YYYY-MM-01'T'00:00:00Z\", plantimestamp())}"


@dataclass(frozen=True, kw_only=True)
class ResourceGroupBudgetProps:
    name: str
    resource_group_id: str
    monthly_usd: float
    owners: list[str]
    alert_at_percent: list[int]


class ResourceGroupBudget(Module):
    def __init__(self, scope: Construct, id: str, props: ResourceGroupBudgetProps):
        super().__init__(scope, id)
        thresholds = sorted(set(props.alert_at_percent))
        if len(thresholds) + 1 > MAX_NOTIFICATIONS:
            raise UserError(f"budget.alert_at_percent: Azure budgets send at most {MAX_NOTIFICATIONS} "
                            f"notifications, one is the 100% forecast alert, so give at most "
                            f"{MAX_NOTIFICATIONS - 1} thresholds (got {len(thresholds)}).")
        emails = sorted(props.owners)
        notifications = [{"enabled": True, "threshold": pct, "operator": "GreaterThan", "threshold_type": "Actual",
                          "contact_emails": emails} for pct in thresholds]
        notifications.append({"enabled": True, "threshold": 100, "operator": "GreaterThan",
                              "threshold_type": "Forecasted", "contact_emails": emails})
        Resource(self, "budget", "azurerm_consumption_budget_resource_group", {
            "name": props.name, "resource_group_id": props.resource_group_id, "amount": props.monthly_usd,
            "time_grain": "Monthly", "time_period": {"start_date": START_OF_THIS_MONTH},
            "notification": notifications,
        }, lifecycle={"ignore_changes": ["time_period"]})
