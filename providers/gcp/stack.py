"""One team's GCP environment as a single CDK Terrain stack."""

from __future__ import annotations

from cdktn import GcsBackend, TerraformOutput, TerraformStack
from constructs import Construct

from terraml.inventory import StackContext
from terraml.modules.core import DataSource, Provider, Resource, apply_aspects
from terraml.modules.gcp.artifact_registry import ArtifactRegistry, ArtifactRegistryProps
from terraml.modules.gcp.budget import TeamBudget, TeamBudgetProps
from terraml.modules.gcp.feature_store import FeatureGroupSpec, FeatureStore, FeatureStoreProps
from terraml.modules.gcp.gcs_bucket import GcsBucket, GcsBucketProps
from terraml.modules.gcp.gke_cluster import GkeCluster, GkeClusterProps
from terraml.modules.gcp.gke_node_pool import GkeNodePool, GkeNodePoolProps, GuestGpus
from terraml.modules.gcp.iam import ServiceAccount, ServiceAccountProps
from terraml.modules.gcp.kms import KeyRing, KeyRingProps
from terraml.modules.gcp.labels import GcpLabelAspect, label_key, label_value
from terraml.modules.gcp.network import PODS_RANGE, SERVICES_RANGE, Network, NetworkProps
from terraml.modules.gcp.project_services import ProjectServices, ProjectServicesProps
from terraml.modules.gcp.vertex_endpoint import VertexEndpoint, VertexEndpointProps
from terraml.policy.capacity import capacity_plan
from terraml.policy.machines import resolve_machine
from terraml.providers.gcp.cloud import GcpCloud
from terraml.providers.gcp.machines import gpu_zone_problem, gpu_zones, gpus_for
from terraml.providers.gcp.names import SERVING_KSA, TRAINING_KSA, GcpNames

# On GKE, `auto` is a spot pool plus an on-demand pool, both labelled with the spec's pool name, and no
# priority list: GKE runs its own cluster autoscaler, whose expander cannot be configured, and which
# "considers the relative cost of the instance types in the various pools, and attempts to expand the
# least expensive possible node pool; the reduced cost of node pools containing Spot VMs is taken into
# account" (https://cloud.google.com/kubernetes-engine/docs/concepts/cluster-autoscaler). The spot pool is
# therefore tried first; when Compute Engine has no spot capacity, the failed scale-up backs that pool off
# and the autoscaler scales the on-demand pool: the same order as the priority expander on AWS, from the
# same capacity plan (the on-demand fallback has no minimum of its own).


def service_agent(project_number: str, domain: str) -> str:
    """A Google service's agent in the project, e.g. 'gcp-sa-artifactregistry' (created with the API)."""
    return f"serviceAccount:service-{project_number}@{domain}.iam.gserviceaccount.com"


class GcpTeamStack(TerraformStack):
    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx.stack_name)
        self.terraml_resources: list[Resource] = []
        team, gcp, names = ctx.team, ctx.team.clouds.gcp, GcpNames.for_team(ctx.platform, ctx.team)
        Provider(self, "google", {"project": gcp.project, "region": gcp.region})
        self._backend(ctx)
        project = DataSource(self, "project", "google_project", {"project_id": gcp.project})
        number = project.attr("number")
        # These two data sources also create their service agents when the project has none yet.
        gcs_agent = DataSource(self, "gcs-agent", "google_storage_project_service_account").attr("member")
        bq_agent = DataSource(self, "bigquery-agent", "google_bigquery_default_service_account").attr("member")
        vertex_agent = service_agent(number, "gcp-sa-aiplatform")
        kms = KeyRing(self, "kms", KeyRingProps(name=names.kms_key_ring, location=gcp.region, keys={
            names.kms_key("gke"): {"gke-agent": service_agent(number, "container-engine-robot"),
                                   "compute-agent": service_agent(number, "compute-system")},
            names.kms_key("storage"): {"gcs-agent": gcs_agent},
            names.kms_key("registry"): {"ar-agent": service_agent(number, "gcp-sa-artifactregistry")},
            names.kms_key("vertex"): {"bigquery-agent": bq_agent, "vertex-agent": vertex_agent},
        }))
        net = Network(self, "network", NetworkProps(
            network_name=names.network, subnetwork_name=names.subnetwork, router_name=names.router,
            nat_name=names.nat, region=gcp.region, cidr=gcp.network.cidr))
        boot_key = kms.key_for(names.kms_key("gke"), "compute-agent")
        cluster = GkeCluster(self, "gke", GkeClusterProps(
            name=names.cluster, project=gcp.project, region=gcp.region,
            kubernetes_version=ctx.platform.defaults.kubernetes_version, network=net.network_id,
            subnetwork=net.subnetwork_id, pods_range=PODS_RANGE, services_range=SERVICES_RANGE,
            control_plane_cidr=str(net.ranges.control_plane),
            secrets_kms_key=kms.key_for(names.kms_key("gke"), "gke-agent"), boot_disk_kms_key=boot_key,
            node_service_account_id=names.node_service_account,
            public_api_cidrs=[str(c) for c in gcp.network.public_api_cidrs],
            system_machine_type=gcp.system_machine_type))
        for pool in gcp.gpu_pools:
            machine = resolve_machine(GcpCloud.NAME, gcp.region, pool.machine_type, pool.accelerator,
                                      pool.accelerator_count, ctx.catalog)
            count = pool.accelerator_count or (int(machine.gpus) if machine.gpus else None)
            gpus, problem = gpus_for(machine.instance_type, pool.accelerator or machine.accelerator, count)
            if problem or gpus is None:  # the spec checks report this with the field path first
                raise ValueError(f"pool {pool.name}: {problem or f'{machine.instance_type} has no GPU'}")
            problem = gpu_zone_problem(gcp.region, list(pool.zones), gpus.accelerator)
            if problem:  # the spec checks report this with the field path first
                raise ValueError(f"pool {pool.name}: {problem}")
            # Without zones in the spec, the zones of the region that offer the GPU (GKE fails in the others).
            zones = list(pool.zones) or gpu_zones(gcp.region, gpus.accelerator) or []
            plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=pool.min_nodes,
                                 max_nodes=pool.max_nodes, price_cap_enforced_by_cloud=GcpCloud.SPOT_PRICE_CAP)
            for group in plan.groups:
                GkeNodePool(self, f"pool-{pool.name}-{group.capacity}", GkeNodePoolProps(
                    name=names.node_pool(pool.name, group.suffix), cluster=cluster.id, location=gcp.region,
                    pool=pool.name, machine_type=machine.instance_type, capacity=group.capacity,
                    min_nodes=group.min_nodes, max_nodes=group.max_nodes,
                    service_account=cluster.node_service_account, boot_disk_kms_key=boot_key,
                    gpus=GuestGpus(gce_type=gpus.gce_type, count=gpus.count, accelerator=gpus.accelerator),
                    disk_size_gib=pool.disk_size_gib, node_locations=zones, max_surge=0))
        workloads = {}
        for role, ksa, what in (("training", TRAINING_KSA, "training jobs"), ("serving", SERVING_KSA, "serving")):
            workloads[role] = ServiceAccount(self, f"{role}-sa", ServiceAccountProps(
                account_id=names.service_account(role), project=gcp.project,
                display_name=f"terraml {what} of {team.name}",
                # Querying the offline features runs BigQuery jobs, which only a project role allows.
                project_roles=["roles/bigquery.jobUser"] if role == "training" and gcp.feature_store else [],
                workload_identity=[f"{names.namespace}/{ksa}"], workload_pool=cluster.workload_pool),
                depends_on=[cluster.cluster])
        training, serving = workloads["training"], workloads["serving"]
        pullers = {"gke-nodes": cluster.node_member, "training": training.member, "serving": serving.member}
        registry = None
        if gcp.registry is not None:
            registry = ArtifactRegistry(self, "registry", ArtifactRegistryProps(
                repository_id=names.ar_repository, location=gcp.region,
                kms_key_name=kms.key_for(names.kms_key("registry"), "ar-agent"),
                immutable_tags=gcp.registry.immutable_tags, scan_on_push=gcp.registry.scan_on_push,
                keep_images=gcp.registry.keep_images, readers=pullers))
            TerraformOutput(self, "registry_url", value=registry.url)
        GcsBucket(self, "artifacts", GcsBucketProps(
            name=names.artifact_bucket, location=gcp.region,
            kms_key_name=kms.key_for(names.kms_key("storage"), "gcs-agent"),
            object_users={"training": training.member}, object_viewers={"serving": serving.member}))
        if gcp.feature_store:
            FeatureStore(self, "features", FeatureStoreProps(
                project=gcp.project, region=gcp.region, dataset_id=names.bq_dataset,
                online_store_name=names.feature_online_store,
                groups=[FeatureGroupSpec(name=names.bq_table(g.name), group_id=names.feature_group(g.name),
                                         view_table=names.bq_view(g.name), feature_view_id=names.feature_view(g.name),
                                         record_id=g.record_id, event_time=g.event_time, features=dict(g.features),
                                         online=g.online)
                        for g in gcp.feature_store.groups],
                bigquery_kms_key=kms.key_for(names.kms_key("vertex"), "bigquery-agent"),
                vertex_kms_key=kms.key_for(names.kms_key("vertex"), "vertex-agent"),
                vertex_agent=vertex_agent, readers={"training": training.member}))
        for ep in gcp.endpoints:
            gpus = f" + {ep.accelerator_count or 1} x {ep.accelerator}" if ep.accelerator else ""
            endpoint = VertexEndpoint(self, f"endpoint-{ep.name}", VertexEndpointProps(
                endpoint_id=names.endpoint_id(ep.name), display_name=names.endpoint(ep.name), region=gcp.region,
                kms_key_name=kms.key_for(names.kms_key("vertex"), "vertex-agent"),
                description=f"terraml endpoint {ep.name}: {ep.machine_type}{gpus}, {ep.min_replicas}-"
                            f"{ep.max_replicas} replicas, deployed by the Vertex AI backend"))
            TerraformOutput(self, f"endpoint_{ep.name.replace('-', '_')}", value=endpoint.id)
        if team.budget:
            TeamBudget(self, "budget", TeamBudgetProps(
                display_name=names.budget, billing_account=project.attr("billing_account"),
                project_number=number, label_key=label_key("team"), label_value=label_value(team.name),
                monthly_usd=team.budget.monthly_usd, owners=list(team.owners),
                alert_at_percent=list(team.budget.alert_at_percent)))
        TerraformOutput(self, "cluster_name", value=cluster.name)
        TerraformOutput(self, "artifact_bucket", value=names.artifact_bucket)
        TerraformOutput(self, "training_service_account", value=training.email)
        TerraformOutput(self, "serving_service_account", value=serving.email)
        # Last: the APIs of every block above, plus those GKE and the registry use on their own.
        ProjectServices(self, "apis", ProjectServicesProps(project=gcp.project, extra_apis=[
            "logging.googleapis.com",  # GKE's system, API server and workload logs; VPC flow and NAT logs
            "monitoring.googleapis.com",  # GKE's system metrics and managed Prometheus
            "iamcredentials.googleapis.com",  # Workload Identity: GKE's metadata server mints the accounts' tokens
            *(["containerscanning.googleapis.com"] if gcp.registry is not None and gcp.registry.scan_on_push else []),
        ]))
        apply_aspects(self, GcpLabelAspect(ctx.tags))

    def _backend(self, ctx: StackContext) -> None:
        state = ctx.platform.defaults.state.gcp
        if state is None:
            return  # local state file in the stack's folder (cdktn's default)
        GcsBackend(self, bucket=state.bucket,
                   prefix=f"{state.prefix}/{ctx.platform.org}/{ctx.platform.defaults.environment}/{ctx.stack_name}")
