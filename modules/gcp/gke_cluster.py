"""A regional GKE Standard cluster: private nodes, a private control-plane endpoint unless networks are
named, Workload Identity, shielded nodes, secrets encrypted with the team's key, a release channel, a
dedicated least-privilege node service account and a small on-demand system pool."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource
from terraml.modules.gcp.gke_node_pool import CLOUD_PLATFORM, GkeNodePool, GkeNodePoolProps
from terraml.modules.gcp.iam import ServiceAccount, ServiceAccountProps

# What a node needs and no more: write logs and metrics, read its own monitoring config
# (https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent).
# Pulling the team's images is granted on the repository itself.
NODE_ROLES = ["roles/container.defaultNodeServiceAccount"]
SKIPS = {
    "CKV_GCP_12": "Dataplane V2 (datapath_provider ADVANCED_DATAPATH) enforces network policies; the Calico "
                  "network_policy block cannot be combined with it",
    "CKV_GCP_65": "Google Groups for RBAC needs the organization's Workspace group gke-security-groups@<domain>, "
                  "which the spec does not name; RBAC binds IAM principals",
    "CKV_GCP_66": "Binary Authorization needs an attestation pipeline; images come from the team's own "
                  "registry with immutable tags, scanned on push",
}


@dataclass(frozen=True, kw_only=True)
class GkeClusterProps:
    name: str
    project: str
    region: str
    kubernetes_version: str
    network: str
    subnetwork: str
    pods_range: str
    services_range: str
    control_plane_cidr: str
    """The /28 the control plane's private endpoint takes (inside the team's range, outside every subnet)."""
    secrets_kms_key: str
    """Key of the application-layer encryption of Kubernetes secrets (read through the GKE agent's grant)."""
    boot_disk_kms_key: str
    """Key of every node's boot disk (read through the Compute Engine agent's grant)."""
    node_service_account_id: str
    public_api_cidrs: list[str] = field(default_factory=list)
    """Networks allowed to reach the API from the internet; empty keeps the endpoint private."""
    release_channel: str = "REGULAR"
    """GKE upgrades the control plane and nodes within this channel, with its maintenance windows."""
    max_pods_per_node: int = 64
    """Each node takes a /25 of the pods range; ML nodes run few pods, so the range holds more nodes."""
    system_machine_type: str = "e2-standard-4"
    system_min_nodes: int = 2
    """Two nodes so cluster add-ons survive the loss of one."""
    system_max_nodes: int = 4


class GkeCluster(Module):
    def __init__(self, scope: Construct, id: str, props: GkeClusterProps):
        super().__init__(scope, id)
        nodes = ServiceAccount(self, "nodes", ServiceAccountProps(
            account_id=props.node_service_account_id, project=props.project,
            display_name=f"GKE nodes of {props.name}", project_roles=NODE_ROLES))
        self.node_service_account = nodes.email
        self.node_member = nodes.member
        public = bool(props.public_api_cidrs)
        self.workload_pool = f"{props.project}.svc.id.goog"
        self.cluster = Resource(self, "cluster", "google_container_cluster", {
            "name": props.name,
            "location": props.region,
            "network": props.network,
            "subnetwork": props.subnetwork,
            "min_master_version": props.kubernetes_version,
            "release_channel": {"channel": props.release_channel},
            # GKE needs a pool to create a cluster; terraml's pools are separate resources, so the default
            # one is removed right away. Until then it runs as the node account, never the default one.
            "remove_default_node_pool": True,
            "initial_node_count": 1,
            "node_config": {
                "service_account": nodes.email, "oauth_scopes": [CLOUD_PLATFORM],
                "boot_disk_kms_key": props.boot_disk_kms_key,
                "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                "workload_metadata_config": {"mode": "GKE_METADATA"},
                "metadata": {"disable-legacy-endpoints": "true"},
            },
            "networking_mode": "VPC_NATIVE",
            "ip_allocation_policy": {"cluster_secondary_range_name": props.pods_range,
                                     "services_secondary_range_name": props.services_range},
            "default_max_pods_per_node": props.max_pods_per_node,
            "private_cluster_config": {
                "enable_private_nodes": True,
                "enable_private_endpoint": not public,
                "master_ipv4_cidr_block": props.control_plane_cidr,
                "master_global_access_config": {"enabled": True},
            },
            # Only these networks reach the API: the public ones named in the spec, or (none named) the
            # private endpoint from the team's VPC only.
            "master_authorized_networks_config": {
                "cidr_blocks": [{"cidr_block": c, "display_name": f"public-api-{i}"}
                                for i, c in enumerate(props.public_api_cidrs)],
                "gcp_public_cidrs_access_enabled": False,
            },
            "workload_identity_config": {"workload_pool": self.workload_pool},
            "enable_shielded_nodes": True,
            "enable_legacy_abac": False,
            "master_auth": {"client_certificate_config": {"issue_client_certificate": False}},
            "database_encryption": {"state": "ENCRYPTED", "key_name": props.secrets_kms_key},
            # Dataplane V2 enforces Kubernetes network policies.
            "datapath_provider": "ADVANCED_DATAPATH",
            # Pod-to-pod traffic on one node goes through the VPC too, so the flow logs see it.
            "enable_intranode_visibility": True,
            "logging_config": {"enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"]},
            "monitoring_config": {"enable_components": ["SYSTEM_COMPONENTS"],
                                  "managed_prometheus": {"enabled": True}},
            # Splits the bill by namespace and Kubernetes label in the billing export.
            "cost_management_config": {"enabled": True},
            "deletion_protection": True,
            "resource_labels": {},
        }, tags={}, skip_checks=SKIPS,
            # The default pool is gone after creation: its size and config must never plan a replacement.
            lifecycle={"ignore_changes": ["initial_node_count", "node_config"]})
        self.id = self.cluster.attr("id")
        self.name = self.cluster.attr("name")
        self.system_pool = GkeNodePool(self, "system-pool", GkeNodePoolProps(
            name="system", cluster=self.id, location=props.region, pool="system",
            machine_type=props.system_machine_type, capacity="on-demand", min_nodes=props.system_min_nodes,
            max_nodes=props.system_max_nodes, service_account=nodes.email,
            boot_disk_kms_key=props.boot_disk_kms_key, disk_size_gib=100))
