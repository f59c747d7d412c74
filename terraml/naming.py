"""Names of the cloud resources terraml creates, derived from the spec in one place.

Stacks create resources with these names, and job submission (providers/) finds the team's bucket,
role and registry by the same names, so nothing needs to read Terraform outputs to submit a job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def stack_name(team: str, cloud: str) -> str:
    return f"{team}-{cloud}"


def team_tags(platform, team) -> dict[str, str]:
    """The org's tags plus the mandatory team, cost-center and environment tags: on every taggable
    resource of the team's stacks and on every job the team submits."""
    return {**platform.defaults.tags, "team": team.name, "cost-center": team.cost_center,
            "environment": platform.defaults.environment}


def _fit(name: str, limit: int) -> str:
    """Shorten a name past ``limit`` characters with a stable hash suffix, keeping it unique."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


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
        return _fit(self.prefix, 100)

    @property
    def artifact_bucket(self) -> str:
        # Bucket names are global: the region keeps two regions of one team apart.
        return _fit(f"{self.prefix}-ml-artifacts-{self.region}", 63)

    @property
    def ecr_repository(self) -> str:
        return f"{self.org}/{self.team}-{self.environment}"

    @property
    def sagemaker_role(self) -> str:
        return _fit(f"{self.prefix}-sagemaker-execution", 64)

    @property
    def kms_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def budget(self) -> str:
        return f"{self.prefix}-monthly"

    def node_group(self, pool: str, capacity: str) -> str:
        return _fit(f"{self.prefix}-{pool}-{capacity.replace('-', '')}", 63)

    def feature_group(self, group: str) -> str:
        return _fit(f"{self.prefix}-{group.replace('_', '-')}", 64)

    def endpoint(self, name: str) -> str:
        return _fit(f"{self.prefix}-{name}", 63)

    def endpoint_alarm(self, name: str, metric: str) -> str:
        return f"{self.endpoint(name)}-{metric}"
