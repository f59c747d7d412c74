"""The team's customer-managed KMS key: one key encrypts the team's bucket, registry, logs and secrets."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.aws.iam import policy
from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class TeamKeyProps:
    alias: str
    account_id: str
    region: str
    deletion_window_days: int = 30
    """Days a deleted key stays recoverable (7-30); the maximum, since losing it loses the data."""


class TeamKey(Module):
    def __init__(self, scope: Construct, id: str, props: TeamKeyProps):
        super().__init__(scope, id)
        account = f"arn:aws:iam::{props.account_id}:root"
        autoscaling = (f"arn:aws:iam::{props.account_id}:role/aws-service-role/autoscaling.amazonaws.com/"
                       "AWSServiceRoleForAutoScaling")
        key_policy = policy(
            {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": account},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchLogsEncrypt", "Effect": "Allow",
             "Principal": {"Service": f"logs.{props.region}.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Describe*"],
             "Resource": "*",
             "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                       f"arn:aws:logs:{props.region}:{props.account_id}:*"}}},
            # Node groups launch through Auto Scaling; its service-linked role must read the key that
            # encrypts the nodes' EBS volumes, or every launch fails with Client.InternalError.
            {"Sid": "AutoScalingUsesKeyForNodeVolumes", "Effect": "Allow", "Principal": {"AWS": autoscaling},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*"},
            {"Sid": "AutoScalingGrantsForNodeVolumes", "Effect": "Allow", "Principal": {"AWS": autoscaling},
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        )
        self.key = Resource(self, "key", "aws_kms_key", {
            "description": f"terraml {props.alias}: team data at rest",
            "enable_key_rotation": True,
            "deletion_window_in_days": props.deletion_window_days,
            "policy": key_policy,
        }, tags={})
        Resource(self, "alias", "aws_kms_alias", {"name": props.alias, "target_key_id": self.key.attr("key_id")})
        self.arn = self.key.attr("arn")
