"""A SageMaker real-time endpoint owned by the stack: bootstrap model, autoscaling and alarms.

Model rollouts happen later through ``terraml deploy`` (UpdateEndpoint with blue/green), which
points the endpoint at new endpoint configs. The endpoint therefore ignores changes to its config
name, so the next ``cdktn deploy`` never rolls a deployed model back to the bootstrap one.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

VARIANT = "AllTraffic"
DLC_ACCOUNT = "763104351884"  # AWS Deep Learning Containers registry, standard commercial regions


def default_image(region: str, instance_type: str) -> str:
    """The SageMaker PyTorch inference image for the region, GPU or CPU by instance family."""
    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    device = "gpu" if family[:1] in ("g", "p") else "cpu"
    return f"{DLC_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/pytorch-inference:2.5-{device}-py311"


@dataclass(frozen=True, kw_only=True)
class SageMakerEndpointProps:
    name: str
    region: str
    instance_type: str
    role_arn: str
    kms_key_arn: str
    subnet_ids: list[str]
    security_group_id: str
    min_replicas: int = 1
    max_replicas: int = 1
    image: str | None = None
    """Bootstrap model container; default: the region's SageMaker PyTorch inference image."""
    model_data_url: str | None = None
    target_invocations_per_instance: int = 100
    """Autoscaling keeps invocations per instance per minute near this value."""
    alarm_error_percent: float = 1.0
    """Share of invocations answered with a server error (5XX) over a minute that raises the alarm; the
    spec's endpoints[].rollout.max_error_percent. Deployments roll back on this alarm."""
    alarm_latency_ms: float = 2000
    """p99 model latency that raises the alarm; the spec's endpoints[].rollout.max_p99_latency_ms."""


class SageMakerEndpoint(Module):
    def __init__(self, scope: Construct, id: str, props: SageMakerEndpointProps):
        super().__init__(scope, id)
        model = Resource(self, "model", "aws_sagemaker_model", {
            "name": f"{props.name}-bootstrap",
            "execution_role_arn": props.role_arn,
            "primary_container": {"image": props.image or default_image(props.region, props.instance_type),
                                  "model_data_url": props.model_data_url},
            "vpc_config": {"subnets": props.subnet_ids, "security_group_ids": [props.security_group_id]},
            "enable_network_isolation": True,
        }, tags={})
        config = Resource(self, "config", "aws_sagemaker_endpoint_configuration", {
            "name_prefix": f"{props.name}-",
            "kms_key_arn": props.kms_key_arn,
            "production_variants": [{"variant_name": VARIANT, "model_name": model.attr("name"),
                                     "initial_instance_count": props.min_replicas,
                                     "instance_type": props.instance_type}],
        }, tags={}, lifecycle={"create_before_destroy": True})
        endpoint = Resource(self, "endpoint", "aws_sagemaker_endpoint", {
            "name": props.name, "endpoint_config_name": config.attr("name"),
        }, tags={}, lifecycle={"ignore_changes": ["endpoint_config_name"]})
        resource_id = f"endpoint/{props.name}/variant/{VARIANT}"
        target = Resource(self, "scaling-target", "aws_appautoscaling_target", {
            "service_namespace": "sagemaker", "resource_id": resource_id,
            "scalable_dimension": "sagemaker:variant:DesiredInstanceCount",
            "min_capacity": props.min_replicas, "max_capacity": props.max_replicas,
        }, tags={}, depends_on=[endpoint])
        Resource(self, "scaling-policy", "aws_appautoscaling_policy", {
            "name": f"{props.name}-invocations", "policy_type": "TargetTrackingScaling",
            "service_namespace": "sagemaker", "resource_id": target.attr("resource_id"),
            "scalable_dimension": target.attr("scalable_dimension"),
            "target_tracking_scaling_policy_configuration": {
                "target_value": props.target_invocations_per_instance,
                "predefined_metric_specification": {
                    "predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
                "scale_in_cooldown": 300, "scale_out_cooldown": 60}})
        dims = {"EndpointName": props.name, "VariantName": VARIANT}
        # The error *rate* (not a count), so that the spec's max_error_percent means the same here as in
        # terraml's rollout watcher on Vertex AI and Azure ML; no invocations is no breach.
        def metric(id_: str, name: str) -> dict:
            return {"id": id_, "return_data": False, "metric": {
                "namespace": "AWS/SageMaker", "metric_name": name, "dimensions": dims, "period": 60, "stat": "Sum"}}

        Resource(self, "alarm-5xx", "aws_cloudwatch_metric_alarm", {
            "alarm_name": f"{props.name}-5xx", "evaluation_periods": 1, "threshold": props.alarm_error_percent,
            "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching",
            "metric_query": [metric("errors", "Invocation5XXErrors"), metric("invocations", "Invocations"), {
                "id": "error_percent", "return_data": True, "label": "5XX errors, % of invocations",
                "expression": "IF(invocations > 0, 100 * errors / invocations, 0)"}],
            "alarm_description": "Share of invocations with server errors above the spec's rollout.max_error_percent; "
                                 "deployments roll back on this alarm.",
        }, tags={})
        Resource(self, "alarm-latency", "aws_cloudwatch_metric_alarm", {
            "alarm_name": f"{props.name}-latency", "namespace": "AWS/SageMaker",
            "metric_name": "ModelLatency", "dimensions": dims, "extended_statistic": "p99", "period": 60,
            "evaluation_periods": 5, "threshold": props.alarm_latency_ms * 1000,  # the metric is in microseconds
            "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching",
            "alarm_description": "p99 model latency above the spec's rollout.max_p99_latency_ms; deployments roll "
                                 "back on this alarm.",
        }, tags={})
