"""The team's private Docker repository in Artifact Registry: immutable tags, CMEK, old images cleaned up."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class ArtifactRegistryProps:
    repository_id: str
    location: str
    kms_key_name: str
    """Read through the Artifact Registry agent's grant on the key (the repository needs it at creation)."""
    immutable_tags: bool = True
    """A pushed tag can never point at another image (reproducible training and serving)."""
    scan_on_push: bool = True
    """Container Scanning (when its API is on in the project) scans every pushed image."""
    keep_images: int = 200
    """Versions of each image beyond the newest N are deleted."""
    readers: dict[str, str] = field(default_factory=dict)
    """Who pulls images: {who: member}, granted roles/artifactregistry.reader on this repository only."""


class ArtifactRegistry(Module):
    def __init__(self, scope: Construct, id: str, props: ArtifactRegistryProps):
        super().__init__(scope, id)
        self.repository = Resource(self, "repository", "google_artifact_registry_repository", {
            "repository_id": props.repository_id,
            "location": props.location,
            "format": "DOCKER",
            "mode": "STANDARD_REPOSITORY",
            "description": "terraml: the team's training and serving images",
            "docker_config": {"immutable_tags": props.immutable_tags},
            "kms_key_name": props.kms_key_name,
            "vulnerability_scanning_config": {"enablement_config": "INHERITED" if props.scan_on_push
                                              else "DISABLED"},
            # A KEEP policy wins over a DELETE one: every version is a deletion candidate except the newest N.
            "cleanup_policy_dry_run": False,
            "cleanup_policies": [
                {"id": "delete-all-but-newest", "action": "DELETE", "condition": {"tag_state": "ANY"}},
                {"id": f"keep-newest-{props.keep_images}", "action": "KEEP",
                 "most_recent_versions": {"keep_count": props.keep_images}},
            ],
            "deletion_policy": "PREVENT",
        }, tags={})
        self.name = self.repository.attr("name")
        for who, member in sorted(props.readers.items()):
            Resource(self, f"reader-{who}", "google_artifact_registry_repository_iam_member", {
                "project": self.repository.attr("project"), "location": props.location,
                "repository": self.name, "role": "roles/artifactregistry.reader", "member": member})
        self.url = f"{props.location}-docker.pkg.dev/{self.repository.attr('project')}/{props.repository_id}"
