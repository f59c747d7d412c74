"""Azure resource types (AKS, ACR, storage), including spot node pools at their spot price."""

from __future__ import annotations

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because

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


FREE = {t: "resource groups, networks and identities carry no charge" for t in (
    "azurerm_resource_group", "azurerm_virtual_network", "azurerm_subnet", "azurerm_user_assigned_identity",
    "azurerm_role_assignment", "azurerm_network_security_group")}

PRICERS = {
    "azurerm_kubernetes_cluster": kubernetes_cluster,
    "azurerm_kubernetes_cluster_node_pool": kubernetes_node_pool,
    "azurerm_container_registry": container_registry,
    "azurerm_storage_account": storage_account,
    **{t: free_because(why) for t, why in FREE.items()},
}
