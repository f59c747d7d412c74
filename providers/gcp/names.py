"""The names of a team's GCP resources, derived from the spec in one place, and GCP's limits on them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from terraml.naming import fit
from terraml.policy.capacity import KINDS

RFC1035 = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
"""Compute Engine resource names: a lowercase letter, then letters, digits and '-', not ending in '-'."""

# kind -> (max length, pattern), with the documented source of each limit. The conformance tests hold
# every name GCP derives for the longest names the spec allows against these.
NAME_RULES: dict[str, tuple[int, str]] = {
    # https://cloud.google.com/compute/docs/naming-resources (networks, subnetworks, routers, NATs)
    "network": (63, RFC1035),
    "subnetwork": (63, RFC1035),
    "router": (63, RFC1035),
    "nat": (63, RFC1035),
    # GKE API Cluster.name: "lowercase letters, numbers and hyphens, at most 40 characters, starts with a
    # letter, ends with a letter or number" (https://cloud.google.com/kubernetes-engine/docs/reference/rest)
    "cluster": (40, RFC1035),
    # NodePool.name: the same rule as the cluster's (gcloud container node-pools create: 40 characters)
    "node_pool": (40, RFC1035),
    # IAM service account ids: 6-30 characters, lowercase letters, digits and '-', starting with a letter
    # (https://cloud.google.com/iam/docs/service-accounts-create#creating)
    "service_account": (30, r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$"),
    # Bucket names: 3-63 characters, lowercase letters, digits, '-', '_' and '.', starting and ending with a
    # letter or digit, never starting with 'goog' nor containing 'google'
    # (https://cloud.google.com/storage/docs/buckets#naming)
    "artifact_bucket": (63, r"^(?!goog)(?!.*google)[a-z0-9][a-z0-9._-]*[a-z0-9]$"),
    # Artifact Registry repository ids: lowercase letters, digits and '-', starting with a letter, at most 63
    # (https://cloud.google.com/artifact-registry/docs/repositories/create-repos)
    "ar_repository": (63, RFC1035),
    # Cloud KMS key rings and keys: letters, digits, '_' and '-', 1-63 characters
    # (https://cloud.google.com/kms/docs/resource-hierarchy#retrieve_resource_id)
    "kms_key_ring": (63, r"^[a-zA-Z0-9_-]+$"),
    "kms_key": (63, r"^[a-zA-Z0-9_-]+$"),
    # Budget.displayName: at most 60 characters (https://cloud.google.com/billing/docs/reference/budget/rest)
    "budget": (60, r"^[^\x00-\x1f]+$"),
    # BigQuery datasets and tables: letters, digits and '_', 1024 at most
    # (https://cloud.google.com/bigquery/docs/datasets#dataset-naming, .../tables#table_naming)
    "bq_dataset": (1024, r"^[A-Za-z0-9_]+$"),
    "bq_table": (1024, r"^[A-Za-z0-9_]+$"),
    # Vertex AI Feature Store ids (online stores, feature groups, feature views): start with a letter,
    # then letters, digits and '_', at most 60 (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/
    # projects.locations.featureOnlineStores/create, .../featureGroups/create)
    "feature_online_store": (60, r"^[a-z][a-z0-9_]*$"),
    "feature_group": (60, r"^[a-z][a-z0-9_]*$"),
    "feature_view": (60, r"^[a-z][a-z0-9_]*$"),
    # Vertex AI endpoint ids given by the caller: "numeric with no leading zeros, at most 10 digits"
    # (hashicorp/google vertex_ai_endpoint.name); the display name may have 128 characters
    "endpoint_id": (10, r"^[1-9][0-9]*$"),
    "endpoint": (128, r"^[^\x00-\x1f]+$"),
    # Kubernetes namespaces and service accounts: DNS-1123 labels (63)
    "namespace": (63, r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
}

TRAINING_KSA = "training"
"""The Kubernetes service account training pods run as (Workload Identity: the training service account)."""
SERVING_KSA = "serving"
KEY_PURPOSES = ("gke", "storage", "registry", "vertex")
"""One Cloud KMS key per purpose: GKE secrets and node disks; the bucket; the registry; BigQuery and Vertex AI."""


def underscored(name: str, limit: int) -> str:
    """A name in the Vertex AI / BigQuery alphabet ('-' is not allowed there), fitted to ``limit``."""
    return fit(name.replace("-", "_"), limit).replace("-", "_")


@dataclass(frozen=True)
class GcpNames:
    org: str
    team: str
    environment: str
    project: str
    region: str

    @classmethod
    def for_team(cls, platform, team) -> GcpNames:
        gcp = team.clouds.gcp
        return cls(platform.org, team.name, platform.defaults.environment, gcp.project, gcp.region)

    @property
    def prefix(self) -> str:
        return f"{self.org}-{self.team}-{self.environment}"

    @property
    def network(self) -> str:
        return fit(self.prefix, 63)

    @property
    def subnetwork(self) -> str:
        return fit(f"{self.prefix}-{self.region}", 63)

    @property
    def router(self) -> str:
        return fit(f"{self.prefix}-router", 63)

    @property
    def nat(self) -> str:
        return fit(f"{self.prefix}-nat", 63)

    @property
    def cluster(self) -> str:
        return fit(self.prefix, 40)

    def node_pool(self, pool: str, suffix: str) -> str:
        """Node pools are scoped to their cluster: the spec's pool name and the capacity plan's suffix."""
        return fit(f"{pool}-{suffix}", 40)

    @property
    def system_pool(self) -> str:
        return "system"

    def service_account(self, role: str) -> str:
        """The account id (the part before '@'); the project scopes it."""
        return fit(f"{self.prefix}-{role}", 30)

    @property
    def node_service_account(self) -> str:
        return self.service_account("gke-nodes")

    @property
    def training_service_account(self) -> str:
        return self.service_account("training")

    @property
    def serving_service_account(self) -> str:
        return self.service_account("serving")

    @property
    def artifact_bucket(self) -> str:
        # Bucket names are global: the region keeps two regions of one team apart.
        return fit(f"{self.prefix}-ml-artifacts-{self.region}", 63)

    @property
    def ar_repository(self) -> str:
        return fit(self.prefix, 63)

    @property
    def kms_key_ring(self) -> str:
        # Key rings can never be deleted; a name is taken for good in its project and location.
        return fit(self.prefix, 63)

    def kms_key(self, purpose: str) -> str:
        return fit(purpose, 63)

    @property
    def budget(self) -> str:
        return fit(f"{self.prefix}-monthly", 60)

    @property
    def bq_dataset(self) -> str:
        return underscored(f"{self.prefix}_features", 1024)

    def bq_table(self, group: str) -> str:
        return underscored(group, 1024)

    def bq_view(self, group: str) -> str:
        return underscored(f"{group}_source", 1024)

    @property
    def feature_online_store(self) -> str:
        return underscored(self.prefix, 60)

    def feature_group(self, group: str) -> str:
        return underscored(f"{self.prefix}_{group}", 60)

    def feature_view(self, group: str) -> str:
        return underscored(group, 60)

    def endpoint(self, name: str) -> str:
        """The display name."""
        return fit(f"{self.prefix}-{name}", 128)

    def endpoint_id(self, name: str) -> str:
        """Vertex AI endpoint ids must be numeric: a stable 10-digit number from the project, region and
        display name, so that re-synthesizing never renames (and so replaces) an endpoint."""
        digest = hashlib.sha256(f"{self.project}/{self.region}/{self.endpoint(name)}".encode()).hexdigest()
        return str(10**9 + int(digest, 16) % (9 * 10**9))

    @property
    def namespace(self) -> str:
        """The Kubernetes namespace of the team's training and serving pods."""
        return fit(self.team, 63)

    def all_names(self, pools: list[str], groups: list[str], endpoints: list[str]) -> dict[str, str]:
        """Every name for the given pools, feature groups and endpoints, keyed 'kind' or 'kind:item'."""
        out = {kind: getattr(self, kind) for kind in ("network", "subnetwork", "router", "nat", "cluster",
                                                      "artifact_bucket", "ar_repository", "kms_key_ring",
                                                      "budget", "bq_dataset", "feature_online_store",
                                                      "namespace")}
        out["node_pool:system"] = self.system_pool
        for pool in pools:
            for kind in KINDS:
                out[f"node_pool:{pool}-{kind.suffix}"] = self.node_pool(pool, kind.suffix)
        for role in ("gke-nodes", "training", "serving"):
            out[f"service_account:{role}"] = self.service_account(role)
        for purpose in KEY_PURPOSES:
            out[f"kms_key:{purpose}"] = self.kms_key(purpose)
        for g in groups:
            out[f"bq_table:{g}"] = self.bq_table(g)
            out[f"bq_table:{g}-source"] = self.bq_view(g)
            out[f"feature_group:{g}"] = self.feature_group(g)
            out[f"feature_view:{g}"] = self.feature_view(g)
        for ep in endpoints:
            out[f"endpoint:{ep}"] = self.endpoint(ep)
            out[f"endpoint_id:{ep}"] = self.endpoint_id(ep)
        return out
