"""Azure resource types (AKS, ACR, storage, networking, monitoring, Azure ML), spot node pools at their spot price.

Every type the team stack emits is here: priced from a sourced row of the catalog, free (with the reason), or
an unpriced line naming the missing row (never silently $0). Fees go through ``fixed_fees.csv`` keys, so a
row added there with that key prices the line without a code change.

Azure spot prices in vm_prices.csv are older than their on-demand neighbours (``as_of`` reads
``2026-06-18 (on-demand); ~2024-08-18 (spot)``): every line that uses a spot price says how old it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from terraml.catalog import Catalog, VmRow
from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because
from terraml.policy.capacity import POOL_LABEL

DAYS_PER_HOUR = 1 / 24
ACR_INCLUDED_GB = {"Basic": 10, "Standard": 100, "Premium": 500}
"""Storage each ACR tier includes (fixed_fees.csv reference row 'ACR included storage Basic/Standard/Premium')."""
LOG_ANALYTICS_INCLUDED_DAYS = 31
"""Log Analytics keeps Analytics logs this many days at no charge beyond ingestion (MonitoringProps)."""
LOW_PRIORITY = ("Azure ML low-priority nodes: no Low Priority price in vm_prices.csv (a separate Retail Prices "
                "meter from Spot; SOURCES.md section 8 says not to use the spot column for it)")
OS_DISKS = "Azure managed OS disks (per disk-month by size tier): no price row in the catalog"
ML_LOAD_BALANCER = ("Azure ML compute cluster load balancer (one per 50 nodes, charged even at zero nodes): no "
                    "keyed price row (fixed_fees.csv keeps only a 2021 reference note)")
ENDPOINT_META = "online_endpoint"
"""Key under the endpoint block's '//'.'terraml' comment (Terraform ignores '//'): the instance type and counts
the stack was synthesized for, which its deployments (made by terraml deploy) run on."""


# ---------------------------------------------------------------- spot price age
_SPOT_DATE = re.compile(r"(~?\d{4}-\d{2}(?:-\d{2})?)\s*\(spot\)")
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


def spot_as_of(row: VmRow) -> str:
    """When the row's spot price is from: the '(spot)' date of an as_of that dates its two prices apart
    ('2026-06-18 (on-demand); ~2024-08-18 (spot)' -> '~2024-08-18'), else the whole as_of."""
    found = _SPOT_DATE.search(row.as_of)
    return found.group(1) if found else row.as_of


def on_demand_as_of(row: VmRow) -> str:
    """When the row's on-demand price is from ('2026-06-18 (on-demand); ...' -> '2026-06-18'), else the as_of."""
    found = re.search(r"(~?\d{4}-\d{2}(?:-\d{2})?)\s*\(on-demand\)", row.as_of)
    return found.group(1) if found else row.as_of


def spot_cap_note(cap: float, ratio: float, row: VmRow) -> str:
    """What a capped Spot pool says about its spot_max_price (a tag on the pool): where the cap comes from, and the
    catalog spot price with its date, which can be much older than the on-demand price the cap is made from."""
    note = f"{cap:g} USD/h = {ratio:g} x on-demand {row.on_demand_usd_per_hour:g} (as of {on_demand_as_of(row)})"
    if row.spot_usd_per_hour is None:
        return f"{note}; no catalog spot price"
    note += f"; catalog spot {row.spot_usd_per_hour:g} as of {spot_as_of(row)}"
    return note + ("; the cap is below it: no node while spot is above the cap" if cap < row.spot_usd_per_hour
                   else "")


def months_old(as_of: str, today: date) -> int | None:
    """Whole months from the first date in ``as_of`` to ``today`` (None when it has no date)."""
    found = _DATE.search(as_of)
    if not found:
        return None
    year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
    return max((today.year - year) * 12 + today.month - month - (today.day < day), 0)


def spot_age(row: VmRow, today: date) -> str:
    """'spot price as of ~2024-08-18, 27 months before 2026-11-30' (what a spot line says about its price)."""
    when = spot_as_of(row)
    months = months_old(when, today)
    age = f", {months} months before {today}" if months is not None else ""
    return f"spot price as of {when}{age}; `terraml prices refresh --cloud azure` replaces it"


# ---------------------------------------------------------------- helpers for other Azure code
@dataclass(frozen=True)
class NodePrice:
    """One Azure VM's hourly price for a capacity, with the row it comes from (or why there is none)."""

    usd_per_hour: float | None
    price_ref: str = ""
    source: str = ""
    as_of: str = ""
    note: str = ""
    reason: str = ""
    """Why there is no price (usd_per_hour None)."""


def node_price(catalog: Catalog, region: str, vm_size: str, capacity: str, today: date) -> NodePrice:
    """The hourly price of one node: ``capacity`` 'on-demand' (AKS Regular, Azure ML Dedicated), 'spot' (AKS
    Spot) or 'low-priority' (Azure ML LowPriority clusters and the serverless Spot job tier). Low priority has no
    sourced price, so it comes back without one, with the reason; spot carries its age in ``note``."""
    row = catalog.vm("azure", region, vm_size)
    if row is None:
        return NodePrice(None, reason=f"no price for {vm_size} in {region} in vm_prices.csv")
    if capacity == "low-priority":
        return NodePrice(None, reason=LOW_PRIORITY)
    ref = f"vm_prices.csv azure {region} {vm_size}"
    if capacity == "spot":
        if row.spot_usd_per_hour is None:
            return NodePrice(None, reason=f"no spot price for {vm_size} in {region} in vm_prices.csv")
        return NodePrice(row.spot_usd_per_hour, f"{ref} spot", row.source, row.as_of, spot_age(row, today))
    if row.on_demand_usd_per_hour is None:
        return NodePrice(None, reason=f"no on-demand price for {vm_size} in {region} in vm_prices.csv")
    return NodePrice(row.on_demand_usd_per_hour, f"{ref} ondemand", row.source, row.as_of)


# ---------------------------------------------------------------- AKS
def _pools(r: ResourceToPrice) -> dict:
    """(cluster id, pool label, priority) -> node pool block: an auto pool's two AKS pools carry one pool label."""
    return r.stack.memo("azure.pools", lambda: {
        (b.get("kubernetes_cluster_id"), (b.get("node_labels") or {}).get(POOL_LABEL), b.get("priority", "Regular")): b
        for b in r.stack.of_type("azurerm_kubernetes_cluster_node_pool").values()
        if (b.get("node_labels") or {}).get(POOL_LABEL)})


def _sibling(r: ResourceToPrice, pool: dict) -> dict | None:
    """The other pool of this pool's auto pair (Spot <-> Regular fallback), if there is one."""
    label = (pool.get("node_labels") or {}).get(POOL_LABEL)
    if not label or r.rtype != "azurerm_kubernetes_cluster_node_pool":
        return None
    other = "Regular" if pool.get("priority") == "Spot" else "Spot"
    return _pools(r).get((pool.get("kubernetes_cluster_id"), label, other))


def _cap(pool: dict) -> float | None:
    cap = pool.get("spot_max_price", -1)
    return None if cap is None or cap == -1 else float(cap)


def _priced_out(r: ResourceToPrice, pool: dict) -> tuple[float, float] | None:
    """(cap, catalog spot price) when a spot pool's spot_max_price is below the catalog spot price."""
    cap = _cap(pool)
    row = r.catalog.vm(r.cloud, r.region, pool.get("vm_size", ""))
    if cap is None or row is None or row.spot_usd_per_hour is None:
        return None
    return (cap, row.spot_usd_per_hour) if cap < row.spot_usd_per_hour else None


def _spot_nodes(r: ResourceToPrice, component: str, pool: dict, low: float, high: float,
                notes: list[str]) -> list[Line]:
    """A Spot pool at the catalog spot price. Azure charges the current spot price up to spot_max_price and
    allocates no node while the spot price is above it, so a cap below the spot price means no node at all."""
    size = pool["vm_size"]
    price = node_price(r.catalog, r.region, size, "spot", r.today)
    if price.usd_per_hour is None:  # no spot price: r.nodes prices it at on-demand and says so
        return r.nodes(component, size, low, high, True, "; ".join(notes))
    row = r.catalog.vm(r.cloud, r.region, size)
    cap = _cap(pool)
    spot = price.usd_per_hour
    if cap is not None and cap < spot:
        notes = [f"never runs: spot_max_price ${cap:g}/h is below the spot price ${spot:g}/h, and Azure allocates "
                 "no Spot node (and evicts running ones) while the spot price is above the cap; 0 nodes", *notes,
                 price.note]
        return [r.hourly(component, 0, 0, spot, price.price_ref, price.source, price.as_of, "spot", "; ".join(notes))]
    if cap is not None:
        at_cap = r.money(high * r.usage.hours_per_month, cap)
        notes.append(f"Azure charges the current spot price up to spot_max_price ${cap:g}/h: at the cap, "
                     f"{high:g} nodes would cost ${at_cap:,.2f}/month")
    elif row.on_demand_usd_per_hour is not None:
        notes.append(f"no price cap (spot_max_price -1): Azure charges the current spot price, up to the on-demand "
                     f"price ${row.on_demand_usd_per_hour:g}/h")
    notes.append(price.note)
    return [r.hourly(component, low, high, spot, price.price_ref, price.source, price.as_of, "spot",
                     "; ".join(n for n in notes if n))]


def _pool_lines(r: ResourceToPrice, pool: dict, component: str) -> list[Line]:
    size = pool.get("vm_size")
    if not size:
        return r.unpriced("no vm_size", component)
    autoscale = pool.get("auto_scaling_enabled", pool.get("enable_auto_scaling", False))
    if autoscale:
        low, high = pool.get("min_count", 0), pool.get("max_count", 0)
    else:
        low = high = pool.get("node_count", 1)
    notes = ["autoscaler min/max" if autoscale else "fixed node count"]
    spot = pool.get("priority") == "Spot"
    sibling = _sibling(r, pool)
    if sibling is not None:
        label = pool["node_labels"][POOL_LABEL]
        if spot:
            notes.append(f"spot pool of auto pool '{label}'; its on-demand fallback pool (max "
                         f"{sibling.get('max_count', 0)}) is its own line")
        else:
            notes.append(f"on-demand fallback of auto pool '{label}': runs when the spot pool cannot get capacity; "
                         f"both pools can be at max at once, so the pool's max counts {sibling.get('max_count', 0)} "
                         f"spot + {high} on-demand nodes")
            if (out := _priced_out(r, sibling)) is not None:
                notes.append(f"the spot pool's spot_max_price ${out[0]:g}/h is below the spot price ${out[1]:g}/h, "
                             "so this pool carries the whole load")
    lines = (_spot_nodes(r, component, pool, low, high, notes) if spot
             else r.nodes(component, size, low, high, False, "; ".join(notes)))
    gb = pool.get("os_disk_size_gb")
    disk = f"{component}: OS disks" + (f" ({gb:g} GB managed, one per node)" if gb else "")
    return lines + r.unpriced(OS_DISKS, disk)


def kubernetes_cluster(r: ResourceToPrice) -> list[Line]:
    tier = r.block.get("sku_tier", "Free")
    lines = r.fee(f"azure.aks.{tier.lower()}", f"control plane ({tier} tier)", r.usage.hours_per_month,
                  "cluster-hours", what=f"AKS {tier} tier control plane, per cluster-hour")
    default = r.block.get("default_node_pool")
    if default:
        lines += _pool_lines(r, default[0] if isinstance(default, list) else default, "default node pool")
    if r.block.get("microsoft_defender"):
        lines += r.unpriced("Microsoft Defender for Containers (per vCore-hour of the cluster's nodes, billed under "
                            "the subscription's plan): no price row in the catalog", "Defender for Containers")
    return lines


def kubernetes_node_pool(r: ResourceToPrice) -> list[Line]:
    return _pool_lines(r, r.block, "nodes")


# ---------------------------------------------------------------- registry, storage, keys
def container_registry(r: ResourceToPrice) -> list[Line]:
    sku = r.block.get("sku", "Basic")
    days = r.usage.hours_per_month * DAYS_PER_HOUR
    included = ACR_INCLUDED_GB.get(sku, 0)
    lines = r.fee(f"azure.acr.{sku.lower()}", f"registry ({sku}, {included} GB included)", days, "registry-days",
                  what=f"ACR {sku} tier registry fee, per registry-day")
    gb = r.usage.for_resource(r.usage_key, "storage_gb", r.usage.registry_storage_gb)
    extra = max(gb - included, 0)
    if extra:
        lines += r.fee("azure.acr.storage", f"storage beyond {included} GB", extra * days, "GB-days",
                       f"assumes {gb:g} GB of images (usage: registry_storage_gb), {extra:g} GB beyond the "
                       f"{sku} tier's {included} GB")
    return lines


def storage_account(r: ResourceToPrice) -> list[Line]:
    tier = r.block.get("access_tier", "Hot")
    replication = r.block.get("account_replication_type", "LRS")
    key = "azure.blob.hot_storage" if (tier, replication) == ("Hot", "LRS") else \
        f"azure.blob.{tier.lower()}_storage_{replication.lower()}"
    gb = r.usage.for_resource(r.usage_key, "storage_gb", r.usage.bucket_storage_gb)
    return r.fee(key, "blob storage", gb, "GB-months",
                 f"assumes {gb:g} GB in the {tier} tier, {replication} (usage: bucket_storage_gb); operations not "
                 "priced", what=f"Blob Storage {tier} {replication}, per GB-month; the catalog has Hot LRS only")


def key_vault(r: ResourceToPrice) -> list[Line]:
    tier = r.block.get("sku_name", "standard")
    return r.unpriced(f"Key Vault ({tier}) is billed per 10,000 operations: no price row and no usage assumption for "
                      "operations", "operations")


def key_vault_key(r: ResourceToPrice) -> list[Line]:
    kind = r.block.get("key_type", "RSA")
    if not str(kind).endswith("-HSM"):
        return r.free("software-protected keys have no monthly charge; operations are billed on the vault")
    return r.fee("azure.key_vault.hsm_key", "HSM-protected key", 1, "key-months", "operations not priced",
                 what="Key Vault HSM-protected key, per key-month")


# ---------------------------------------------------------------- network and monitoring
def nat_gateway(r: ResourceToPrice) -> list[Line]:
    gb = r.usage.for_resource(r.usage_key, "data_gb", r.usage.nat_data_gb)
    return (r.fee("azure.nat.hour", "gateway hours", r.usage.hours_per_month, "gateway-hours",
                  what="Azure NAT gateway, per gateway-hour")
            + r.fee("azure.nat.gb", "data processed", gb, "GB", f"assumes {gb:g} GB/month (usage: nat_data_gb)",
                    what="Azure NAT gateway data processed, per GB"))


def public_ip(r: ResourceToPrice) -> list[Line]:
    sku = r.block.get("sku", "Standard")
    method = r.block.get("allocation_method", "Static")
    return r.fee(f"azure.public_ip.{sku.lower()}_{method.lower()}", "public IPv4 address", r.usage.hours_per_month,
                 "address-hours", what=f"{sku} {method} public IPv4 address, per hour")


def private_endpoint(r: ResourceToPrice) -> list[Line]:
    return r.fee("azure.private_endpoint.hour", "endpoint hours", r.usage.hours_per_month, "endpoint-hours",
                 "data processed (per GB) not priced",
                 what="private endpoint, per endpoint-hour; data processed per GB is not priced either")


def private_dns_zone(r: ResourceToPrice) -> list[Line]:
    return r.fee("azure.private_dns.zone", "zone", 1, "zone-months", "queries (per million) not priced",
                 what="private DNS zone, per zone-month; queries per million are not priced either")


def log_analytics_workspace(r: ResourceToPrice) -> list[Line]:
    """Ingestion per GB (usage: log_ingest_gb), and retention beyond the included 31 days per GB-month at its
    steady state: monthly ingestion x (retention - 31) days in months."""
    ingest = r.usage.for_resource(r.usage_key, "ingest_gb", r.usage.log_ingest_gb)
    lines = r.fee("azure.log_analytics.ingest", "log ingestion", ingest, "GB",
                  f"assumes {ingest:g} GB/month (usage: log_ingest_gb, or overrides ingest_gb)",
                  what="Log Analytics Analytics-logs ingestion (PerGB2018), per GB")
    retention = r.block.get("retention_in_days", 30)
    extra_days = retention - LOG_ANALYTICS_INCLUDED_DAYS if isinstance(retention, int | float) else 0
    if extra_days > 0:
        months = extra_days * 24 / r.usage.hours_per_month
        default = ingest * months
        stored = r.usage.for_resource(r.usage_key, "storage_gb", default)
        how = (f"{ingest:g} GB/month x {extra_days:g} days beyond {LOG_ANALYTICS_INCLUDED_DAYS} "
               f"({months:.3g} months)") if stored == default else "usage override storage_gb"
        lines += r.fee("azure.log_analytics.retention", f"retention beyond {LOG_ANALYTICS_INCLUDED_DAYS} days",
                       stored, "GB-months", f"assumes {stored:g} GB kept past the included days ({how})",
                       what="Log Analytics data retention, per GB-month")
    return lines


# ---------------------------------------------------------------- Azure ML
def ml_compute_cluster(r: ResourceToPrice) -> list[Line]:
    """An Azure ML compute cluster: its nodes at the VM price (Azure ML adds no charge, SOURCES.md section 8),
    between the scale-to-zero minimum and the maximum. LowPriority nodes have no sourced price: unpriced."""
    scale = r.block.get("scale_settings") or {}
    scale = scale[0] if isinstance(scale, list) else scale
    low, high = scale.get("min_node_count", 0), scale.get("max_node_count", 0)
    if r.block.get("vm_priority") == "LowPriority":
        lines = r.unpriced(LOW_PRIORITY, "nodes")
    else:
        lines = r.nodes("nodes", r.block.get("vm_size", ""), low, high, False,
                        "compute cluster min/max nodes; Azure ML adds no charge to the VM price (SOURCES.md "
                        "section 8)")
    return lines + r.unpriced(ML_LOAD_BALANCER, "load balancer")


ML_ONLINE_ENDPOINTS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


def ml_online_endpoint(r: ResourceToPrice) -> list[Line]:
    """The instances the endpoint's deployments run on (terraml deploy makes them), at the VM's on-demand price
    between the spec's min and max replicas, as the stack recorded them in its '//' comment."""
    meta = ((r.block.get("//") or {}).get("terraml") or {}).get(ENDPOINT_META) or {}
    size = meta.get("instance_type")
    if not size:
        return r.unpriced("the endpoint's instance type and counts are not in the stack (its deployments are made "
                          "by terraml deploy)", "instances")
    low, high = meta.get("min_instances", 1), meta.get("max_instances", meta.get("min_instances", 1))
    price = node_price(r.catalog, r.region, size, "on-demand", r.today)
    if price.usd_per_hour is None:
        return r.unpriced(price.reason, "instances")
    return [r.hourly("instances", low, high, price.usd_per_hour, price.price_ref, price.source, price.as_of,
                     "on-demand", "the spec's min/max replicas; managed online endpoint instances are billed at the "
                     "VM price, Azure ML adds no charge (SOURCES.md section 8); the endpoint itself has none",
                     unit="instance-hours")]


def azapi_resource(r: ResourceToPrice) -> list[Line]:
    """azapi resources are priced by their ARM type."""
    arm_type = str(r.block.get("type", "")).split("@", 1)[0]
    if arm_type == ML_ONLINE_ENDPOINTS:
        return ml_online_endpoint(r)
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
    "azurerm_consumption_budget_resource_group": "Cost Management budgets carry no charge",
    "azurerm_consumption_budget_subscription": "Cost Management budgets carry no charge",
    "azurerm_machine_learning_workspace": "an Azure ML workspace has no charge of its own; its compute, storage, "
                                          "registry, key vault and monitoring are priced as their own resources",
    "azurerm_application_insights": "workspace-based: its telemetry is billed as Log Analytics ingestion",
    "azurerm_monitor_diagnostic_setting": "the setting has no charge; the logs it sends are billed as Log "
                                          "Analytics ingestion",
})

PRICERS = {
    "azurerm_kubernetes_cluster": kubernetes_cluster,
    "azurerm_kubernetes_cluster_node_pool": kubernetes_node_pool,
    "azurerm_container_registry": container_registry,
    "azurerm_container_registry_task": lambda r: r.unpriced("ACR Tasks run time (per second): no price row in the "
                                                            "catalog", "task runs"),
    "azurerm_storage_account": storage_account,
    "azurerm_key_vault": key_vault,
    "azurerm_key_vault_key": key_vault_key,
    "azurerm_nat_gateway": nat_gateway,
    "azurerm_public_ip": public_ip,
    "azurerm_private_endpoint": private_endpoint,
    "azurerm_private_dns_zone": private_dns_zone,
    "azurerm_log_analytics_workspace": log_analytics_workspace,
    "azurerm_machine_learning_compute_cluster": ml_compute_cluster,
    "azapi_resource": azapi_resource,
    **{t: free_because(why) for t, why in FREE.items()},
}
