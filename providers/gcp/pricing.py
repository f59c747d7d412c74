"""GCP resource types (GKE, Artifact Registry, Cloud Storage), for stacks terraml or others write."""

from __future__ import annotations

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because
from terraml.providers.gcp.regions import ZONE

# GKE's accelerator type names -> the catalog's accelerator names.
ACCELERATOR = {"nvidia-tesla-t4": "T4", "nvidia-tesla-v100": "V100", "nvidia-tesla-p100": "P100",
               "nvidia-tesla-p4": "P4", "nvidia-l4": "L4", "nvidia-tesla-a100": "A100", "nvidia-a100-80gb": "A100-80GB",
               "nvidia-h100-80gb": "H100", "nvidia-h100-mega-80gb": "H100-MEGA", "nvidia-h200-141gb": "H200"}


def _block(value) -> dict:
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def container_cluster(r: ResourceToPrice) -> list[Line]:
    return r.fee("gcp.gke.cluster", "cluster management fee", r.usage.hours_per_month, "cluster-hours",
                 "the $74.40/month free-tier credit per billing account is not deducted")


def node_pool(r: ResourceToPrice) -> list[Line]:
    config = _block(r.block.get("node_config"))
    machine = config.get("machine_type", "e2-medium")
    spot = bool(config.get("spot") or config.get("preemptible"))
    auto = _block(r.block.get("autoscaling"))
    location = r.block.get("location") or ""
    zones = len(r.block.get("node_locations") or []) or (1 if ZONE.match(location) else 3)
    if "total_min_node_count" in auto or "total_max_node_count" in auto:
        low, high, how = auto.get("total_min_node_count", 0), auto.get("total_max_node_count", 0), "total"
    elif auto:
        low, high = auto.get("min_node_count", 0) * zones, auto.get("max_node_count", 0) * zones
        how = f"per-zone counts x {zones} zone(s)"
    else:
        per_zone = r.block.get("node_count", r.block.get("initial_node_count", 1))
        low = high = per_zone * zones
        how = f"fixed {per_zone} per zone x {zones} zone(s)"
    lines = r.nodes("nodes", machine, low, high, spot, f"node counts: {how}")
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


def artifact_registry(r: ResourceToPrice) -> list[Line]:
    return r.storage("gcp.artifact_registry.storage", "image storage", "registry_storage_gb", "of images",
                     "the 0.5 GB free tier is not deducted")


def storage_bucket(r: ResourceToPrice) -> list[Line]:
    return r.storage("gcp.gcs.standard_storage", "storage", "bucket_storage_gb", "in Standard storage")


FREE = {t: "networking and identity objects carry no charge" for t in (
    "google_compute_network", "google_compute_subnetwork", "google_compute_router", "google_service_account",
    "google_project_iam_member", "google_service_account_iam_member", "google_compute_firewall")}

PRICERS = {
    "google_container_cluster": container_cluster,
    "google_container_node_pool": node_pool,
    "google_artifact_registry_repository": artifact_registry,
    "google_storage_bucket": storage_bucket,
    **{t: free_because(why) for t, why in FREE.items()},
}
