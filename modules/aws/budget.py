"""A monthly AWS Budget on the team's cost-allocation tag, alerting the owners."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class TeamBudgetProps:
    name: str
    team: str
    monthly_usd: float
    owners: list[str]
    alert_at_percent: list[int]
    tag_key: str = "team"
    """The cost-allocation tag the budget filters on (activate it in the Billing console once)."""


class TeamBudget(Module):
    def __init__(self, scope: Construct, id: str, props: TeamBudgetProps):
        super().__init__(scope, id)
        notifications = [{
            "comparison_operator": "GREATER_THAN", "threshold": pct, "threshold_type": "PERCENTAGE",
            "notification_type": "ACTUAL", "subscriber_email_addresses": sorted(props.owners),
        } for pct in sorted(props.alert_at_percent)]
        notifications.append({
            "comparison_operator": "GREATER_THAN", "threshold": 100, "threshold_type": "PERCENTAGE",
            "notification_type": "FORECASTED", "subscriber_email_addresses": sorted(props.owners)})
        Resource(self, "budget", "aws_budgets_budget", {
            "name": props.name, "budget_type": "COST", "limit_amount": f"{props.monthly_usd:.2f}",
            "limit_unit": "USD", "time_unit": "MONTHLY",
            "cost_filter": [{"name": "TagKeyValue", "values": [f"user:{props.tag_key}${props.team}"]}],
            "notification": notifications,
        }, tags={})
