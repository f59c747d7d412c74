"""One team's Azure environment as a single CDK Terrain stack."""

from __future__ import annotations

from cdktn import AzurermBackend, TerraformOutput, TerraformStack
from constructs import Construct

from terraml.inventory import StackContext
from terraml.modules.azure.aks_cluster import AksCluster, AksClusterProps
from terraml.modules.azure.aks_gpu_pool import AksGpuPool, AksGpuPoolProps
from terraml.modules.azure.azureml import (
    MlComputeCluster,
    MlComputeClusterProps,
    MlOnlineEndpoint,
    MlOnlineEndpointProps,
    MlWorkspace,
    MlWorkspaceProps,
)
from terraml.modules.azure.budget import TeamBudget, TeamBudgetProps
from terraml.modules.azure.cluster_addons import ClusterAddons, ClusterAddonsProps
from terraml.modules.azure.container_registry import ContainerRegistry, ContainerRegistryProps
from terraml.modules.azure.key_vault import KeyVault, KeyVaultKey, KeyVaultKeyProps, KeyVaultProps
from terraml.modules.azure.monitoring import Diagnostics, DiagnosticsProps, Monitoring, MonitoringProps
from terraml.modules.azure.network import VirtualNetwork, VirtualNetworkProps
from terraml.modules.azure.private_endpoint import (
    PrivateDnsZones,
    PrivateDnsZonesProps,
    PrivateEndpoint,
    PrivateEndpointProps,
)
from terraml.modules.azure.storage_account import StorageAccount, StorageAccountProps
from terraml.modules.azure.tags import AzureTagAspect
from terraml.modules.core import DataSource, Provider, Resource, apply_aspects
from terraml.policy.capacity import autoscaler_priorities, capacity_plan
from terraml.policy.machines import resolve_machine
from terraml.providers.azure.cloud import AzureCloud
from terraml.providers.azure.names import AzureNames
from terraml.providers.azure.pricing import spot_cap_note

# AKS names each node pool's scale set 'aks-<pool name>-<digits>-vmss', and the cluster autoscaler's
# priority expander matches those; the pool name ends with the plan's suffix, which decides the tier.
PRIORITIES = autoscaler_priorities("^aks-[a-z0-9]*{suffix}-[0-9]+-vmss$")
CLUSTER_ADMIN = "Azure Kubernetes Service RBAC Cluster Admin"


class AzureTeamStack(TerraformStack):
    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx.stack_name)
        self.terraml_resources: list[Resource] = []
        team, azure = ctx.team, ctx.team.clouds.azure
        names = AzureNames.for_team(ctx.platform, team)
        location = azure.location
        Provider(self, "azurerm", {
            "subscription_id": azure.subscription_id,
            # The storage account has no shared keys: the provider reaches its data plane with Entra ID.
            "storage_use_azuread": True,
            "features": {"resource_group": {"prevent_deletion_if_contains_resources": True},
                         "key_vault": {"purge_soft_delete_on_destroy": False,
                                       "recover_soft_deleted_key_vaults": True}},
        })
        Provider(self, "azapi", {"subscription_id": azure.subscription_id})
        self._backend(ctx)
        client = DataSource(self, "client", "azurerm_client_config")
        group = Resource(self, "resource-group", "azurerm_resource_group",
                         {"name": names.resource_group, "location": location}, tags={})
        rg = group.attr("name")  # a reference, so everything waits for the group
        where = {"resource_group": rg, "location": location}

        net = VirtualNetwork(self, "network", VirtualNetworkProps(
            name=names.virtual_network, **where, cidr=azure.network.cidr,
            node_subnet=names.subnet("nodes"), endpoint_subnet=names.subnet("endpoints"),
            node_nsg=names.network_security_group("nodes"), endpoint_nsg=names.network_security_group("endpoints"),
            nat_gateway=names.nat_gateway, nat_public_ip=names.nat_public_ip))
        monitoring = Monitoring(self, "monitoring", MonitoringProps(
            log_analytics=names.log_analytics, application_insights=names.application_insights, **where))

        cluster = AksCluster(self, "aks", AksClusterProps(
            name=names.cluster, dns_prefix=names.dns_prefix, **where,
            kubernetes_version=ctx.platform.defaults.kubernetes_version, tenant_id=client.attr("tenant_id"),
            identity_name=names.identity("aks"), virtual_network_id=net.id, node_subnet_id=net.node_subnet_id,
            log_analytics_workspace_id=monitoring.workspace_id,
            public_api_cidrs=[str(c) for c in azure.network.public_api_cidrs],
            admin_group_object_ids=list(azure.admin_group_object_ids), system_vm_size=azure.system_vm_size,
            zones=list(azure.availability_zones), host_encryption=azure.host_encryption,
            container_insights=azure.container_insights, defender=azure.defender,
            depends_on=[net.nat_association]))
        Diagnostics(self, "aks-diagnostics", DiagnosticsProps(
            target_id=cluster.id, log_analytics_workspace_id=monitoring.workspace_id, category_groups=(),
            categories=("kube-audit-admin", "guard")))
        # Whoever deploys the stack administers the cluster (it installs the add-ons), and so do the
        # spec's admin groups: with local accounts off, Azure RBAC is the only way in.
        admins = [Resource(self, "aks-admin-deployer", "azurerm_role_assignment", {
            "scope": cluster.id, "role_definition_name": CLUSTER_ADMIN, "principal_id": client.attr("object_id")})]
        for i, group_id in enumerate(azure.admin_group_object_ids):
            admins.append(Resource(self, f"aks-admin-group-{i}", "azurerm_role_assignment", {
                "scope": cluster.id, "role_definition_name": CLUSTER_ADMIN, "principal_id": group_id,
                "principal_type": "Group"}))

        pools = []
        for pool in azure.gpu_pools:
            machine = resolve_machine(AzureCloud.NAME, location, pool.instance_type, pool.accelerator,
                                      pool.accelerator_count, ctx.catalog)
            plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=pool.min_nodes,
                                 max_nodes=pool.max_nodes, price_cap_enforced_by_cloud=AzureCloud.SPOT_PRICE_CAP)
            for group_plan in plan.groups:
                pools.append(AksGpuPool(self, f"pool-{pool.name}-{group_plan.capacity}", AksGpuPoolProps(
                    name=names.node_pool(pool.name, group_plan.suffix), cluster_id=cluster.id, pool=pool.name,
                    subnet_id=net.node_subnet_id, vm_size=machine.instance_type, capacity=group_plan.capacity,
                    accelerator=machine.accelerator or pool.accelerator, min_nodes=group_plan.min_nodes,
                    max_nodes=group_plan.max_nodes, spot_max_price_usd_per_hour=group_plan.max_price_usd_per_hour,
                    spot_max_price_note=spot_cap_note(group_plan.max_price_usd_per_hour, pool.spot.max_price_ratio,
                                                      machine.row)
                    if group_plan.max_price_usd_per_hour is not None and machine.row is not None else None,
                    disk_size_gib=pool.disk_size_gib, host_encryption=azure.host_encryption)))
        if azure.gpu_pools:
            ClusterAddons(self, "addons", ClusterAddonsProps(
                host=cluster.host, ca_certificate=cluster.ca_certificate, priorities=PRIORITIES),
                depends_on=[*admins, *(p.pool for p in pools)])

        # ---------------------------------------------------------------- data: keys, storage, registry
        cmk = azure.storage.customer_managed_key
        vault = KeyVault(self, "key-vault", KeyVaultProps(
            name=names.key_vault, **where, tenant_id=client.attr("tenant_id"), hsm_keys=cmk))
        key = identity = None
        if cmk:
            crypto_officer = Resource(self, "kv-crypto-officer-deployer", "azurerm_role_assignment", {
                "scope": vault.id, "role_definition_name": "Key Vault Crypto Officer",
                "principal_id": client.attr("object_id")})
            key = KeyVaultKey(self, "storage-key", KeyVaultKeyProps(name="storage", key_vault_id=vault.id),
                              depends_on=[crypto_officer])
            identity = Resource(self, "storage-identity", "azurerm_user_assigned_identity",
                                {"name": names.identity("storage"), "resource_group_name": rg, "location": location},
                                tags={})
            Resource(self, "storage-identity-key", "azurerm_role_assignment", {
                "scope": vault.id, "role_definition_name": "Key Vault Crypto Service Encryption User",
                "principal_id": identity.attr("principal_id"), "principal_type": "ServicePrincipal"})
        storage = StorageAccount(self, "storage", StorageAccountProps(
            name=names.storage_account, **where, soft_delete_days=azure.storage.soft_delete_days,
            customer_managed_key_id=key.versionless_id if key else None,
            identity_id=identity.attr("id") if identity else None))
        Diagnostics(self, "storage-diagnostics", DiagnosticsProps(
            target_id=storage.blob_service_id, log_analytics_workspace_id=monitoring.workspace_id))
        Diagnostics(self, "key-vault-diagnostics", DiagnosticsProps(
            target_id=vault.id, log_analytics_workspace_id=monitoring.workspace_id))
        registry = None
        if azure.registry is not None:
            registry = ContainerRegistry(self, "registry", ContainerRegistryProps(
                name=names.container_registry, **where, sku=azure.registry.sku,
                keep_images=azure.registry.keep_images, purge_task_name=names.registry_purge_task))
            Resource(self, "aks-acr-pull", "azurerm_role_assignment", {
                "scope": registry.id, "role_definition_name": "AcrPull", "principal_id": cluster.kubelet_object_id,
                "principal_type": "ServicePrincipal"})
            TerraformOutput(self, "registry_login_server", value=registry.login_server)

        # ---------------------------------------------------------------- Azure ML
        ml = dict(key_vault_id=vault.id, storage_account_id=storage.id,
                  application_insights_id=monitoring.insights.attr("id"),
                  container_registry_id=registry.id if registry else None, outbound=azure.ml_outbound, **where)
        workspace = MlWorkspace(self, "ml", MlWorkspaceProps(name=names.ml_workspace, **ml))
        features = None
        if azure.feature_store:
            features = MlWorkspace(self, "feature-store", MlWorkspaceProps(
                name=names.feature_store, feature_store=True, **ml))
        for pool in azure.gpu_pools:
            machine = resolve_machine(AzureCloud.NAME, location, pool.instance_type, pool.accelerator,
                                      pool.accelerator_count, ctx.catalog)
            plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=0,
                                 max_nodes=pool.max_nodes, price_cap_enforced_by_cloud=AzureCloud.SPOT_PRICE_CAP)
            for group_plan in plan.groups:
                MlComputeCluster(self, f"compute-{pool.name}-{group_plan.capacity}", MlComputeClusterProps(
                    name=names.ml_compute(pool.name, group_plan.suffix), location=location,
                    workspace_id=workspace.id, vm_size=machine.instance_type, capacity=group_plan.capacity,
                    max_nodes=group_plan.max_nodes))
        for ep in azure.endpoints:
            MlOnlineEndpoint(self, f"endpoint-{ep.name}", MlOnlineEndpointProps(
                name=names.ml_endpoint(ep.name), location=location, workspace_id=workspace.id,
                instance_type=ep.instance_type, min_instances=ep.min_replicas, max_instances=ep.max_replicas,
                description=f"{team.name}/{ep.name}: deployments on {ep.instance_type}, "
                            f"{ep.min_replicas}-{ep.max_replicas} instances, managed by terraml deploy"))

        # ---------------------------------------------------------------- private endpoints
        targets = [("kv", vault.id, "vault"), ("st-blob", storage.id, "blob"), ("st-file", storage.id, "file"),
                   ("mlw", workspace.id, "amlworkspace")]
        if registry is not None and azure.registry.sku == "Premium":
            targets.append(("cr", registry.id, "registry"))
        if features is not None:
            targets.append(("mlfs", features.id, "amlworkspace"))
        zones = PrivateDnsZones(self, "dns", PrivateDnsZonesProps(
            resource_group=rg, virtual_network_id=net.id, link_name=names.virtual_network,
            subresources=tuple(sorted({t[2] for t in targets}))))
        for target, target_id, subresource in targets:
            PrivateEndpoint(self, f"pe-{target}", PrivateEndpointProps(
                name=names.private_endpoint(target), **where, subnet_id=net.endpoint_subnet_id,
                target_id=target_id, subresource=subresource, dns_zone_ids=zones.for_subresource(subresource)))

        if team.budget:
            # The team's group and the AKS node group, where the nodes are billed (modules/azure/budget.py says
            # why one subscription budget filtered to both, not one budget per group or a tag filter).
            node_group = f"${{lower({cluster.node_resource_group[2:-1]})}}"
            TeamBudget(self, "budget", TeamBudgetProps(
                name=names.budget, subscription_id=f"/subscriptions/{azure.subscription_id}",
                resource_groups=[names.resource_group.lower(), node_group], monthly_usd=team.budget.monthly_usd,
                owners=list(team.owners), alert_at_percent=list(team.budget.alert_at_percent)))
        TerraformOutput(self, "resource_group", value=names.resource_group)
        TerraformOutput(self, "cluster_name", value=names.cluster)
        TerraformOutput(self, "storage_account", value=names.storage_account)
        TerraformOutput(self, "ml_workspace", value=names.ml_workspace)
        TerraformOutput(self, "oidc_issuer_url", value=cluster.oidc_issuer_url)
        apply_aspects(self, AzureTagAspect(ctx.tags))

    def _backend(self, ctx: StackContext) -> None:
        state = ctx.platform.defaults.state.azure
        if state is None:
            return  # local state file in the stack's folder (cdktn's default)
        AzurermBackend(self, resource_group_name=state.resource_group, storage_account_name=state.storage_account,
                       container_name=state.container, use_azuread_auth=True,
                       key=f"{state.key_prefix}/{ctx.platform.org}/{ctx.platform.defaults.environment}/"
                           f"{ctx.stack_name}.tfstate")
