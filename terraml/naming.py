"""Names every cloud shares: the stack name, the mandatory team tags, and fitting a name to a limit.

Each cloud's own resource names, and the limits its APIs put on them, are in its folder
(``providers/<cloud>/names.py``): the stack creates resources with those names, and job submission
finds the team's bucket, role and registry by the same names, so nothing reads Terraform outputs.
"""

from __future__ import annotations

import hashlib


def stack_name(team: str, cloud: str) -> str:
    return f"{team}-{cloud}"


def team_tags(platform, team) -> dict[str, str]:
    """The org's tags plus the mandatory team, cost-center and environment tags: on every taggable
    resource of the team's stacks and on every job the team submits."""
    return {**platform.defaults.tags, "team": team.name, "cost-center": team.cost_center,
            "environment": platform.defaults.environment}


def fit(name: str, limit: int) -> str:
    """Shorten a name past ``limit`` characters with a stable hash suffix, keeping it unique."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"
