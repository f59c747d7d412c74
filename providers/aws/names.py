"""The names of a team's AWS resources, derived from the spec in one place, and AWS's limits on them."""

from __future__ import annotations

from dataclasses import dataclass

from terraml.naming import fit
from terraml.policy.capacity import KINDS

# kind -> (max length, pattern), from each API's reference. The conformance tests hold every name
# AWS derives for the longest names the spec allows against these.
NAME_RULES: dict[str, tuple[int, str]] = {
    "cluster": (100, r"^[0-9A-Za-z][A-Za-z0-9\-_]*$"),
    "artifact_bucket": (63, r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"),
    "ecr_repository": (256, r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
    "sagemaker_role": (64, r"^[\w+=,.@-]+$"),
    "kms_alias": (256, r"^alias/[a-zA-Z0-9/_-]+$"),
    "budget": (100, r"^[^:\\]+$"),
    "node_group": (63, r"^[0-9A-Za-z][A-Za-z0-9\-_]*$"),
    "feature_group": (64, r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$"),
    "endpoint": (63, r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
    "endpoint_alarm": (255, r"^[^\x00-\x1f]+$"),
}


@dataclass(frozen=True)
class AwsNames:
    org: str
    team: str
    environment: str
    region: str

    @classmethod
    def for_team(cls, platform, team) -> AwsNames:
        return cls(platform.org, team.name, platform.defaults.environment, team.clouds.aws.region)

    @property
    def prefix(self) -> str:
        return f"{self.org}-{self.team}-{self.environment}"

    @property
    def cluster(self) -> str:
        return fit(self.prefix, 100)

    @property
    def artifact_bucket(self) -> str:
        # Bucket names are global: the region keeps two regions of one team apart.
        return fit(f"{self.prefix}-ml-artifacts-{self.region}", 63)

    @property
    def ecr_repository(self) -> str:
        return f"{self.org}/{self.team}-{self.environment}"

    @property
    def sagemaker_role(self) -> str:
        return fit(f"{self.prefix}-sagemaker-execution", 64)

    @property
    def kms_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def budget(self) -> str:
        return f"{self.prefix}-monthly"

    def node_group(self, pool: str, suffix: str) -> str:
        """``suffix`` is the capacity group's name suffix from the capacity plan ('spot', 'ondemand')."""
        return fit(f"{self.prefix}-{pool}-{suffix}", 63)

    def feature_group(self, group: str) -> str:
        return fit(f"{self.prefix}-{group.replace('_', '-')}", 64)

    def endpoint(self, name: str) -> str:
        return fit(f"{self.prefix}-{name}", 63)

    def endpoint_alarm(self, name: str, metric: str) -> str:
        return f"{self.endpoint(name)}-{metric}"

    def all_names(self, pools: list[str], groups: list[str], endpoints: list[str]) -> dict[str, str]:
        """Every name for the given pools, feature groups and endpoints, keyed 'kind' or 'kind:item'."""
        out = {kind: getattr(self, kind) for kind in ("cluster", "artifact_bucket", "ecr_repository",
                                                      "sagemaker_role", "kms_alias", "budget")}
        for pool in pools:
            for kind in KINDS:
                out[f"node_group:{pool}-{kind.suffix}"] = self.node_group(pool, kind.suffix)
        out.update({f"feature_group:{g}": self.feature_group(g) for g in groups})
        for ep in endpoints:
            out[f"endpoint:{ep}"] = self.endpoint(ep)
            out.update({f"endpoint_alarm:{ep}-{m}": self.endpoint_alarm(ep, m) for m in ("5xx", "latency")})
        return out
