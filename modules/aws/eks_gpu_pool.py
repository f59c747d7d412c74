"""One EKS managed node group of GPU nodes: tainted for GPU work, labelled, able to scale to zero.

The spec's cloud-neutral words become EKS terms here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource
from terraml.policy.capacity import ACCELERATOR_LABEL, CAPACITY_LABEL, POOL_LABEL

CAPACITY_TYPE = {"spot": "SPOT", "on-demand": "ON_DEMAND"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
# Accelerated EKS AMIs by accelerator family; each ships the matching driver.
_AMI_BY_ACCELERATOR = {"Inferentia2": "AL2023_x86_64_NEURON", "Trainium": "AL2023_x86_64_NEURON",
                       "T4g": "AL2023_ARM_64_NVIDIA"}


def ami_type(accelerator: str | None) -> str:
    return _AMI_BY_ACCELERATOR.get(accelerator or "", "AL2023_x86_64_NVIDIA")


def gpu_resource(accelerator: str | None) -> str:
    return "aws.amazon.com/neuron" if ami_type(accelerator) == "AL2023_x86_64_NEURON" else "nvidia.com/gpu"


@dataclass(frozen=True, kw_only=True)
class EksGpuPoolProps:
    cluster: str
    """Reference to the cluster's name (orders the node group after the cluster)."""
    cluster_name: str
    """The cluster's literal name, for the autoscaler's discovery tags (map keys cannot hold references)."""
    node_group_name: str
    pool: str
    node_role_arn: str
    subnet_ids: list[str]
    instance_type: str
    capacity: str
    """'spot' or 'on-demand'."""
    accelerator: str | None
    gpus_per_node: float | None
    min_nodes: int = 0
    """0 lets the group scale to zero when no GPU pod is pending."""
    max_nodes: int = 1
    disk_size_gib: int = 200
    kms_key_arn: str


class EksGpuPool(Module):
    def __init__(self, scope: Construct, id: str, props: EksGpuPoolProps):
        super().__init__(scope, id)
        resource = gpu_resource(props.accelerator)
        labels = {POOL_LABEL: props.pool, CAPACITY_LABEL: props.capacity,
                  ACCELERATOR_LABEL: props.accelerator or "unknown"}
        template = Resource(self, "launch-template", "aws_launch_template", {
            "name_prefix": f"{props.node_group_name}-",
            "update_default_version": True,
            "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required",
                                 "http_put_response_hop_limit": 1},
            "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {
                "volume_size": props.disk_size_gib, "volume_type": "gp3", "encrypted": "true",
                "kms_key_id": props.kms_key_arn, "delete_on_termination": "true"}}],
        }, tags={})
        # The cluster autoscaler reads these tags to scale a group up from zero nodes.
        template_tags = {
            "k8s.io/cluster-autoscaler/enabled": "true",
            f"k8s.io/cluster-autoscaler/{props.cluster_name}": "owned",
            f"k8s.io/cluster-autoscaler/node-template/taint/{GPU_TAINT['key']}": f"{GPU_TAINT['value']}:NoSchedule",
            **{f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in labels.items()},
        }
        if props.gpus_per_node and props.gpus_per_node >= 1:
            template_tags[f"k8s.io/cluster-autoscaler/node-template/resources/{resource}"] = \
                f"{int(props.gpus_per_node)}"
        self.node_group = Resource(self, "node-group", "aws_eks_node_group", {
            "cluster_name": props.cluster,
            "node_group_name": props.node_group_name,
            "node_role_arn": props.node_role_arn,
            "subnet_ids": props.subnet_ids,
            "instance_types": [props.instance_type],
            "capacity_type": CAPACITY_TYPE[props.capacity],
            "ami_type": ami_type(props.accelerator),
            "launch_template": {"id": template.attr("id"), "version": template.attr("latest_version")},
            "scaling_config": {"min_size": props.min_nodes, "max_size": props.max_nodes,
                               "desired_size": props.min_nodes},
            "labels": labels,
            "taint": [{**GPU_TAINT, "key": resource}],
            "update_config": {"max_unavailable": 1},
        }, tags=template_tags, lifecycle={"ignore_changes": ["scaling_config[0].desired_size"]})
