"""A monthly consumption budget on the team's spend, alerting the owners.

AKS runs the nodes (the GPU spend) in a node resource group of its own, next to the team's resource group.
The budget is therefore a subscription budget filtered to both resource groups, not a budget on one group:

- a budget on the team's group alone misses every node (what the budget is mostly for);
- a second budget on the node group would split one amount in two, and each would alert only when its own
  half overran, so the team could spend up to twice its budget before hearing of it;
- a filter on the team tag would depend on every resource AKS makes in the node group (scale sets, disks, load
  balancers, public IPs) carrying the tag when it is billed; the resource-group filter catches them all.
"""

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
class TeamBudgetProps:
    name: str
    """Unique in the subscription (AzureNames.budget carries the team prefix)."""
    subscription_id: str
    """The subscription's resource id, '/subscriptions/<uuid>'."""
    resource_groups: list[str]
    """Names of the groups whose spend counts (the team's group and the AKS node group), lower case: Cost
    Management reports resource group names in lower case."""
    monthly_usd: float
    owners: list[str]
    alert_at_percent: list[int]


class TeamBudget(Module):
    def __init__(self, scope: Construct, id: str, props: TeamBudgetProps):
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
        Resource(self, "budget", "azurerm_consumption_budget_subscription", {
            "name": props.name, "subscription_id": props.subscription_id, "amount": props.monthly_usd,
            "time_grain": "Monthly", "time_period": {"start_date": START_OF_THIS_MONTH},
            "filter": {"dimension": [{"name": "ResourceGroupName", "operator": "In",
                                      "values": list(props.resource_groups)}]},
            "notification": notifications,
        }, lifecycle={"ignore_changes": ["time_period"]})
