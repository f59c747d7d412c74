"""Azure resource types (AKS, ACR, storage, Azure ML), including spot node pools at their spot price.

Every type the team stack emits is here: priced from the catalog, free (with the reason), or listed as
unpriced with what is missing from the catalog (never silently $0).
"""

from __future__ import annotations

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because, no_price_row

DAYS_PER_HOUR = 1 / 24


def _pool_lines(r: ResourceToPrice, pool: dict, component: str) -> list[Line]:
    size = pool.get("vm_size")
    if not size:
        return r.unpriced("no vm_size", component)
    autoscale = pool.get("auto_scaling_enabled", pool.get("enable_auto_scaling", False))
    if autoscale:
        low, high = pool.get("min_count", 0), pool.get("max_count", 0)
    else:
        low = high = pool.get("node_count", 1)
    spot = pool.get("priority") == "Spot"
    max_price = pool.get("spot_max_price", -1)
    return r.nodes(component, size, low, high, spot, "autoscaler min/max" if autoscale else "fixed node count",
                   max_price=max_price if spot and max_price not in (None, -1) else None)


def kubernetes_cluster(r: ResourceToPrice) -> list[Line]:
    tier = r.block.get("sku_tier", "Free")
    key = {"Free": "azure.aks.free", "Standard": "azure.aks.standard"}.get(tier)
    lines = (r.fee(key, f"control plane ({tier} tier)", r.usage.hours_per_month, "cluster-hours") if key
             else r.unpriced(f"no price row for the AKS {tier} tier", "control plane"))
    default = r.block.get("default_node_pool")
    if default:
        lines += _pool_lines(r, default[0] if isinstance(default, list) else default, "default node pool")
    return lines


def kubernetes_node_pool(r: ResourceToPrice) -> list[Line]:
    return _pool_lines(r, r.block, "nodes")


def container_registry(r: ResourceToPrice) -> list[Line]:
    sku = r.block.get("sku", "Basic")
    if sku != "Basic":
        return r.unpriced(f"no price row for the ACR {sku} tier (only Basic is in the catalog)")
    days = r.usage.hours_per_month * DAYS_PER_HOUR
    lines = r.fee("azure.acr.basic", "registry (Basic, 10 GB included)", days, "registry-days")
    gb = r.usage.for_resource(r.usage_key, "storage_gb", r.usage.registry_storage_gb)
    extra = max(gb - 10, 0)
    if extra:
        lines += r.fee("azure.acr.storage", "storage beyond 10 GB", extra * days, "GB-days",
                       f"assumes {gb:g} GB of images (usage: registry_storage_gb)")
    return lines


def storage_account(r: ResourceToPrice) -> list[Line]:
    return r.storage("azure.blob.hot_storage", "blob storage", "bucket_storage_gb", "in the Hot tier, LRS")


def ml_compute_cluster(r: ResourceToPrice) -> list[Line]:
    """An Azure ML compute cluster: its nodes at the VM price (no ML surcharge), between the scale-to-zero
    minimum and the maximum; LowPriority nodes at the catalog's spot price."""
    scale = r.block.get("scale_settings") or {}
    scale = scale[0] if isinstance(scale, list) else scale
    low_priority = r.block.get("vm_priority") == "LowPriority"
    note = "compute cluster min/max nodes" + ("; low-priority nodes at the spot price" if low_priority else "")
    return r.nodes("nodes", r.block.get("vm_size", ""), scale.get("min_node_count", 0),
                   scale.get("max_node_count", 0), low_priority, note)


ML_ONLINE_ENDPOINTS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


def azapi_resource(r: ResourceToPrice) -> list[Line]:
    """azapi resources are priced by their ARM type."""
    arm_type = str(r.block.get("type", "")).split("@", 1)[0]
    if arm_type == ML_ONLINE_ENDPOINTS:
        return r.free("a managed online endpoint has no charge of its own; its deployments' instances are "
                      "billed, and terraml deploy creates those, not the stack")
    return r.unpriced(f"no pricer for the ARM type {arm_type or '(none)'}")


FREE = {t: "resource groups, networks and identities carry no charge" for t in (
    "azurerm_resource_group", "azurerm_virtual_network", "azurerm_subnet", "azurerm_user_assigned_identity",
    "azurerm_role_assignment", "azurerm_network_security_group")}
FREE.update({
    "azurerm_subnet_network_security_group_association": "an association carries no charge",
    "azurerm_subnet_nat_gateway_association": "an association carries no charge",
    "azurerm_nat_gateway_public_ip_association": "an association carries no charge",
    "azurerm_private_dns_zone_virtual_network_link": "a resolution link carries no charge; the zone and its "
                                                     "queries are billed",
    "azurerm_consumption_budget_resource_group": "budgets carry no charge",
    "azurerm_machine_learning_workspace": "an Azure ML workspace has no charge of its own; its compute, storage, "
                                          "registry, key vault and monitoring are priced as their own resources",
    "azurerm_application_insights": "workspace-based: its telemetry is billed as Log Analytics ingestion",
    "azurerm_monitor_diagnostic_setting": "the setting has no charge; the logs it sends are billed as Log "
                                          "Analytics ingestion",
})
UNPRICED = {
    "azurerm_log_analytics_workspace": "Log Analytics ingestion (per GB) and retention beyond 31 days",
    "azurerm_nat_gateway": "NAT gateway hours and data processed (per GB)",
    "azurerm_public_ip": "Standard static public IP hours",
    "azurerm_private_endpoint": "private endpoint hours and data processed (per GB)",
    "azurerm_private_dns_zone": "private DNS zone (per zone-month) and queries (per million)",
    "azurerm_key_vault": "Key Vault operations (per 10,000)",
    "azurerm_key_vault_key": "HSM-protected key (per key-month)",
    "azurerm_container_registry_task": "ACR Tasks run time (per second)",
}

PRICERS = {
    "azurerm_kubernetes_cluster": kubernetes_cluster,
    "azurerm_kubernetes_cluster_node_pool": kubernetes_node_pool,
    "azurerm_container_registry": container_registry,
    "azurerm_storage_account": storage_account,
    "azurerm_machine_learning_compute_cluster": ml_compute_cluster,
    "azapi_resource": azapi_resource,
    **{t: free_because(why) for t, why in FREE.items()},
    **{t: no_price_row(what) for t, what in UNPRICED.items()},
}
