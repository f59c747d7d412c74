"""`terraml validate|stacks|synth|clouds` and `terraml catalog gpus`: the spec and its stacks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from terraml.cli.app import SpecArg, SpecOpt, app, load_spec, out
from terraml.errors import UserError

catalog_app = typer.Typer(help="What the price catalog offers.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@app.command()
def validate(spec: SpecArg = None, spec_opt: SpecOpt = None):
    """Check a platform spec: structure, names against the catalog, and cross-field rules."""
    from terraml.inventory import planned_stacks

    loaded = load_spec(spec, spec_opt)
    plan = planned_stacks(loaded.platform)
    made = sum(1 for p in plan if not p.skipped)
    out.print(f"[green]✓[/green] {loaded.path} is valid: {len(loaded.platform.teams)} teams, "
              f"{len(plan)} stacks ({made} synthesized, {len(plan) - made} not yet supported), "
              f"{len(loaded.warnings)} warnings", highlight=False)


@app.command()
def stacks(spec: SpecArg = None, spec_opt: SpecOpt = None):
    """List the stacks the spec produces, and what each of its clouds does not support yet."""
    from terraml.cloud import get
    from terraml.inventory import planned_stacks

    loaded = load_spec(spec, spec_opt)
    table = Table("stack", "team", "cloud", "region", "status")
    planned = planned_stacks(loaded.platform)
    for p in planned:
        block = loaded.platform.team(p.team).environment(p.cloud)
        region = getattr(block, get(p.cloud).REGION_FIELD)
        table.add_row(p.name, p.team, p.cloud, region, f"skipped: {p.skipped}" if p.skipped else "synthesized")
    out.print(table)
    used = sorted({p.cloud for p in planned}, key=[p.cloud for p in planned].index)
    _unsupported_table([get(name) for name in used], "not supported yet by the spec's clouds")


@app.command()
def clouds():
    """The registered clouds, the extra each needs, and what each does not support (yet)."""
    from terraml.cloud import every

    registered = every()
    table = Table("cloud", "what", "install", "team environments")
    for c in registered:
        table.add_row(c.NAME, c.TITLE, escape(f"pip install 'terraml[{c.EXTRA}]'") if c.EXTRA else "-",
                      "yes" if c.ENVIRONMENTS else "no (jobs only)")
    out.print(table)
    _unsupported_table(registered, "not supported (yet)")


def _unsupported_table(chosen, title: str) -> None:
    table = Table("cloud", "feature", "why", title=title)
    for c in chosen:
        for feature, why in c.UNSUPPORTED.items():
            table.add_row(c.NAME, feature.value, why)
    if table.row_count:
        out.print(table)


@app.command()
def synth(spec: SpecArg = None, spec_opt: SpecOpt = None,
          team: Annotated[str | None, typer.Option(help="Only this team's stacks.")] = None,
          cloud: Annotated[str | None, typer.Option(help="Only stacks on this cloud (aws, gcp, azure).")] = None,
          outdir: Annotated[str, typer.Option(help="Where to write the stacks.")] = "cdktf.out"):
    """Synthesize the stacks into cdktf.out/ (deploy them with `npx cdktn deploy STACK`)."""
    from terraml.synth import synth as run_synth

    loaded = load_spec(spec, spec_opt)
    result = run_synth(loaded.platform, outdir, team=team, cloud=cloud)
    for name in result.written:
        out.print(f"[green]✓[/green] {name} → {result.outdir.name}/stacks/{name}/cdk.tf.json", highlight=False)
    for p in result.skipped:
        out.print(f"[yellow]skipped[/yellow] {p.name}: {p.skipped}", highlight=False)
    if result.written:
        out.print(f"Deploy with: npx cdktn deploy {result.written[0]}", highlight=False)


@catalog_app.command("gpus")
def catalog_gpus(cloud: Annotated[str, typer.Option(help="aws, gcp or azure")],
                 region: Annotated[str | None, typer.Option(help="Only this region.")] = None):
    """GPU instance types with their on-demand and spot prices (USD per hour)."""
    from rich.text import Text

    from terraml.catalog import STALE_AFTER_MONTHS, load_catalog
    from terraml.cloud import environment
    from terraml.suggest import did_you_mean

    environment(cloud)
    catalog = load_catalog()
    if region and region not in catalog.regions(cloud):
        raise UserError(f"--region: the catalog has no {cloud} prices for '{region}'"
                        f"{did_you_mean(region, catalog.regions(cloud))} "
                        f"Regions: {', '.join(sorted(catalog.regions(cloud)))}.")
    rows = sorted((r for r in catalog.vms if r.cloud == cloud and r.accelerator and r.instance_type != "gpu-only"
                   and (region is None or r.region == region)),
                  key=lambda r: (r.region, r.accelerator, r.accelerator_count or 0, r.on_demand_usd_per_hour or 0))
    table = Table("region", "instance type", "accelerator", "count", "vCPUs", "on-demand $/h", "spot $/h", "as of",
                  "caveat")
    caveats = 0
    for r in rows:
        caveat = r.caveat
        caveats += bool(caveat)
        table.add_row(r.region, r.instance_type, r.accelerator, f"{r.accelerator_count or 0:g}", str(r.vcpus or ""),
                      f"{r.on_demand_usd_per_hour:.4f}" if r.on_demand_usd_per_hour is not None else "-",
                      f"{r.spot_usd_per_hour:.4f}" if r.spot_usd_per_hour is not None else "-", escape(r.as_of),
                      Text(caveat, style="yellow") if caveat else "")
    out.print(table)
    if caveats:
        out.print(f"{caveats} row(s) carry a caveat: a price in doubt, or one more than {STALE_AFTER_MONTHS} months "
                  "old (see terraml/data/pricing/SOURCES.md).", highlight=False, markup=False)
