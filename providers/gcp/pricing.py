"""GCP resource types (GKE, Artifact Registry, Cloud Storage, Vertex AI, ...), for stacks terraml or others
write. Every type the GCP team stack emits is here: priced, free with the reason, or unpriced with the reason."""

from __future__ import annotations

import re

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because
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


ENDPOINT_DESCRIPTION = re.compile(r"^terraml endpoint [^:]+: (?P<machine>[a-z0-9-]+)(?: \+ (?P<count>\d+) x "
                                  r"(?P<accelerator>[A-Za-z0-9-]+))?, (?P<low>\d+)-(?P<high>\d+) replicas")
"""What the GCP stack writes into a Vertex AI endpoint's description (providers/gcp/stack.py): the machine, the
GPUs and the replica range the Vertex AI backend deploys models with."""


def vertex_endpoint(r: ResourceToPrice) -> list[Line]:
    """The deployed model's nodes: machine-hours at the endpoint's minimum and maximum replicas, from a Vertex AI
    online prediction row (the endpoint itself has no charge)."""
    match = ENDPOINT_DESCRIPTION.match(str(r.block.get("description") or ""))
    if match is None:
        return r.unpriced("the endpoint itself has no charge; the machine type and replicas of the models deployed "
                          "onto it are not in the stack", "deployed model nodes")
    machine, low, high = match["machine"], int(match["low"]), int(match["high"])
    hours = r.usage.hours_per_month
    gpus = f" + {match['count']} x {match['accelerator']}" if match["accelerator"] else ""
    what = f"{low}-{high} replicas x {hours:g} h of {machine}{gpus} ({low * hours:g}-{high * hours:g} node-hours)"
    row = r.catalog.managed_row("gcp", r.region, machine, "online prediction node-hour")
    if row is None:
        return r.unpriced(f"Vertex AI online prediction, {what}: no online prediction price for {machine} in "
                          f"{r.region} in managed_ml_prices.csv (Vertex AI bills prediction nodes above the Compute "
                          "Engine price, so the VM row does not apply)", "deployed model nodes")
    lines = [r.hourly("deployed model nodes", low, high, row.usd_per_hour,
                      f"managed_ml_prices.csv gcp {r.region} {machine} online prediction", row.source, row.as_of,
                      "on-demand", f"replicas: the endpoint's min_replicas-max_replicas ({low}-{high})")]
    if match["accelerator"] and bundled_gpus(machine) is None:
        lines += r.unpriced(f"Vertex AI online prediction GPUs, {match['count']} x {match['accelerator']} per node: "
                            "no accelerator row in managed_ml_prices.csv", "deployed model GPUs")
    return lines


def router_nat(r: ResourceToPrice) -> list[Line]:
    return r.unpriced("Cloud NAT: billed per VM using the gateway per hour and per GB processed; no sourced GCP NAT "
                      "row in fixed_fees.csv (none in shared/pricing)", "gateway and data processed")


def kms_crypto_key(r: ResourceToPrice) -> list[Line]:
    period = str(r.block.get("rotation_period") or "")
    days = int(period[:-1]) / 86400 if period.endswith("s") and period[:-1].isdigit() else None
    rotation = (f"it rotates every {days:g} days and each version stays billed until destroyed" if days
                else "each version stays billed until destroyed")
    return r.unpriced(f"Cloud KMS: billed per active key version per month ({rotation}) and per operation; no sourced "
                      "GCP KMS row in fixed_fees.csv (none in shared/pricing)", "key versions")


def bigquery_table(r: ResourceToPrice) -> list[Line]:
    if r.block.get("view"):
        return r.free("a view stores no data; the queries that read it are billed to whoever runs them")
    return r.unpriced("BigQuery storage (per GB-month, active and long-term) and the queries that read it: no sourced "
                      "BigQuery row in fixed_fees.csv (none in shared/pricing)", "table storage")


def feature_view(r: ResourceToPrice) -> list[Line]:
    cron = _block(r.block.get("sync_config")).get("cron")
    row = r.catalog.managed_row("gcp", r.region, "data processing node", "feature store data processing")
    rate = f" at ${row.usd_per_hour:g}/node-hour (managed_ml_prices.csv)" if row else ""
    when = f" on the schedule '{cron}'" if cron else ""
    return r.unpriced(f"Vertex AI Feature Store sync{when} is billed per data processing node-hour{rate}; the "
                      "node-hours of a sync depend on the data and are not in the stack", "feature view sync")


FREE = {
    **{t: "networking and identity objects carry no charge" for t in (
        "google_compute_network", "google_compute_subnetwork", "google_compute_router", "google_service_account",
        "google_project_iam_member", "google_service_account_iam_member", "google_compute_firewall",
        "google_kms_key_ring", "google_kms_crypto_key_iam_member", "google_storage_bucket_iam_member",
        "google_artifact_registry_repository_iam_member", "google_bigquery_dataset_iam_member")},
    "google_billing_budget": "Cloud Billing budgets carry no charge",
    "google_project_service": "enabling a Google API carries no charge; what runs on it is billed by its own "
                              "resources",
    "google_monitoring_notification_channel": "Cloud Monitoring notification channels carry no charge",
    "google_bigquery_dataset": "a dataset carries no charge; its tables' storage does",
    "google_vertex_ai_feature_group": "the Feature Registry (feature groups and features) carries no charge",
    "google_vertex_ai_feature_group_feature": "the Feature Registry (feature groups and features) carries no charge",
}


PRICERS = {
    "google_container_cluster": container_cluster,
    "google_container_node_pool": node_pool,
    "google_artifact_registry_repository": artifact_registry,
    "google_storage_bucket": storage_bucket,
    "google_vertex_ai_feature_online_store": feature_online_store,
    "google_vertex_ai_endpoint": vertex_endpoint,
    "google_compute_router_nat": router_nat,
    "google_kms_crypto_key": kms_crypto_key,
    "google_bigquery_table": bigquery_table,
    "google_vertex_ai_feature_online_store_featureview": feature_view,
    **{t: free_because(why) for t, why in FREE.items()},
}
