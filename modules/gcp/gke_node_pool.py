"""One GKE node pool: a dedicated node service account, shielded nodes, Workload Identity metadata, CMEK
boot disks, autoscaling on total node counts. GPU pools are tainted, labelled and scale to zero, and GKE
installs their driver.

The spec's cloud-neutral words become GKE terms here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource
from terraml.policy.capacity import ACCELERATOR_LABEL, CAPACITY_LABEL, POOL_LABEL

# GKE taints GPU nodes with nvidia.com/gpu=present:NoSchedule by itself only while the cluster also has a
# pool without GPUs; declaring the same taint keeps non-GPU pods off GPU nodes in every cluster shape.
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
# Spot pools take capacity in whichever zone has it; on-demand pools stay balanced across zones.
LOCATION_POLICY = {"spot": "ANY", "on-demand": "BALANCED"}
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True, kw_only=True)
class GuestGpus:
    gce_type: str
    """Compute Engine accelerator type, e.g. 'nvidia-a100-80gb'."""
    count: int
    accelerator: str
    """The catalog's name, e.g. 'A100-80GB' (the node label)."""
    driver_version: str = "DEFAULT"
    """GKE installs the NVIDIA driver: 'DEFAULT' (the version's tested driver) or 'LATEST'."""


@dataclass(frozen=True, kw_only=True)
class GkeNodePoolProps:
    name: str
    cluster: str
    """Reference to the cluster's id."""
    location: str
    pool: str
    """The spec's pool name (node label), 'system' for the system pool."""
    machine_type: str
    capacity: str = "on-demand"
    """'spot' or 'on-demand'."""
    min_nodes: int = 0
    """Across all the pool's zones; 0 lets the pool scale to zero when no pod needs it."""
    max_nodes: int = 1
    service_account: str
    """Email of the node service account (never the Compute Engine default one)."""
    boot_disk_kms_key: str
    gpus: GuestGpus | None = None
    disk_size_gib: int = 200
    disk_type: str = "pd-balanced"
    node_locations: list[str] = field(default_factory=list)
    """Zones to run in; empty: the cluster's zones."""
    max_surge: int = 1
    """Extra nodes during upgrades; 0 for GPU pools, where a surge node is scarce and expensive."""


class GkeNodePool(Module):
    def __init__(self, scope: Construct, id: str, props: GkeNodePoolProps):
        super().__init__(scope, id)
        gpus = props.gpus
        labels = {POOL_LABEL: props.pool, CAPACITY_LABEL: props.capacity}
        node_config = {
            "machine_type": props.machine_type,
            "spot": props.capacity == "spot",
            "image_type": "COS_CONTAINERD",
            "disk_type": props.disk_type,
            "disk_size_gb": props.disk_size_gib,
            "boot_disk_kms_key": props.boot_disk_kms_key,
            "service_account": props.service_account,
            "oauth_scopes": [CLOUD_PLATFORM],  # access is decided by the account's IAM roles, not by scopes
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            # Pods see the GKE metadata server: Workload Identity, never the node's own credentials.
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "metadata": {"disable-legacy-endpoints": "true"},
            "labels": labels,
            "resource_labels": {},
        }
        if gpus is not None:
            labels[ACCELERATOR_LABEL] = gpus.accelerator
            node_config["guest_accelerator"] = [{
                "type": gpus.gce_type, "count": gpus.count,
                "gpu_driver_installation_config": {"gpu_driver_version": gpus.driver_version}}]
            node_config["taint"] = [GPU_TAINT]
        self.node_pool = Resource(self, "pool", "google_container_node_pool", {
            "name": props.name,
            "cluster": props.cluster,
            "location": props.location,
            "node_locations": list(props.node_locations) or None,
            "initial_node_count": 0 if props.min_nodes == 0 else 1,
            "autoscaling": {"total_min_node_count": props.min_nodes, "total_max_node_count": props.max_nodes,
                            "location_policy": LOCATION_POLICY[props.capacity]},
            "management": {"auto_repair": True, "auto_upgrade": True},
            "upgrade_settings": {"strategy": "SURGE", "max_surge": props.max_surge,
                                 "max_unavailable": 0 if props.max_surge else 1},
            "node_config": node_config,
        }, tags={},
            # initial_node_count forces a new pool when changed; the autoscaler owns the size after creation.
            lifecycle={"ignore_changes": ["initial_node_count"]})
