"""The SageMaker execution role, scoped to the team's own bucket, registry and key."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.aws.iam import Role, RoleProps, allow, policy
from terraml.modules.core import Module


@dataclass(frozen=True, kw_only=True)
class SageMakerRoleProps:
    name: str
    region: str
    account_id: str
    bucket_arn: str
    kms_key_arn: str
    repository_arn: str | None = None
    """The team registry; without one, the role pulls no private images."""
    resource_prefix: str
    """SageMaker resources (jobs, models, endpoints, feature groups) the role may touch start with this."""


def execution_policy(props: SageMakerRoleProps) -> str:
    sm = f"arn:aws:sagemaker:{props.region}:{props.account_id}"
    statements = [
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
              [f"{props.bucket_arn}/*"], Sid="TeamBucketObjects"),
        allow(["s3:ListBucket", "s3:GetBucketLocation"], [props.bucket_arn], Sid="TeamBucket"),
        allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
              [props.kms_key_arn], Sid="TeamKey"),
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              [f"arn:aws:logs:{props.region}:{props.account_id}:log-group:/aws/sagemaker/*"], Sid="Logs"),
        allow(["sagemaker:PutRecord", "sagemaker:GetRecord", "sagemaker:DeleteRecord",
               "sagemaker:DescribeFeatureGroup"],
              [f"{sm}:feature-group/{props.resource_prefix}-*"], Sid="TeamFeatureGroups"),
        # These actions have no resource-level scoping in IAM; each is read-only or account-wide by design.
        allow(["cloudwatch:PutMetricData"], ["*"], Sid="Metrics",
              Condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "terraml/*"]}}),
        allow(["ecr:GetAuthorizationToken"], ["*"], Sid="RegistryLogin"),
        allow(["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
               "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
               "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
              ["*"], Sid="VpcNetworking"),
    ]
    if props.repository_arn:
        statements.append(allow(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                 "ecr:GetDownloadUrlForLayer"], [props.repository_arn], Sid="TeamRegistry"))
    return policy(*statements)


class SageMakerRole(Module):
    def __init__(self, scope: Construct, id: str, props: SageMakerRoleProps):
        super().__init__(scope, id)
        role = Role(self, "role", RoleProps(name=props.name, service="sagemaker.amazonaws.com",
                                            inline_policy=execution_policy(props)))
        self.arn = role.arn
