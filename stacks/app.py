"""Turn a loaded spec into a CDK Terrain app with one stack per team and cloud, each built by its cloud."""

from __future__ import annotations

from cdktn import App

from terraml.catalog import Catalog, load_catalog
from terraml.cloud import get
from terraml.inventory import StackContext, planned_stacks
from terraml.spec.models import Platform

# The Terraform/OpenTofu versions the stacks target: S3 native state locking (use_lockfile, the AWS state
# backend when defaults.state.aws has no lock_table) needs 1.10; cdktn validates features against this.
TARGET_VERSIONS = {"terraform": ">=1.10.0", "opentofu": ">=1.10.0"}


def build_app(platform: Platform, outdir: str, *, team: str | None = None, cloud: str | None = None,
              catalog: Catalog | None = None) -> tuple[App, list[str]]:
    """Build (not synthesize) the app; returns it with the names of the stacks it holds."""
    catalog = catalog or load_catalog()
    app = App(outdir=outdir, context={"targetVersions": TARGET_VERSIONS})
    built = []
    for planned in planned_stacks(platform, team=team, cloud=cloud):
        if planned.skipped:
            continue
        get(planned.cloud).build_stack(app, StackContext(platform, platform.team(planned.team), planned.cloud,
                                                         catalog))
        built.append(planned.name)
    return app, built
