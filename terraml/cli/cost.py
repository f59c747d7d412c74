"""`terraml cost report|diff|actual` and `terraml prices refresh`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from terraml.cli.app import app, err, load_spec, out, resolve_home
from terraml.errors import UserError

cost_app = typer.Typer(help="Cost estimates, diffs and actual spend.", no_args_is_help=True)
prices_app = typer.Typer(help="The price catalog's data files.", no_args_is_help=True)
app.add_typer(cost_app, name="cost")
app.add_typer(prices_app, name="prices")

FORMATS = ("table", "json", "csv", "html", "markdown")
DirOpt = Annotated[str, typer.Option("--dir", help="Synthesized stacks (cdktf.out).")]
UsageOpt = Annotated[str | None, typer.Option("--usage", help="Usage assumptions (YAML); `terraml cost usage` "
                                                              "prints every field with its default.")]


def this_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def check_month(month: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"--month: '{month}' is not a month; use YYYY-MM, e.g. {this_month()}.")
    return month


def load_usage(path: str | None):
    from terraml.cost.model import Usage
    from terraml.spec.loader import parse_document, read_yaml

    if path is None:
        return Usage()
    if not Path(path).is_file():
        raise UserError(f"--usage: file not found: {path}")
    return parse_document(read_yaml(Path(path)), Usage, path, "usage assumptions")


def estimate_dirs(*folders: str, usage: str | None):
    """One estimate per cdktf.out folder, under the same usage assumptions (each override must match)."""
    from terraml.catalog import load_catalog
    from terraml.cost.estimate import check_overrides, estimate
    from terraml.cost.tfjson import read_stacks

    assumptions = load_usage(usage)
    estimates = [estimate(read_stacks(folder), load_catalog(), assumptions) for folder in folders]
    check_overrides(assumptions, *estimates)
    return estimates


@cost_app.command("report")
def report(folder: DirOpt = "cdktf.out",
           team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
           format: Annotated[str, typer.Option("--format", help="table, json, csv, html or markdown")] = "table",
           output: Annotated[str | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
           month: Annotated[str | None, typer.Option(help="Jobs of this month (YYYY-MM).")] = None,
           usage: UsageOpt = None,
           spec: Annotated[str | None, typer.Option("--spec", help="Platform spec, for budgets.")] = None,
           home: Annotated[str | None, typer.Option("--home", help="terraml home, for job costs.")] = None):
    """Monthly cost per team, cloud and resource, jobs this month, and budget used."""
    from terraml.cost import report as rep
    from terraml.cost.ledger import read_jobs

    if format not in FORMATS:
        raise UserError(f"--format: '{format}' is not a format; allowed: {', '.join(FORMATS)}.")
    if output is not None and Path(output).is_dir():
        suffix = "md" if format == "markdown" else "txt" if format == "table" else format
        raise UserError(f"--output: {output} is a folder; give a file name, e.g. {Path(output) / f'cost.{suffix}'}.")
    [est] = estimate_dirs(folder, usage=usage)
    budgets = None  # no spec found: budgets unknown, which the report says (not "no budget")
    from terraml.spec import resolve_spec_path

    spec_path = resolve_spec_path(spec, required=False)
    if spec_path:
        budgets = {t.name: t.budget.monthly_usd for t in load_spec(None, spec_path).platform.teams if t.budget}
    if team and team not in est.teams():
        from terraml.suggest import did_you_mean

        raise UserError(f"--team: '{team}' has no resources in {folder}{did_you_mean(team, est.teams())} "
                        f"Teams: {', '.join(est.teams())}.")
    skipped: list[str] = []
    data = rep.build(est, budgets=budgets, jobs=read_jobs(resolve_home(home), skipped),
                     month=check_month(month or this_month()), team=team)
    for problem in skipped:
        err.print(f"[yellow]warning[/yellow] {problem}", highlight=False, soft_wrap=True)
    if format == "table" and output is None:
        rep.to_table(data, out)
        return
    text = {"json": rep.to_json, "csv": rep.to_csv, "markdown": rep.to_markdown, "html": rep.to_html,
            "table": rep.to_markdown}[format](data)
    if output:
        from terraml.fsutil import write_text_atomic

        write_text_atomic(Path(output), text)
        out.print(f"wrote {output}")
    else:
        out.out(text, highlight=False, end="")


@cost_app.command("usage")
def usage_template():
    """Print a usage file with every assumption at its default and what it means (edit it, pass --usage)."""
    from terraml.cost.model import Usage

    out.out(Usage.template(), highlight=False, end="")


DIFF_FORMATS = ("table", "markdown", "json", "html")


@cost_app.command("diff")
def cost_diff(old: Annotated[str, typer.Argument(help="cdktf.out before the change.")],
              new: Annotated[str, typer.Argument(help="cdktf.out after the change.")],
              format: Annotated[str, typer.Option("--format", help="table, markdown, json or html (the report "
                                                                   "of NEW with the diff view)")] = "table",
              output: Annotated[str | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
              usage: UsageOpt = None):
    """What a change adds or removes per month, per resource and per team (markdown for PR comments)."""
    import json

    from terraml.cost import diff as d

    if format not in DIFF_FORMATS:
        raise UserError(f"--format: '{format}' is not a format; allowed: {', '.join(DIFF_FORMATS)}.")
    before, after = estimate_dirs(old, new, usage=usage)
    result = d.diff(before, after)
    if format == "table" and output is None:
        show_diff_table(result)
        return
    if format == "html":
        from terraml.cost import report as rep

        text = rep.to_html(rep.build(after, month=this_month()), diff=d.to_dict(result))
    elif format == "json":
        text = json.dumps(d.to_dict(result), indent=2) + "\n"
    else:
        text = d.to_markdown(result)
    if output:
        from terraml.fsutil import write_text_atomic

        write_text_atomic(Path(output), text)
        out.print(f"wrote {output}")
    else:
        out.out(text, highlight=False, end="")


def show_diff_table(result) -> None:
    from terraml.cost import diff as d
    from terraml.cost.model import CURRENCY

    teams = Table(*d.SUMMARY_HEADER, title=f"cost change per team ({CURRENCY} per month; % of before)")
    for name, totals in d.summary_rows(result):
        teams.add_row(name, *d.summary_cells(totals))
    out.print(teams)
    rows = Table("change", "team", "resource", "component", "min/month", "max/month", "note")
    for c in result.changes:
        rows.add_row(c.change, c.team, f"{c.stack}:{c.address}", c.component, *d.change_cells(c))
    out.print(rows if result.changes else "no change to the monthly estimate")


@cost_app.command("actual")
def actual(team: Annotated[str, typer.Option(help="The team.")],
           month: Annotated[str, typer.Option(help="YYYY-MM")] = "",
           folder: DirOpt = "cdktf.out", usage: UsageOpt = None,
           spec: Annotated[str | None, typer.Option("--spec")] = None):
    """Actual spend from the clouds' billing APIs, next to the estimate."""
    from terraml.cloud import Feature, get

    month = check_month(month or this_month())
    platform = load_spec(None, spec).platform
    t = platform.team(team)
    if t is None:
        from terraml.suggest import did_you_mean

        names = [x.name for x in platform.teams]
        raise UserError(f"--team: '{team}' is not a team in the spec{did_you_mean(team, names)}")
    est = estimate_dirs(folder, usage=usage)[0] if Path(folder).exists() else None
    table = Table("cloud", "estimate min/month", "estimate max/month", f"actual {month}", "source",
                  title=f"{team}: estimate vs actual")
    for cloud, _ in t.clouds.items():
        priced = est is not None and any(x.team == team and x.cloud == cloud for x in est.priced())
        low, high = est.total(team, cloud) if priced else (None, None)
        source = get(cloud)
        amount, note = (source.spend(team, month, platform) if source.supports(Feature.BILLING)
                        else (None, source.unsupported_reason(Feature.BILLING)))
        table.add_row(cloud, f"${low:,.2f}" if priced else "-", f"${high:,.2f}" if priced else "-",
                      "-" if amount is None else f"${amount:,.2f}", note)
    out.print(table)


@prices_app.command("refresh")
def refresh(cloud: Annotated[str, typer.Option(help="aws, gcp or azure")],
            data_dir: Annotated[str | None, typer.Option("--data-dir", help="Price files to update (default: "
                                                                             "the package's own).")] = None):
    """Rebuild VM prices from the cloud's official price API (needs the internet)."""
    from terraml.catalog import DATA_DIR
    from terraml.cloud import environment
    from terraml.cost.prices import refresh as run

    environment(cloud)
    folder = Path(data_dir) if data_dir else DATA_DIR
    if not (folder / "vm_prices.csv").is_file():
        raise UserError(f"--data-dir: {folder} has no vm_prices.csv; point it at a copy of the price files "
                        f"(e.g. {DATA_DIR}).")
    changed = run(cloud, folder)
    out.print(f"updated {changed} {cloud} price rows in {folder / 'vm_prices.csv'}")
