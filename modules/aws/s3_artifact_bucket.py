"""The team's artifact bucket (datasets, checkpoints, models, offline feature store)."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.aws.iam import policy
from terraml.modules.core import Module, Resource

SKIPS = {
    "CKV_AWS_18": "access logs would need a second bucket per team; CloudTrail data events cover audits",
    "CKV_AWS_144": "artifacts are reproducible from code and data; cross-region replication doubles storage cost",
}


@dataclass(frozen=True, kw_only=True)
class ArtifactBucketProps:
    name: str
    kms_key_arn: str
    noncurrent_version_days: int = 90
    """Old object versions (overwritten checkpoints and models) are deleted after this many days."""
    abort_multipart_days: int = 7


class ArtifactBucket(Module):
    def __init__(self, scope: Construct, id: str, props: ArtifactBucketProps):
        super().__init__(scope, id)
        self.bucket = Resource(self, "bucket", "aws_s3_bucket", {"bucket": props.name, "force_destroy": False},
                               tags={}, skip_checks=SKIPS)
        bucket_id = self.bucket.attr("id")
        self.arn = self.bucket.attr("arn")
        Resource(self, "versioning", "aws_s3_bucket_versioning", {
            "bucket": bucket_id, "versioning_configuration": {"status": "Enabled"}})
        Resource(self, "encryption", "aws_s3_bucket_server_side_encryption_configuration", {
            "bucket": bucket_id,
            "rule": [{"apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms", "kms_master_key_id": props.kms_key_arn}, "bucket_key_enabled": True}]})
        # Object events go to EventBridge, where pipelines can react to new datasets or models.
        Resource(self, "events", "aws_s3_bucket_notification", {"bucket": bucket_id, "eventbridge": True})
        Resource(self, "public-access", "aws_s3_bucket_public_access_block", {
            "bucket": bucket_id, "block_public_acls": True, "block_public_policy": True,
            "ignore_public_acls": True, "restrict_public_buckets": True})
        Resource(self, "ownership", "aws_s3_bucket_ownership_controls", {
            "bucket": bucket_id, "rule": {"object_ownership": "BucketOwnerEnforced"}})
        Resource(self, "lifecycle", "aws_s3_bucket_lifecycle_configuration", {
            "bucket": bucket_id,
            "rule": [{"id": "expire-old-versions", "status": "Enabled", "filter": [{"prefix": ""}],
                      "noncurrent_version_expiration": [{"noncurrent_days": props.noncurrent_version_days}],
                      "abort_incomplete_multipart_upload": [{"days_after_initiation": props.abort_multipart_days}]}]})
        Resource(self, "tls-only", "aws_s3_bucket_policy", {
            "bucket": bucket_id,
            "policy": policy({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                              "Action": "s3:*", "Resource": [self.arn, f"{self.arn}/*"],
                              "Condition": {"Bool": {"aws:SecureTransport": "false"}}})})
        self.name = props.name
