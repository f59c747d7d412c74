"""Which stacks a spec produces, and which it cannot synthesize yet (said plainly, with the reason)."""

from __future__ import annotations

from dataclasses import dataclass

from terraml.errors import UserError
from terraml.naming import stack_name
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean

SYNTHESIZED_CLOUDS = ("aws",)
NOT_YET = {
    "gcp": "GCP stacks (GKE, Artifact Registry, Vertex AI) are not built yet; the gcp block is fully validated",
    "azure": "Azure stacks (AKS, ACR, Azure ML) are not built yet; the azure block is fully validated",
}


@dataclass(frozen=True)
class PlannedStack:
    team: str
    cloud: str
    skipped: str | None = None  # the reason, when the stack is not synthesized

    @property
    def name(self) -> str:
        return stack_name(self.team, self.cloud)


def planned_stacks(platform: Platform, *, team: str | None = None, cloud: str | None = None) -> list[PlannedStack]:
    teams = [t.name for t in platform.teams]
    if team and team not in teams:
        raise UserError(f"--team: '{team}' is not a team in the spec{did_you_mean(team, teams)} "
                        f"Teams: {', '.join(teams)}.")
    if cloud and cloud not in ("aws", "gcp", "azure"):
        raise UserError(f"--cloud: '{cloud}' is not a cloud; allowed: aws, gcp, azure.")
    out = []
    for t in platform.teams:
        if team and t.name != team:
            continue
        for name, _ in t.clouds.items():
            if cloud and name != cloud:
                continue
            out.append(PlannedStack(t.name, name, None if name in SYNTHESIZED_CLOUDS else NOT_YET[name]))
    if not out:
        raise UserError(f"no stack matches --team {team or '*'} --cloud {cloud or '*'}; "
                        "run 'terraml stacks' to list them.")
    return out
