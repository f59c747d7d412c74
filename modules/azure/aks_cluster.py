"""An AKS cluster: private API server (or authorized IP ranges), Microsoft Entra ID with Azure RBAC and
local accounts off, workload identity with the OIDC issuer, a user-assigned control plane identity,
Azure CNI overlay with Cilium, egress through the team's NAT gateway, and a small system node pool that
runs only critical add-ons. The cluster autoscaler uses the priority expander (see cluster_addons.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource
from terraml.policy.capacity import POOL_LABEL

# Overlay pod and service ranges: private, and never routed in the virtual network. The spec check
# (AzureCloud.check_block) refuses a team network that overlaps them.
POD_CIDR = "192.168.0.0/16"
SERVICE_CIDR = "172.16.0.0/16"
DNS_SERVICE_IP = "172.16.0.10"
MAX_PODS = 110
"""Per node; Azure CNI overlay allows up to 250 and AKS's default is 250 for overlay, 110 keeps kubelet
and the container runtime comfortable on small system nodes."""

SKIPS = {
    "CKV_AZURE_117": "OS and data disks are encrypted at rest with platform-managed keys and at the VM host "
                     "(host_encryption_enabled); a disk encryption set with a customer-managed key is not "
                     "offered yet",
    "CKV_AZURE_226": "the default system VM size (Standard_D4s_v5, the priced one) has no local disk to hold "
                     "an ephemeral OS disk; a size with one (e.g. Standard_D4ds_v5) can be set in "
                     "clouds.azure.system_vm_size",
}


@dataclass(frozen=True, kw_only=True)
class AksClusterProps:
    name: str
    dns_prefix: str
    resource_group: str
    location: str
    kubernetes_version: str
    tenant_id: str
    identity_name: str
    virtual_network_id: str
    node_subnet_id: str
    log_analytics_workspace_id: str
    public_api_cidrs: list[str] = field(default_factory=list)
    """Networks allowed to reach the API server from the internet; empty makes the cluster private."""
    admin_group_object_ids: list[str] = field(default_factory=list)
    system_vm_size: str = "Standard_D4s_v5"
    system_min_nodes: int = 2
    """Two nodes so cluster add-ons survive the loss of one."""
    system_max_nodes: int = 4
    zones: list[str] = field(default_factory=lambda: ["1", "2", "3"])
    host_encryption: bool = True
    container_insights: bool = True
    defender: bool = True
    sku_tier: str = "Standard"
    """Standard: financially backed API server SLA and more API server capacity (Free has neither)."""
    depends_on: list = field(default_factory=list)
    """What must exist before the cluster (the NAT gateway association for its egress)."""


class AksCluster(Module):
    def __init__(self, scope: Construct, id: str, props: AksClusterProps):
        super().__init__(scope, id)
        where = {"resource_group_name": props.resource_group, "location": props.location}
        identity = Resource(self, "identity", "azurerm_user_assigned_identity",
                            {"name": props.identity_name, **where}, tags={})
        # The control plane joins nodes to the team's subnet and uses its NAT gateway.
        network_role = Resource(self, "identity-network", "azurerm_role_assignment", {
            "scope": props.virtual_network_id, "role_definition_name": "Network Contributor",
            "principal_id": identity.attr("principal_id"), "principal_type": "ServicePrincipal"})
        private = not props.public_api_cidrs
        window = {"frequency": "Weekly", "interval": 1, "duration": 4, "day_of_week": "Sunday",
                  "start_time": "00:00", "utc_offset": "+00:00"}
        self.cluster = Resource(self, "cluster", "azurerm_kubernetes_cluster", {
            "name": props.name, **where, "dns_prefix": props.dns_prefix,
            "kubernetes_version": props.kubernetes_version, "sku_tier": props.sku_tier,
            "automatic_upgrade_channel": "patch", "node_os_upgrade_channel": "NodeImage",
            "maintenance_window_auto_upgrade": window, "maintenance_window_node_os": window,
            "private_cluster_enabled": private,
            "private_dns_zone_id": "System" if private else None,
            "private_cluster_public_fqdn_enabled": False,
            "api_server_access_profile": None if private else {"authorized_ip_ranges": list(props.public_api_cidrs)},
            "identity": {"type": "UserAssigned", "identity_ids": [identity.attr("id")]},
            "role_based_access_control_enabled": True,
            "azure_active_directory_role_based_access_control": {
                "azure_rbac_enabled": True, "tenant_id": props.tenant_id,
                "admin_group_object_ids": list(props.admin_group_object_ids) or None},
            "local_account_disabled": True,
            "oidc_issuer_enabled": True, "workload_identity_enabled": True,
            "azure_policy_enabled": True,
            "image_cleaner_enabled": True, "image_cleaner_interval_hours": 48,
            "key_vault_secrets_provider": {"secret_rotation_enabled": True, "secret_rotation_interval": "2m"},
            "network_profile": {
                "network_plugin": "azure", "network_plugin_mode": "overlay", "network_data_plane": "cilium",
                "network_policy": "cilium", "pod_cidr": POD_CIDR, "service_cidr": SERVICE_CIDR,
                "dns_service_ip": DNS_SERVICE_IP, "outbound_type": "userAssignedNATGateway",
                "load_balancer_sku": "standard"},
            # Node pools are terraml's (Manual), not node auto-provisioning's: the capacity plan decides them.
            "node_provisioning_profile": {"mode": "Manual"},
            "auto_scaler_profile": {
                # Spot groups first, on-demand fallback next: the tiers are in the
                # cluster-autoscaler-priority-expander ConfigMap.
                "expander": "priority",
                "balance_similar_node_groups": False,
                "max_node_provisioning_time": "15m",
                "scale_down_unneeded": "10m",
                "skip_nodes_with_local_storage": False},
            "oms_agent": {"log_analytics_workspace_id": props.log_analytics_workspace_id,
                          "msi_auth_for_monitoring_enabled": True} if props.container_insights else None,
            "microsoft_defender": {"log_analytics_workspace_id": props.log_analytics_workspace_id}
            if props.defender else None,
            "default_node_pool": {
                "name": "system", "vm_size": props.system_vm_size, "temporary_name_for_rotation": "systemtmp",
                "vnet_subnet_id": props.node_subnet_id, "zones": list(props.zones) or None,
                "auto_scaling_enabled": True, "min_count": props.system_min_nodes,
                "max_count": props.system_max_nodes, "max_pods": MAX_PODS,
                "only_critical_addons_enabled": True, "os_disk_type": "Managed", "os_disk_size_gb": 128,
                "host_encryption_enabled": props.host_encryption, "node_public_ip_enabled": False,
                "node_labels": {POOL_LABEL: "system"},
                "upgrade_settings": {"max_surge": "33%", "drain_timeout_in_minutes": 30,
                                     "node_soak_duration_in_minutes": 0},
            },
        }, tags={}, depends_on=[network_role, *props.depends_on], skip_checks=SKIPS,
            lifecycle={"ignore_changes": ["default_node_pool[0].node_count"]})
        self.id = self.cluster.attr("id")
        self.name = props.name
        self.host = self.cluster.attr("kube_config[0].host")
        self.ca_certificate = self.cluster.attr("kube_config[0].cluster_ca_certificate")
        self.kubelet_object_id = self.cluster.attr("kubelet_identity[0].object_id")
        self.oidc_issuer_url = self.cluster.attr("oidc_issuer_url")
        # The group AKS creates for the nodes (MC_<group>_<cluster>_<location>): the GPU spend is billed there.
        self.node_resource_group = self.cluster.attr("node_resource_group")
