"""Which stacks a spec produces, and which it cannot synthesize yet (said plainly, with the reason)."""

from __future__ import annotations

from dataclasses import dataclass

from terraml import cloud as clouds
from terraml.cloud import Feature
from terraml.errors import UserError
from terraml.naming import stack_name
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean


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
    if cloud:
        clouds.environment(cloud)
    out = []
    for t in platform.teams:
        if team and t.name != team:
            continue
        for name, _ in t.clouds.items():
            if cloud and name != cloud:
                continue
            out.append(PlannedStack(t.name, name, clouds.get(name).unsupported_reason(Feature.STACKS)))
    if not out:
        raise UserError(f"no stack matches --team {team or '*'} --cloud {cloud or '*'}; "
                        "run 'terraml stacks' to list them.")
    return out
