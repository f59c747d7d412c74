"""The team's Log Analytics workspace (AKS container insights, audit and diagnostic logs) and the
workspace-based Application Insights that Azure ML requires, both with local (key) auth off."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    log_analytics: str
    application_insights: str
    resource_group: str
    location: str
    retention_days: int = 90
    """Log Analytics keeps logs this long (the first 31 days are included in ingestion)."""


class Monitoring(Module):
    def __init__(self, scope: Construct, id: str, props: MonitoringProps):
        super().__init__(scope, id)
        where = {"resource_group_name": props.resource_group, "location": props.location}
        self.workspace = Resource(self, "log-analytics", "azurerm_log_analytics_workspace", {
            "name": props.log_analytics, **where, "sku": "PerGB2018", "retention_in_days": props.retention_days,
            "local_authentication_enabled": False}, tags={})
        self.insights = Resource(self, "app-insights", "azurerm_application_insights", {
            "name": props.application_insights, **where, "application_type": "other",
            "workspace_id": self.workspace.attr("id"), "local_authentication_enabled": False}, tags={})
        self.workspace_id = self.workspace.attr("id")


@dataclass(frozen=True, kw_only=True)
class DiagnosticsProps:
    target_id: str
    log_analytics_workspace_id: str
    category_groups: tuple[str, ...] = ("audit",)
    """Log category groups sent to Log Analytics ('audit' or 'allLogs')."""
    categories: tuple[str, ...] = ()
    """Single log categories, for services without category groups (AKS: 'kube-audit-admin')."""


class Diagnostics(Module):
    """A diagnostic setting that sends a resource's audit logs to the team's Log Analytics workspace."""

    def __init__(self, scope: Construct, id: str, props: DiagnosticsProps):
        super().__init__(scope, id)
        logs = [{"category_group": g} for g in props.category_groups] + [{"category": c} for c in props.categories]
        Resource(self, "setting", "azurerm_monitor_diagnostic_setting", {
            "name": "terraml-audit", "target_resource_id": props.target_id,
            "log_analytics_workspace_id": props.log_analytics_workspace_id,
            "log_analytics_destination_type": "Dedicated", "enabled_log": logs})
