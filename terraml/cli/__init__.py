"""The `terraml` command line.

Heavy imports (cdktn, botocore, cloud SDKs) happen inside the commands that need them, so
`terraml --help` stays fast and never loads them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from terraml.errors import TerramlError, UserError

app = typer.Typer(help="ML platforms on AWS, GCP and Azure as code.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
catalog_app = typer.Typer(help="What the price catalog offers.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
# Piped output (CI logs, files) gets wide lines instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=True)

SpecArg = Annotated[str | None, typer.Argument(help="platform.yaml (default: --spec, $TERRAML_SPEC, ./platform.yaml)",
                                               show_default=False)]
SpecOpt = Annotated[str | None, typer.Option("--spec", help="The platform spec; same as the argument.")]


def _spec(arg: str | None, opt: str | None) -> str | None:
    if arg and opt and arg != opt:
        raise UserError(f"the spec is given twice ('{arg}' and --spec '{opt}'); give it once.")
    return arg or opt


def _load(arg: str | None, opt: str | None):
    from terraml.spec import load_platform

    loaded = load_platform(_spec(arg, opt))
    for w in loaded.warnings:
        err.print(f"[yellow]warning[/yellow] {w}", highlight=False, soft_wrap=True)
    return loaded


@app.command()
def validate(spec: SpecArg = None, spec_opt: SpecOpt = None):
    """Check a platform spec: structure, names against the catalog, and cross-field rules."""
    from terraml.inventory import planned_stacks

    loaded = _load(spec, spec_opt)
    plan = planned_stacks(loaded.platform)
    made = sum(1 for p in plan if not p.skipped)
    out.print(f"[green]✓[/green] {loaded.path} is valid: {len(loaded.platform.teams)} teams, "
              f"{len(plan)} stacks ({made} synthesized, {len(plan) - made} not yet supported), "
              f"{len(loaded.warnings)} warnings", highlight=False)


@app.command()
def stacks(spec: SpecArg = None, spec_opt: SpecOpt = None):
    """List the stacks the spec produces."""
    from terraml.inventory import planned_stacks

    loaded = _load(spec, spec_opt)
    table = Table("stack", "team", "cloud", "region", "status")
    for p in planned_stacks(loaded.platform):
        block = getattr(loaded.platform.team(p.team).clouds, p.cloud)
        region = getattr(block, "region", None) or getattr(block, "location", "")
        table.add_row(p.name, p.team, p.cloud, region, f"skipped: {p.skipped}" if p.skipped else "synthesized")
    out.print(table)


@app.command()
def synth(spec: SpecArg = None, spec_opt: SpecOpt = None,
          team: Annotated[str | None, typer.Option(help="Only this team's stacks.")] = None,
          cloud: Annotated[str | None, typer.Option(help="Only stacks on this cloud (aws, gcp, azure).")] = None,
          outdir: Annotated[str, typer.Option(help="Where to write the stacks.")] = "cdktf.out"):
    """Synthesize the stacks into cdktf.out/ (deploy them with `npx cdktn deploy STACK`)."""
    from terraml.synth import synth as run_synth

    loaded = _load(spec, spec_opt)
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
    from terraml.catalog import CLOUDS, load_catalog
    from terraml.suggest import did_you_mean

    if cloud not in CLOUDS:
        raise UserError(f"--cloud: '{cloud}' is not a cloud; allowed: {', '.join(CLOUDS)}.")
    catalog = load_catalog()
    if region and region not in catalog.regions(cloud):
        raise UserError(f"--region: the catalog has no {cloud} prices for '{region}'"
                        f"{did_you_mean(region, catalog.regions(cloud))} "
                        f"Regions: {', '.join(sorted(catalog.regions(cloud)))}.")
    rows = sorted((r for r in catalog.vms if r.cloud == cloud and r.accelerator and r.instance_type != "gpu-only"
                   and (region is None or r.region == region)),
                  key=lambda r: (r.region, r.accelerator, r.accelerator_count or 0, r.on_demand_usd_per_hour or 0))
    table = Table("region", "instance type", "accelerator", "count", "vCPUs", "on-demand $/h", "spot $/h", "as of")
    for r in rows:
        table.add_row(r.region, r.instance_type, r.accelerator, f"{r.accelerator_count or 0:g}", str(r.vcpus or ""),
                      f"{r.on_demand_usd_per_hour:.4f}" if r.on_demand_usd_per_hour is not None else "-",
                      f"{r.spot_usd_per_hour:.4f}" if r.spot_usd_per_hour is not None else "-", r.as_of)
    out.print(table)


def _register_commands() -> None:
    """Jobs and cost commands live in their own modules; they import nothing heavy at this point."""
    from terraml.cli.cost import register as register_cost
    from terraml.cli.jobs import register

    register(app, out, err)
    register_cost(app, out, err)


_register_commands()


def main() -> None:
    try:
        app(standalone_mode=False)
    except TerramlError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
