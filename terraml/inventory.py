"""Which stacks a spec produces, which it cannot synthesize yet (said plainly, with the reason), and
what each stack is built from (the StackContext a cloud's build_stack receives)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from terraml import cloud as clouds
from terraml.catalog import Catalog
from terraml.cloud import Feature
from terraml.errors import UserError
from terraml.naming import stack_name, team_tags
from terraml.spec.models import Platform, Team
from terraml.suggest import did_you_mean


@dataclass(frozen=True)
class PlannedStack:
    team: str
    cloud: str
    skipped: str | None = None  # the reason, when the stack is not synthesized

    @property
    def name(self) -> str:
        return stack_name(self.team, self.cloud)


@dataclass(frozen=True)
class StackContext:
    """What every team stack receives: the spec, the team, its cloud, the catalog and the mandatory tags."""

    platform: Platform
    team: Team
    cloud: str
    catalog: Catalog

    @property
    def stack_name(self) -> str:
        return stack_name(self.team.name, self.cloud)

    @cached_property
    def tags(self) -> dict[str, str]:
        return team_tags(self.platform, self.team)


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
