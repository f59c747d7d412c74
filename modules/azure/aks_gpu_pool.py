"""One AKS node pool of GPU nodes: tainted for GPU work, labelled, able to scale to zero.

The spec's cloud-neutral words become AKS terms here and nowhere else: a spot capacity group is a node
pool of priority Spot (evicted nodes are deleted, the price capped by ``spot_max_price``), an on-demand
one is priority Regular. AKS itself labels and taints every spot node with
``kubernetes.azure.com/scalesetpriority=spot``; the pool declares both, or every plan would show them as
a diff to remove (and removing them is refused).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource
from terraml.policy.capacity import ACCELERATOR_LABEL, CAPACITY_LABEL, POOL_LABEL

PRIORITY = {"spot": "Spot", "on-demand": "Regular"}
GPU_TAINT = "nvidia.com/gpu=true:NoSchedule"
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT = f"{SPOT_LABEL}=spot:NoSchedule"
SPOT_CAP_TAG = "terraml-spot-max-price"
NO_PRICE_CAP = -1
"""spot_max_price -1: pay the current spot price, up to the on-demand price; never evicted for price."""


@dataclass(frozen=True, kw_only=True)
class AksGpuPoolProps:
    name: str
    """The AKS pool name (<= 12 lowercase alphanumerics), from AzureNames.node_pool."""
    cluster_id: str
    pool: str
    subnet_id: str
    vm_size: str
    capacity: str
    """'spot' or 'on-demand'."""
    accelerator: str | None
    min_nodes: int = 0
    """0 lets the pool scale to zero when no GPU pod is pending."""
    max_nodes: int = 1
    spot_max_price_usd_per_hour: float | None = None
    """Spot only: Azure evicts the node when the spot price rises above it; None = no cap (-1)."""
    spot_max_price_note: str | None = None
    """Spot only: where the cap comes from and how old the prices behind it are; tagged on the pool
    (``terraml-spot-max-price``) so whoever looks at the pool in Azure sees it."""
    disk_size_gib: int = 200
    host_encryption: bool = True
    max_pods: int = 110


class AksGpuPool(Module):
    def __init__(self, scope: Construct, id: str, props: AksGpuPoolProps):
        super().__init__(scope, id)
        spot = props.capacity == "spot"
        # The accelerator label also places the NVIDIA device plugin (cluster_addons.py) on GPU nodes.
        labels = {POOL_LABEL: props.pool, CAPACITY_LABEL: props.capacity,
                  ACCELERATOR_LABEL: props.accelerator or "unknown"}
        taints = [GPU_TAINT]
        if spot:
            labels[SPOT_LABEL] = "spot"
            taints.append(SPOT_TAINT)
        price = props.spot_max_price_usd_per_hour
        self.pool = Resource(self, "pool", "azurerm_kubernetes_cluster_node_pool", {
            "name": props.name, "kubernetes_cluster_id": props.cluster_id, "mode": "User",
            "vm_size": props.vm_size, "vnet_subnet_id": props.subnet_id, "os_type": "Linux",
            "priority": PRIORITY[props.capacity],
            "eviction_policy": "Delete" if spot else None,
            "spot_max_price": (NO_PRICE_CAP if price is None else price) if spot else None,
            "auto_scaling_enabled": True, "min_count": props.min_nodes, "max_count": props.max_nodes,
            "node_count": props.min_nodes,
            "node_labels": labels, "node_taints": taints,
            "os_disk_type": "Managed", "os_disk_size_gb": props.disk_size_gib,
            "host_encryption_enabled": props.host_encryption, "node_public_ip_enabled": False,
            "max_pods": props.max_pods,
            # Spot pools cannot surge; a regular pool upgrades one node at a time (GPU quota is tight).
            "upgrade_settings": None if spot else {"max_surge": "1", "drain_timeout_in_minutes": 30,
                                                   "node_soak_duration_in_minutes": 0},
        }, tags={SPOT_CAP_TAG: props.spot_max_price_note} if spot and props.spot_max_price_note else {},
            lifecycle={"ignore_changes": ["node_count"]})
