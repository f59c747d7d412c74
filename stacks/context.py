"""What every team stack receives: the spec, the team, its cloud, the catalog and the mandatory tags."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from terraml.catalog import Catalog
from terraml.naming import stack_name, team_tags
from terraml.spec.models import Platform, Team


@dataclass(frozen=True)
class StackContext:
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
