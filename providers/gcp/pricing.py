"""GCP resource types (GKE, Artifact Registry, Cloud Storage, Vertex AI, ...), for stacks terraml or others
write. Every type the GCP team stack emits is here: priced, free with the reason, or unpriced with the reason."""

from __future__ import annotations

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because, no_price_row
from terraml.providers.gcp.machines import ACCELERATOR, Gpus, bundled_gpus
from terraml.providers.gcp.regions import ZONE


def _block(value) -> dict:
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def container_cluster(r: ResourceToPrice) -> list[Line]:
    return r.fee("gcp.gke.cluster", "cluster management fee", r.usage.hours_per_month, "cluster-hours",
                 "the $74.40/month free-tier credit per billing account is not deducted")


LOCAL_SSD_GB_PER_GPU = {"A100-80GB": 375, "H100": 750}
"""Local SSD that a2-ultragpu (A100-80GB) and a3-highgpu/a3-edgegpu (H100) machines bundle, per GPU; GCP bills it
on its own, per GB-month (shared/pricing/SOURCES.md section 14). a3-megagpu (H100-MEGA) and a3-ultragpu (H200)
bundle Local SSD too, in amounts no source here gives."""
BUNDLES_LOCAL_SSD = ("a2-ultragpu", "a3-")
HOURS_PER_GB_MONTH = 730
"""GCP's GB-month: Local SSD is billed per GB per 730 hours a disk exists."""


def _pool_size(r: ResourceToPrice) -> tuple[float, float, str]:
    """(min nodes, max nodes, how they were counted) of a node pool."""
    auto = _block(r.block.get("autoscaling"))
    location = r.block.get("location") or ""
    zones = len(r.block.get("node_locations") or []) or (1 if ZONE.match(location) else 3)
    if "total_min_node_count" in auto or "total_max_node_count" in auto:
        return auto.get("total_min_node_count", 0), auto.get("total_max_node_count", 0), "total"
    if auto:
        return (auto.get("min_node_count", 0) * zones, auto.get("max_node_count", 0) * zones,
                f"per-zone counts x {zones} zone(s)")
    per_zone = r.block.get("node_count", r.block.get("initial_node_count", 1))
    return per_zone * zones, per_zone * zones, f"fixed {per_zone} per zone x {zones} zone(s)"


def node_pool(r: ResourceToPrice) -> list[Line]:
    """The pool's machines at its min and max size (spot or on-demand); GPUs attached to N1 machines as a line of
    their own; the Local SSD that a2-ultragpu and a3 machines bundle as a line of its own."""
    config = _block(r.block.get("node_config"))
    machine = config.get("machine_type", "e2-medium")
    spot = bool(config.get("spot") or config.get("preemptible"))
    low, high, how = _pool_size(r)
    lines = r.nodes("nodes", machine, low, high, spot, f"node counts: {how}")
    bundled = bundled_gpus(machine)
    if bundled is not None:
        # a2/a3/a4/g2 rows are host + their GPUs: the guest_accelerator GKE needs only names those GPUs.
        return lines + _bundled_local_ssd(r, machine, bundled, low, high, spot)
    for gpu in config.get("guest_accelerator") or []:
        name = ACCELERATOR.get(gpu.get("type", ""), gpu.get("type", ""))
        count = gpu.get("count", 1)
        row = r.catalog.attached_gpus("gcp", r.region, name, count)
        if row is None:
            lines += r.unpriced(f"no price for {count} x {name} attached GPUs in {r.region}", "attached GPUs")
            continue
        price = row.spot_usd_per_hour if spot and row.spot_usd_per_hour is not None else row.on_demand_usd_per_hour
        capacity = "spot" if spot and row.spot_usd_per_hour is not None else "on-demand"
        lines.append(r.hourly("attached GPUs", low, high, price,
                              f"vm_prices.csv gcp {r.region} gpu-only {count}x{name} {capacity.replace('-', '')}",
                              row.source, row.as_of, capacity, f"{count} x {name} per node; {how}"))
    return lines


def _bundled_local_ssd(r: ResourceToPrice, machine: str, gpus: Gpus, low: float, high: float,
                       spot: bool) -> list[Line]:
    """GB-months of the Local SSD the machine bundles, at the region's Local SSD row."""
    if not machine.startswith(BUNDLES_LOCAL_SSD):
        return []
    per_gpu = LOCAL_SSD_GB_PER_GPU.get(gpus.accelerator)
    if per_gpu is None:
        return r.unpriced(f"{machine} bundles Local SSD, billed on its own; its size is not in the price sources "
                          "(shared/pricing/SOURCES.md section 14 gives it for A100-80GB and H100 machines only)",
                          "bundled Local SSD")
    gb = per_gpu * gpus.count
    months = r.usage.hours_per_month / HOURS_PER_GB_MONTH
    note = (f"{machine} bundles {gb:g} GB Local SSD per node ({per_gpu} GB per {gpus.accelerator}), billed apart "
            f"from the machine row; {low:g}-{high:g} nodes x {r.usage.hours_per_month:g} h / 730 h per GB-month")
    if spot:
        note += ("; spot VMs' Local SSD has a lower spot rate with no price row: priced at the on-demand rate "
                 "(an upper bound)")
    return r.fee(f"gcp.local_ssd.{r.region}", "bundled Local SSD", gb * low * months, "GB-months", note,
                 quantity_max=gb * high * months, what="Local SSD, per GB-month")


def artifact_registry(r: ResourceToPrice) -> list[Line]:
    return r.storage("gcp.artifact_registry.storage", "image storage", "registry_storage_gb", "of images",
                     "the 0.5 GB free tier is not deducted")


def storage_bucket(r: ResourceToPrice) -> list[Line]:
    return r.storage("gcp.gcs.standard_storage", "storage", "bucket_storage_gb", "in Standard storage")


def feature_online_store(r: ResourceToPrice) -> list[Line]:
    """Bigtable online serving: node-hours between the autoscaling minimum and maximum."""
    scaling = _block(_block(r.block.get("bigtable")).get("auto_scaling"))
    if not scaling:
        return r.unpriced("only Bigtable online serving is priced; this store has no Bigtable autoscaling block",
                          "online serving nodes")
    row = r.catalog.managed_row("gcp", r.region, "Bigtable online serving node", "online serving node-hour")
    if row is None:
        return r.unpriced(f"no Bigtable online serving node price for {r.region} in managed_ml_prices.csv",
                          "online serving nodes")
    low, high = scaling.get("min_node_count", 1), scaling.get("max_node_count", scaling.get("min_node_count", 1))
    return [r.hourly("online serving nodes", low, high, row.usd_per_hour, f"managed_ml_prices.csv gcp {r.region} "
                     "Bigtable online serving node", row.source, row.as_of, "on-demand",
                     "node counts: the store's Bigtable autoscaling minimum and maximum; storage is not included")]


def vertex_endpoint(r: ResourceToPrice) -> list[Line]:
    return r.unpriced("the endpoint itself has no charge; the nodes of the models the Vertex AI backend deploys onto "
                      "it are billed per node-hour, and the stack does not hold them", "deployed models")


FREE = {
    **{t: "networking and identity objects carry no charge" for t in (
        "google_compute_network", "google_compute_subnetwork", "google_compute_router", "google_service_account",
        "google_project_iam_member", "google_service_account_iam_member", "google_compute_firewall",
        "google_kms_key_ring", "google_kms_crypto_key_iam_member", "google_storage_bucket_iam_member",
        "google_artifact_registry_repository_iam_member", "google_bigquery_dataset_iam_member")},
    "google_billing_budget": "Cloud Billing budgets carry no charge",
    "google_monitoring_notification_channel": "Cloud Monitoring notification channels carry no charge",
    "google_bigquery_dataset": "a dataset carries no charge; its tables' storage does",
    "google_vertex_ai_feature_group": "the Feature Registry (feature groups and features) carries no charge",
    "google_vertex_ai_feature_group_feature": "the Feature Registry (feature groups and features) carries no charge",
}

UNPRICED = {
    "google_compute_router_nat": "Cloud NAT (per gateway-hour and per GB processed)",
    "google_kms_crypto_key": "Cloud KMS key versions (per active version-month) and operations",
    "google_bigquery_table": "BigQuery storage (per GB-month) and the queries that read it",
    "google_vertex_ai_feature_online_store_featureview": "Vertex AI Feature Store sync (data processing node-hours)",
}

PRICERS = {
    "google_container_cluster": container_cluster,
    "google_container_node_pool": node_pool,
    "google_artifact_registry_repository": artifact_registry,
    "google_storage_bucket": storage_bucket,
    "google_vertex_ai_feature_online_store": feature_online_store,
    "google_vertex_ai_endpoint": vertex_endpoint,
    **{t: free_because(why) for t, why in FREE.items()},
    **{t: no_price_row(what) for t, what in UNPRICED.items()},
}
