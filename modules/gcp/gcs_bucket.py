"""The team's artifact bucket (datasets, checkpoints, models): private, versioned, encrypted with the team's key."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource

SKIPS = {
    "CKV_GCP_62": "usage logs would need a second bucket per team; Cloud Audit Logs (data access) cover audits",
}


@dataclass(frozen=True, kw_only=True)
class GcsBucketProps:
    name: str
    location: str
    kms_key_name: str
    """Read through the Cloud Storage agent's grant on the key (writes fail without it)."""
    noncurrent_version_days: int = 90
    """Old object versions (overwritten checkpoints and models) are deleted after this many days."""
    abort_multipart_days: int = 7
    soft_delete_days: int = 7
    """Deleted objects stay restorable this long (GCS soft delete)."""
    object_users: dict[str, str] = field(default_factory=dict)
    """{who: member} that read and write objects (roles/storage.objectUser on this bucket only)."""
    object_viewers: dict[str, str] = field(default_factory=dict)
    """{who: member} that only read objects (roles/storage.objectViewer on this bucket only)."""


class GcsBucket(Module):
    def __init__(self, scope: Construct, id: str, props: GcsBucketProps):
        super().__init__(scope, id)
        self.bucket = Resource(self, "bucket", "google_storage_bucket", {
            "name": props.name,
            "location": props.location.upper(),
            "storage_class": "STANDARD",
            "uniform_bucket_level_access": True,
            "public_access_prevention": "enforced",
            "versioning": {"enabled": True},
            "encryption": {"default_kms_key_name": props.kms_key_name},
            "soft_delete_policy": {"retention_duration_seconds": props.soft_delete_days * 86400},
            "lifecycle_rule": [
                {"action": {"type": "Delete"},
                 "condition": {"days_since_noncurrent_time": props.noncurrent_version_days,
                               "with_state": "ARCHIVED"}},
                {"action": {"type": "AbortIncompleteMultipartUpload"},
                 "condition": {"age": props.abort_multipart_days}},
            ],
            "force_destroy": False,
            "deletion_policy": "PREVENT",
        }, tags={}, skip_checks=SKIPS)
        self.name = self.bucket.attr("name")
        grants = [("objectUser", props.object_users), ("objectViewer", props.object_viewers)]
        for role, members in grants:
            for who, member in sorted(members.items()):
                Resource(self, f"{role}-{who}", "google_storage_bucket_iam_member", {
                    "bucket": self.name, "role": f"roles/storage.{role}", "member": member})
