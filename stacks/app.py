"""Turn a loaded spec into a CDK Terrain app with one stack per team and cloud."""

from __future__ import annotations

from cdktn import App
from terraml.providers.aws.stack import AwsTeamStack
from terraml.stacks.context import StackContext

from terraml.catalog import Catalog, load_catalog
from terraml.inventory import planned_stacks
from terraml.spec.models import Platform

STACK_CLASSES = {"aws": AwsTeamStack}


def build_app(platform: Platform, outdir: str, *, team: str | None = None, cloud: str | None = None,
              catalog: Catalog | None = None) -> tuple[App, list[str]]:
    """Build (not synthesize) the app; returns it with the names of the stacks it holds."""
    catalog = catalog or load_catalog()
    app = App(outdir=outdir)
    built = []
    for planned in planned_stacks(platform, team=team, cloud=cloud):
        if planned.skipped:
            continue
        t = platform.team(planned.team)
        STACK_CLASSES[planned.cloud](app, StackContext(platform, t, planned.cloud, catalog))
        built.append(planned.name)
    return app, built


__all__ = ["build_app", "planned_stacks"]
