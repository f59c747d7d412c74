"""The typed, frozen model of platform.yaml.

Structure and types live here and in ``base.py``; each cloud's block (``clouds.<name>``, and its
``defaults.state.<name>``) comes from that cloud's folder through the registry, so the clouds a team
may declare are exactly the registered ones. Checks that need the catalog or several fields at once
live in ``checks.py`` so that every problem is reported, not only the first one per model.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, create_model

from terraml import cloud as clouds
from terraml.spec.base import CloudBlock, Email, Name, Strict


class _PerCloud(Strict):
    """A mapping of registered cloud names to their blocks, in the registry's order."""

    def items(self) -> list[tuple[str, BaseModel]]:
        """The clouds present, in a fixed order."""
        return [(n, b) for n in type(self).model_fields if (b := getattr(self, n)) is not None]

    def block(self, cloud: str) -> BaseModel | None:
        return getattr(self, cloud, None)


def _per_cloud(name: str, block_of) -> type[_PerCloud]:
    fields = {}
    for c in clouds.with_environments():
        block = block_of(c)
        if block is not None:
            fields[c.NAME] = (block | None, None)
    return create_model(name, __base__=_PerCloud, **fields)


StateBackends = _per_cloud("StateBackends", lambda c: c.state_block())
"""Terraform state per cloud (defaults.state.<cloud>)."""
TeamClouds = _per_cloud("TeamClouds", lambda c: c.spec_block())
"""The clouds a team uses (clouds.<cloud>)."""


class Defaults(Strict):
    environment: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,9}$")] = "dev"
    """Part of every resource name and tag (prod, staging, dev...)."""
    tags: dict[str, str] = {}
    """Added to every taggable resource (labels on GCP)."""
    state: StateBackends = StateBackends()
    """Terraform state per cloud; a cloud left out keeps a local state file."""
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")] = "1.33"


# ---------------------------------------------------------------- team-level pieces
class Budget(Strict):
    monthly_usd: float = Field(gt=0)
    alert_at_percent: list[Annotated[int, Field(ge=1, le=1000)]] = [80, 100]
    """Notifications go to the team's owners when actual spend crosses each percentage."""


class Quotas(Strict):
    max_gpus: int | None = Field(default=None, ge=0)
    """Across all of the team's pools and jobs, per cloud."""


class Team(Strict):
    name: Name
    cost_center: str = Field(min_length=1, max_length=64)
    owners: list[Email] = Field(min_length=1)
    budget: Budget | None = None
    quotas: Quotas = Quotas()
    clouds: TeamClouds

    def environment(self, cloud: str) -> CloudBlock | None:
        """The team's clouds.<cloud> block, if it declares one."""
        return self.clouds.block(cloud)


class Platform(Strict):
    org: Name
    defaults: Defaults = Defaults()
    teams: list[Team] = Field(min_length=1)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)
