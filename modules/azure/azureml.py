"""Azure Machine Learning: the team's workspace (and feature store), a compute cluster per GPU capacity
group, and online endpoints.

Both workspaces use the team's Key Vault, storage account, Application Insights and registry, have no
public network access (a private endpoint in the team's network), reach their own resources through a
managed virtual network, and read the storage account with their managed identity (shared keys are off).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

OUTBOUND = {"approved-only": "AllowOnlyApprovedOutbound", "internet": "AllowInternetOutbound"}
VM_PRIORITY = {"spot": "LowPriority", "on-demand": "Dedicated"}
ONLINE_ENDPOINTS_API = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-10-01"
SPARK_RUNTIME = "3.4"
"""Serverless Spark runtime that materializes feature sets."""

# Workspace data is encrypted with Microsoft-managed keys: a customer-managed key would add a
# Microsoft-managed Cosmos DB, Search and storage per workspace at the team's cost.


@dataclass(frozen=True, kw_only=True)
class MlWorkspaceProps:
    name: str
    resource_group: str
    location: str
    key_vault_id: str
    storage_account_id: str
    application_insights_id: str
    container_registry_id: str | None = None
    """The team registry; without one, Azure ML creates its own registry on the first image build."""
    outbound: str = "approved-only"
    """'approved-only' or 'internet': the managed network's outbound mode (clouds.azure.ml_outbound)."""
    feature_store: bool = False
    """A feature store (kind FeatureStore) instead of a regular workspace."""


class MlWorkspace(Module):
    def __init__(self, scope: Construct, id: str, props: MlWorkspaceProps):
        super().__init__(scope, id)
        self.workspace = Resource(self, "workspace", "azurerm_machine_learning_workspace", {
            "name": props.name, "resource_group_name": props.resource_group, "location": props.location,
            "kind": "FeatureStore" if props.feature_store else "Default", "sku_name": "Basic",
            "identity": {"type": "SystemAssigned"},
            "key_vault_id": props.key_vault_id, "storage_account_id": props.storage_account_id,
            "application_insights_id": props.application_insights_id,
            "container_registry_id": props.container_registry_id,
            "public_network_access_enabled": False,
            "managed_network": {"isolation_mode": OUTBOUND[props.outbound]},
            "serverless_compute": {"public_ip_enabled": False},
            # System datastores use the workspace identity: the account has no shared keys.
            "storage_account_access_type": "identity",
            "v1_legacy_mode_enabled": False,
            "feature_store": {"computer_spark_runtime_version": SPARK_RUNTIME,
                              "offline_connection_name": "OfflineStoreConnectionName",
                              "online_connection_name": "OnlineStoreConnectionName"}
            if props.feature_store else None,
        }, tags={})
        self.id = self.workspace.attr("id")


@dataclass(frozen=True, kw_only=True)
class MlComputeClusterProps:
    name: str
    location: str
    workspace_id: str
    vm_size: str
    capacity: str
    """'spot' (LowPriority: preemptible, at the spot price) or 'on-demand' (Dedicated)."""
    max_nodes: int
    min_nodes: int = 0
    """0: no node, no cost, while no job runs."""
    idle_minutes: int = 15
    """Nodes idle this long are released."""


class MlComputeCluster(Module):
    def __init__(self, scope: Construct, id: str, props: MlComputeClusterProps):
        super().__init__(scope, id)
        Resource(self, "cluster", "azurerm_machine_learning_compute_cluster", {
            "name": props.name, "location": props.location, "machine_learning_workspace_id": props.workspace_id,
            "vm_size": props.vm_size, "vm_priority": VM_PRIORITY[props.capacity],
            "scale_settings": {"min_node_count": props.min_nodes, "max_node_count": props.max_nodes,
                               "scale_down_nodes_after_idle_duration": f"PT{props.idle_minutes}M"},
            "identity": {"type": "SystemAssigned"},
            # Nodes sit in the workspace's managed network, with no public IP and no SSH.
            "node_public_ip_enabled": False, "ssh_public_access_enabled": False, "local_auth_enabled": False,
        }, tags={})


class _NotedResource(Resource):
    """A resource with a terraml note under its '//' comment, which Terraform ignores."""

    def __init__(self, *args, note: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.terraml_note = note

    def to_json(self, stack_path: str) -> dict:
        block = super().to_json(stack_path)
        if self.terraml_note:
            block["//"]["terraml"] = self.terraml_note
        return block


@dataclass(frozen=True, kw_only=True)
class MlOnlineEndpointProps:
    name: str
    location: str
    workspace_id: str
    description: str = ""
    instance_type: str | None = None
    """The VM size its deployments run on (the spec's endpoints[].instance_type), recorded for the estimate."""
    min_instances: int = 1
    max_instances: int = 1


class MlOnlineEndpoint(Module):
    """A managed online endpoint (azurerm has no resource for it, so azapi), with Entra ID auth and no
    public network access. Its deployments and traffic split belong to ``terraml deploy``, not to the
    stack: after creation the stack changes nothing in the endpoint, because a PUT without the traffic
    split would send no traffic anywhere."""

    def __init__(self, scope: Construct, id: str, props: MlOnlineEndpointProps):
        super().__init__(scope, id)
        # A note under the block's '//' comment (Terraform ignores '//'): the instances the deployments that
        # terraml deploy makes will run on, so `terraml cost` prices them from the stack alone.
        note = {"online_endpoint": {"instance_type": props.instance_type, "min_instances": props.min_instances,
                                    "max_instances": props.max_instances}} if props.instance_type else None
        self.endpoint = _NotedResource(self, "endpoint", "azapi_resource", {
            "type": ONLINE_ENDPOINTS_API, "name": props.name, "parent_id": props.workspace_id,
            "location": props.location, "identity": [{"type": "SystemAssigned"}],
            "body": {"kind": "Managed", "properties": {
                "authMode": "AADToken", "publicNetworkAccess": "Disabled", "description": props.description}},
            "response_export_values": {"scoring_uri": "properties.scoringUri"},
        }, tags={}, lifecycle={"ignore_changes": ["body", "tags"]}, note=note)
        self.scoring_uri = self.endpoint.attr("output.scoring_uri")
