"""An EKS cluster with a private API endpoint, encrypted secrets, full control-plane logs,
an OIDC provider for IAM roles for service accounts, and a small on-demand system node group."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.aws.iam import Role, RoleProps, policy
from terraml.modules.core import Module, Resource

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
]


@dataclass(frozen=True, kw_only=True)
class EksClusterProps:
    name: str
    kubernetes_version: str
    subnet_ids: list[str]
    kms_key_arn: str
    public_api_cidrs: list[str] = field(default_factory=list)
    """Networks allowed to reach the API from the internet; empty keeps the endpoint private."""
    log_retention_days: int = 365
    system_instance_type: str = "m6i.xlarge"
    system_min_nodes: int = 2
    """Two nodes so cluster add-ons survive the loss of one."""
    system_max_nodes: int = 4


class EksCluster(Module):
    def __init__(self, scope: Construct, id: str, props: EksClusterProps):
        super().__init__(scope, id)
        role = Role(self, "cluster-role", RoleProps(
            name=f"{props.name}-eks-cluster", service="eks.amazonaws.com",
            managed_policy_arns=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]))
        # EKS writes control-plane logs to this exact group name; creating it first sets retention and KMS.
        logs = Resource(self, "logs", "aws_cloudwatch_log_group", {
            "name": f"/aws/eks/{props.name}/cluster", "retention_in_days": props.log_retention_days,
            "kms_key_id": props.kms_key_arn}, tags={})
        public = bool(props.public_api_cidrs)
        self.cluster = Resource(self, "cluster", "aws_eks_cluster", {
            "name": props.name,
            "version": props.kubernetes_version,
            "role_arn": role.arn,
            "vpc_config": {
                "subnet_ids": props.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": public,
                "public_access_cidrs": list(props.public_api_cidrs) if public else None,
            },
            "encryption_config": {"provider": {"key_arn": props.kms_key_arn}, "resources": ["secrets"]},
            "enabled_cluster_log_types": LOG_TYPES,
            "access_config": {"authentication_mode": "API",
                              "bootstrap_cluster_creator_admin_permissions": True},
        }, tags={}, depends_on=[logs])
        self.name = self.cluster.attr("name")
        self.endpoint = self.cluster.attr("endpoint")
        self.ca_data = self.cluster.attr("certificate_authority[0].data")
        issuer = self.cluster.attr("identity[0].oidc[0].issuer")
        self.oidc = Resource(self, "oidc", "aws_iam_openid_connect_provider", {
            "url": issuer, "client_id_list": ["sts.amazonaws.com"]}, tags={})
        self.oidc_arn = self.oidc.attr("arn")
        self.oidc_host = self.oidc.attr("url")
        node_role = Role(self, "node-role", RoleProps(
            name=f"{props.name}-eks-node", service="ec2.amazonaws.com", managed_policy_arns=NODE_POLICIES))
        self.node_role_arn = node_role.arn
        for addon in ("vpc-cni", "coredns", "kube-proxy"):
            Resource(self, f"addon-{addon}", "aws_eks_addon", {
                "cluster_name": self.name, "addon_name": addon,
                "resolve_conflicts_on_update": "OVERWRITE"}, tags={})
        Resource(self, "system-nodes", "aws_eks_node_group", {
            "cluster_name": self.name,
            "node_group_name": f"{props.name}-system",
            "node_role_arn": node_role.arn,
            "subnet_ids": props.subnet_ids,
            "instance_types": [props.system_instance_type],
            "capacity_type": "ON_DEMAND",
            "ami_type": "AL2023_x86_64_STANDARD",
            "scaling_config": {"min_size": props.system_min_nodes, "max_size": props.system_max_nodes,
                               "desired_size": props.system_min_nodes},
            "labels": {"terraml.io/pool": "system"},
            "update_config": {"max_unavailable": 1},
        }, tags={}, lifecycle={"ignore_changes": ["scaling_config[0].desired_size"]})

    def irsa_assume_policy(self, namespace: str, service_account: str) -> str:
        """Trust policy that lets one Kubernetes service account assume a role (IRSA)."""
        return policy({
            "Effect": "Allow", "Principal": {"Federated": self.oidc_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{self.oidc_host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{self.oidc_host}:aud": "sts.amazonaws.com"}},
        })
