"""Cluster autoscaler (IRSA role + Helm release) and the NVIDIA device plugin.

The autoscaler scales GPU groups from zero and, through its priority expander, tries spot groups
before on-demand ones: that is what makes a pool's ``auto`` spot mode fall back to on-demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.aws.eks_cluster import EksCluster
from terraml.modules.aws.iam import Role, RoleProps, allow, policy
from terraml.modules.core import Module, Provider, Resource

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerProps:
    cluster_name: str
    region: str
    priorities: dict[int, list[str]] = field(default_factory=dict)
    """Priority expander tiers: higher numbers are tried first; values are node-group name regexes."""
    chart_version: str = "9.46.6"
    device_plugin_version: str = "0.17.1"


class ClusterAutoscaler(Module):
    def __init__(self, scope: Construct, id: str, cluster: EksCluster, props: ClusterAutoscalerProps):
        super().__init__(scope, id)
        owned = {"aws:ResourceTag/k8s.io/cluster-autoscaler/" + props.cluster_name: "owned"}
        role = Role(self, "role", RoleProps(
            name=f"{props.cluster_name}-cluster-autoscaler",
            assume_policy=cluster.irsa_assume_policy(NAMESPACE, SERVICE_ACCOUNT),
            inline_policy=policy(
                # Describe calls cannot be scoped to resources in IAM; they only read.
                allow(["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                       "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                       "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                       "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
                       "eks:DescribeNodegroup"], ["*"]),
                allow(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                      ["*"], Condition={"StringEquals": owned}),
            )))
        helm = Provider(self, "helm", {"kubernetes": {
            "host": cluster.endpoint,
            "cluster_ca_certificate": f"${{base64decode({cluster.ca_data[2:-1]})}}",
            "exec": {"api_version": "client.authentication.k8s.io/v1beta1", "command": "aws",
                     "args": ["eks", "get-token", "--cluster-name", props.cluster_name, "--region", props.region]},
        }})
        values = {
            "autoDiscovery": {"clusterName": props.cluster_name},
            "awsRegion": props.region,
            "rbac": {"serviceAccount": {"name": SERVICE_ACCOUNT,
                                        "annotations": {"eks.amazonaws.com/role-arn": role.arn}}},
            "extraArgs": {"expander": "priority", "balance-similar-node-groups": "true",
                          "skip-nodes-with-system-pods": "false"},
            "expanderPriorities": {str(k): v for k, v in sorted(props.priorities.items())},
            "nodeSelector": {"terraml.io/pool": "system"},
        }
        Resource(self, "release", "helm_release", {
            "name": "cluster-autoscaler", "namespace": NAMESPACE,
            "repository": "https://kubernetes.github.io/autoscaler", "chart": "cluster-autoscaler",
            "version": props.chart_version, "values": [json.dumps(values, sort_keys=True)],
            "atomic": True,
        }, provider=helm)
        Resource(self, "nvidia-device-plugin", "helm_release", {
            "name": "nvidia-device-plugin", "namespace": NAMESPACE,
            "repository": "https://nvidia.github.io/k8s-device-plugin", "chart": "nvidia-device-plugin",
            "version": props.device_plugin_version,
            "values": [json.dumps({"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                                    "effect": "NoSchedule"}],
                                   "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                                       "nodeSelectorTerms": [{"matchExpressions": [
                                           {"key": "terraml.io/accelerator", "operator": "Exists"}]}]}}}},
                                  sort_keys=True)],
            "atomic": True,
        }, provider=helm)
