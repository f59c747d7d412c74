"""One team's AWS environment as a single CDK Terrain stack."""

from __future__ import annotations

from cdktn import S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from terraml.inventory import StackContext
from terraml.modules.aws.budget import TeamBudget, TeamBudgetProps
from terraml.modules.aws.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerProps
from terraml.modules.aws.ecr_registry import EcrRegistry, EcrRegistryProps
from terraml.modules.aws.eks_cluster import EksCluster, EksClusterProps
from terraml.modules.aws.eks_gpu_pool import EksGpuPool, EksGpuPoolProps
from terraml.modules.aws.feature_store import SageMakerFeatureGroup, SageMakerFeatureGroupProps
from terraml.modules.aws.kms import TeamKey, TeamKeyProps
from terraml.modules.aws.network import Vpc, VpcProps
from terraml.modules.aws.s3_artifact_bucket import ArtifactBucket, ArtifactBucketProps
from terraml.modules.aws.sagemaker_endpoint import SageMakerEndpoint, SageMakerEndpointProps
from terraml.modules.aws.sagemaker_role import SageMakerRole, SageMakerRoleProps
from terraml.modules.aws.tags import AwsTagAspect
from terraml.modules.core import DataSource, Provider, Resource, apply_aspects
from terraml.policy.capacity import autoscaler_priorities, capacity_plan
from terraml.policy.machines import resolve_machine
from terraml.providers.aws.cloud import AwsCloud
from terraml.providers.aws.names import AwsNames

# EKS names each managed node group's Auto Scaling group 'eks-<node group name>-<uuid>', and the
# autoscaler's priority expander matches those: the plan's name suffix decides the tier.
PRIORITIES = autoscaler_priorities(".*-{suffix}-.*")


class AwsTeamStack(TerraformStack):
    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx.stack_name)
        self.terraml_resources: list[Resource] = []
        team, aws, names = ctx.team, ctx.team.clouds.aws, AwsNames.for_team(ctx.platform, ctx.team)
        Provider(self, "aws", {"region": aws.region})
        self._backend(ctx)
        account = DataSource(self, "account", "aws_caller_identity").attr("account_id")
        key = TeamKey(self, "kms", TeamKeyProps(alias=names.kms_alias, account_id=account, region=aws.region))
        net = Vpc(self, "network", VpcProps(
            name=names.prefix, region=aws.region, cidr=aws.network.cidr, cluster_name=names.cluster,
            kms_key_arn=key.arn, nat=aws.network.nat))
        cluster = EksCluster(self, "eks", EksClusterProps(
            name=names.cluster, kubernetes_version=ctx.platform.defaults.kubernetes_version,
            subnet_ids=net.private_subnet_ids, kms_key_arn=key.arn,
            public_api_cidrs=[str(c) for c in aws.network.public_api_cidrs],
            system_instance_type=aws.system_instance_type))
        for pool in aws.gpu_pools:
            machine = resolve_machine(AwsCloud.NAME, aws.region, pool.instance_type, pool.accelerator,
                                      pool.accelerator_count, ctx.catalog)
            plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=pool.min_nodes,
                                 max_nodes=pool.max_nodes,
                                 price_cap_enforced_by_cloud=AwsCloud.SPOT_PRICE_CAP)
            for group in plan.groups:
                EksGpuPool(self, f"pool-{pool.name}-{group.capacity}", EksGpuPoolProps(
                    cluster=cluster.name, cluster_name=names.cluster,
                    node_group_name=names.node_group(pool.name, group.suffix),
                    pool=pool.name, node_role_arn=cluster.node_role_arn, subnet_ids=net.private_subnet_ids,
                    instance_type=machine.instance_type, capacity=group.capacity,
                    accelerator=machine.accelerator or pool.accelerator, gpus_per_node=machine.gpus,
                    min_nodes=group.min_nodes, max_nodes=group.max_nodes, disk_size_gib=pool.disk_size_gib,
                    kms_key_arn=key.arn))
        if aws.gpu_pools:
            ClusterAutoscaler(self, "autoscaler", cluster, ClusterAutoscalerProps(
                cluster_name=names.cluster, region=aws.region, priorities=PRIORITIES))
        registry = None
        if aws.registry is not None:
            registry = EcrRegistry(self, "registry", EcrRegistryProps(
                name=names.ecr_repository, kms_key_arn=key.arn, immutable_tags=aws.registry.immutable_tags,
                scan_on_push=aws.registry.scan_on_push, keep_images=aws.registry.keep_images))
            TerraformOutput(self, "registry_url", value=registry.url)
        bucket = ArtifactBucket(self, "artifacts", ArtifactBucketProps(name=names.artifact_bucket,
                                                                        kms_key_arn=key.arn))
        role = SageMakerRole(self, "sagemaker-role", SageMakerRoleProps(
            name=names.sagemaker_role, region=aws.region, account_id=account, bucket_arn=bucket.arn,
            kms_key_arn=key.arn, repository_arn=registry.arn if registry else None, resource_prefix=names.prefix))
        if aws.feature_store:
            for group in aws.feature_store.groups:
                SageMakerFeatureGroup(self, f"features-{group.name}", SageMakerFeatureGroupProps(
                    name=names.feature_group(group.name), record_id=group.record_id,
                    event_time=group.event_time, features=dict(group.features), role_arn=role.arn,
                    offline_s3_uri=f"s3://{names.artifact_bucket}/feature-store", kms_key_arn=key.arn,
                    online=group.online))
        if aws.endpoints:
            sg = Resource(self, "endpoint-sg", "aws_security_group", {
                "name": f"{names.prefix}-endpoints", "vpc_id": net.vpc_id,
                "description": "SageMaker endpoints: HTTPS out to the VPC and S3 only",
                "egress": [
                    _egress("HTTPS to services inside the VPC", cidr_blocks=[str(aws.network.cidr)]),
                    _egress("HTTPS to S3 through the gateway endpoint",
                            prefix_list_ids=[net.s3_endpoint.attr("prefix_list_id")]),
                ]}, tags={})
            for ep in aws.endpoints:
                SageMakerEndpoint(self, f"endpoint-{ep.name}", SageMakerEndpointProps(
                    name=names.endpoint(ep.name), region=aws.region, instance_type=ep.instance_type,
                    role_arn=role.arn, kms_key_arn=key.arn, subnet_ids=net.private_subnet_ids,
                    security_group_id=sg.attr("id"), min_replicas=ep.min_replicas, max_replicas=ep.max_replicas,
                    image=ep.image, model_data_url=ep.model_data_url,
                    target_invocations_per_instance=ep.target_invocations_per_instance,
                    alarm_error_percent=ep.rollout.max_error_percent,
                    alarm_latency_ms=ep.rollout.max_p99_latency_ms))
        if team.budget:
            TeamBudget(self, "budget", TeamBudgetProps(
                name=names.budget, team=team.name, monthly_usd=team.budget.monthly_usd, owners=list(team.owners),
                alert_at_percent=list(team.budget.alert_at_percent)))
        TerraformOutput(self, "cluster_name", value=cluster.name)
        TerraformOutput(self, "artifact_bucket", value=names.artifact_bucket)
        TerraformOutput(self, "sagemaker_role_arn", value=role.arn)
        TerraformOutput(self, "kms_key_arn", value=key.arn)
        apply_aspects(self, AwsTagAspect(ctx.tags))

    def _backend(self, ctx: StackContext) -> None:
        state = ctx.platform.defaults.state.aws
        if state is None:
            return  # local state file in the stack's folder (cdktn's default)
        S3Backend(self, bucket=state.bucket, region=state.region, encrypt=True,
                  key=f"{state.key_prefix}/{ctx.platform.org}/{ctx.platform.defaults.environment}/"
                      f"{ctx.stack_name}.tfstate",
                  dynamodb_table=state.lock_table, use_lockfile=None if state.lock_table else True)


def _egress(description: str, **target) -> dict:
    return {"description": description, "from_port": 443, "to_port": 443, "protocol": "tcp",
            "cidr_blocks": [], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
            "self": False, **target}
