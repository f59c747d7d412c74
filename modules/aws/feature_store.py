"""SageMaker Feature Store groups: online store (KMS) plus an offline store in the team bucket."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

FEATURE_TYPE = {"integral": "Integral", "fractional": "Fractional", "string": "String"}


@dataclass(frozen=True, kw_only=True)
class SageMakerFeatureGroupProps:
    name: str
    record_id: str
    event_time: str
    features: dict[str, str]
    """Feature name -> 'integral' | 'fractional' | 'string'."""
    role_arn: str
    offline_s3_uri: str
    kms_key_arn: str
    online: bool = True


def feature_definitions(props: SageMakerFeatureGroupProps) -> list[dict]:
    """The record id and event time are features too; they default to strings (ISO-8601 time)."""
    kinds = {props.record_id: "string", props.event_time: "string", **props.features}
    return [{"feature_name": n, "feature_type": FEATURE_TYPE[k]} for n, k in kinds.items()]


class SageMakerFeatureGroup(Module):
    def __init__(self, scope: Construct, id: str, props: SageMakerFeatureGroupProps):
        super().__init__(scope, id)
        online = {"enable_online_store": True, "security_config": {"kms_key_id": props.kms_key_arn}} \
            if props.online else None
        Resource(self, "group", "aws_sagemaker_feature_group", {
            "feature_group_name": props.name,
            "record_identifier_feature_name": props.record_id,
            "event_time_feature_name": props.event_time,
            "role_arn": props.role_arn,
            "feature_definition": feature_definitions(props),
            "online_store_config": online,
            "offline_store_config": {
                "s3_storage_config": {"s3_uri": props.offline_s3_uri, "kms_key_id": props.kms_key_arn},
                # Glue tables would need broad Glue rights on the role; query the Parquet files directly.
                "disable_glue_table_creation": True,
            },
        }, tags={})
