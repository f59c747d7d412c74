"""`terraml init` and `terraml team add|list|remove`: start a platform repository and grow it.

Every edit of platform.yaml is a comment-preserving round trip (terraml/spec/edit.py), checked with the
same loader every command uses before anything is written, and written atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import string
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from terraml.cli.app import SpecOpt, app, err, out
from terraml.errors import UserError

team_app = typer.Typer(help="Add, list and remove the platform's teams (edits platform.yaml).",
                       no_args_is_help=True)
app.add_typer(team_app, name="team")

DEFAULT_REGIONS = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
FIRST_CIDR = "10.10.0.0/16"
NAME_RE = r"[a-z][a-z0-9-]{0,20}[a-z0-9]"  # terraml.spec.base.Name

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking (required when stdin is not a "
                                                          "terminal).")]


def _current_kubernetes() -> str:
    """A new platform starts on the newest Kubernetes version in EKS standard support today (the spec's
    own default is older and costs the extended-support fee on EKS)."""
    from terraml.catalog import load_catalog
    from terraml.spec.models import Defaults

    newest = load_catalog().eks_newest_standard(dt.date.today())
    return newest.version if newest else Defaults().kubernetes_version


def _template(name: str) -> string.Template:
    return string.Template(resources.files("terraml").joinpath("templates", name).read_text(encoding="utf-8"))


def _check_name(value: str, option: str) -> str:
    if not re.fullmatch(NAME_RE, value):
        raise UserError(f"{option}: '{value}' is not a valid name; use 2-22 lowercase letters, digits or '-', "
                        "starting with a letter (it is part of every cloud resource name).")
    return value


def app_command(folder: Path) -> str:
    """The `app` of the generated cdktf.json: the Python that runs terraml now (it has terraml and cdktn),
    relative when it lives inside the new repository (a .venv there), so the repository can move."""
    python = Path(sys.executable) if sys.executable else None
    if python is None:
        return "python3 -m terraml.stacks.main"
    absolute = python if python.is_absolute() else Path.cwd() / python
    try:
        shown = str(absolute.relative_to(folder.absolute()))
    except ValueError:
        shown = str(absolute)
    return f"{shlex.quote(shown)} -m terraml.stacks.main"


# ---------------------------------------------------------------- init
@app.command()
def init(folder: Annotated[str, typer.Argument(help="The new platform repository (created if missing).")] = ".",
         org: Annotated[str | None, typer.Option(help="The organisation's name (default: the folder's).")] = None,
         team: Annotated[str, typer.Option(help="The first team.")] = "ml",
         cloud: Annotated[str, typer.Option(help="The first team's cloud: aws, gcp or azure.")] = "aws",
         region: Annotated[str | None, typer.Option(help="The first team's region (default: the cloud's usual "
                                                         "first).")] = None,
         force: Annotated[bool, typer.Option("--force", help="Also in a folder that is not empty (an existing file "
                                                             "is never overwritten).")] = False):
    """Create a platform repository: platform.yaml (commented), cdktf.json, .gitignore and a README."""
    from terraml.cloud import environment
    from terraml.fsutil import write_text_atomic
    from terraml.spec.edit import check_text

    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UserError(f"{folder} is a file; give a folder for the new platform repository.")
    if target.is_dir() and any(target.iterdir()) and not force:
        present = sorted(p.name for p in target.iterdir())
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise UserError(f"{folder} is not empty ({shown}); terraml init makes a new repository. Give a new or empty "
                        "folder, or --force to add terraml's files next to yours (none is ever overwritten).")
    org = _check_name(org if org is not None else target.absolute().resolve().name.lower(),
                      "--org" if org is not None else f"--org (default: the folder name of {folder})")
    _check_name(team, "--team")
    chosen = environment(cloud)
    region = region or DEFAULT_REGIONS.get(chosen.NAME, "")
    values = {"org": org, "team": team, "cloud": chosen.NAME, "region": region, "cidr": FIRST_CIDR,
              "project": _gcp_project(org, team), "subscription": PLACEHOLDER_SUBSCRIPTION,
              "python": app_command(target), "kubernetes_version": _current_kubernetes()}
    cloud_block = _template(f"clouds/{chosen.NAME}.yaml").substitute(values).rstrip("\n")
    state = {"aws": f"aws: {{bucket: {org}-terraform-state, region: {region}, lock_table: {org}-terraform-locks}}",
             "gcp": f"gcp: {{bucket: {org}-terraform-state}}",
             "azure": f"azure: {{resource_group: tfstate, storage_account: {re.sub('[^a-z0-9]', '', org)[:17]}tfstate, "
                      "container: tfstate}"}[chosen.NAME]
    files = {
        "platform.yaml": _template("platform.yaml").substitute(values, state=state, cloud_block=cloud_block),
        "cdktf.json": json.dumps({"language": "python", "app": values["python"], "projectId": f"terraml-{org}",
                                  "sendCrashReports": "false", "terraformProviders": [], "terraformModules": [],
                                  "codeMakerOutput": "imports", "context": {}}, indent=2) + "\n",
        ".gitignore": _template("gitignore").template,
        "README.md": _template("README.md").substitute(values),
    }
    existing = [name for name in files if (target / name).exists()]
    if existing:
        raise UserError(f"{target / existing[0]} already exists; terraml init never overwrites a file. Move it away "
                        f"or run init in another folder ({', '.join(existing)} exist).")
    check_text(files["platform.yaml"], target / "platform.yaml")  # the skeleton is valid as written
    for name, text in files.items():
        write_text_atomic(target / name, text)
    out.print(f"[green]✓[/green] created {target}: {', '.join(files)}", highlight=False)
    here = "" if target.resolve() == Path.cwd().resolve() else f"cd {shlex.quote(folder)}\n  "
    out.print(f"Next: fill in the lines marked FILL IN in platform.yaml, then\n  {here}terraml validate\n"
              f"  terraml team add vision --cloud aws --gpu L4:0-4:spot --budget 5000\n  npx cdktn synth\n"
              f"cdktf.json runs {values['python']}", highlight=False)


def _gcp_project(org: str, team: str) -> str:
    project = f"{org}-{team}-ml"[:30].rstrip("-")
    return project if len(project) >= 6 else f"{project}-project"


# ---------------------------------------------------------------- team add
@team_app.command("add")
def team_add(name: Annotated[str, typer.Argument(help="The new team's name.")],
             cloud: Annotated[str | None, typer.Option(help="aws, gcp or azure (with --from: keep only this "
                                                             "cloud of the copied team).")] = None,
             region: Annotated[str | None, typer.Option(help="Region (Azure: location); default: another team's "
                                                             "on the same cloud.")] = None,
             gpu: Annotated[str | None, typer.Option(help="A GPU pool: ACCELERATOR:MIN-MAX:MODE, e.g. "
                                                          "L4:0-4:spot (mode: spot, on-demand, auto).")] = None,
             budget: Annotated[float | None, typer.Option(min=0.01, help="Monthly budget in USD.")] = None,
             max_gpus: Annotated[int | None, typer.Option("--max-gpus", min=0, help="GPU quota of the team, "
                                                                                   "per cloud.")] = None,
             from_team: Annotated[str | None, typer.Option("--from", help="Copy this team's settings.")] = None,
             owner: Annotated[list[str] | None, typer.Option(help="An owner's e-mail (repeat for more); default: "
                                                                  "the first team's owners.")] = None,
             cost_center: Annotated[str | None, typer.Option(help="Default: the first team's.")] = None,
             project: Annotated[str | None, typer.Option(help="gcp: the team's project id.")] = None,
             subscription: Annotated[str | None, typer.Option(help="azure: the subscription id (default: another "
                                                                   "Azure team's).")] = None,
             spec: SpecOpt = None, yes: YesOpt = False):
    """Add a team to platform.yaml: shows its stacks and monthly cost first, then synthesizes them."""
    from terraml.spec.edit import SpecDocument, check_text, copy_team, used_networks
    from terraml.spec.loader import resolve_spec_path
    from terraml.synth import synth

    path = resolve_spec_path(spec)
    document = SpecDocument.read(path)
    _check_name(name, "NAME")
    found = document.team_index(name)
    if found is not None:
        raise UserError(f"team '{name}' already exists in {path} (teams[{found}]); pick another name, or edit that "
                        "team in platform.yaml.")
    if from_team is not None:
        index = document.team_index(from_team)
        if index is None:
            names = document.team_names()
            from terraml.suggest import did_you_mean

            raise UserError(f"--from: no team '{from_team}' in {path}{did_you_mean(from_team, names)} Teams: "
                            f"{', '.join(names)}.")
        block = copy_team(document.teams[index], name)
        _narrow(block, cloud, from_team)
    else:
        if cloud is None:
            raise UserError("--cloud: missing; say where the team runs: --cloud aws, gcp or azure "
                            "(or copy a team with --from TEAM).")
        block = _new_team(document, name, cloud, region, project, subscription)
    _apply(block, document, region=region, gpu=gpu, budget=budget, max_gpus=max_gpus, owner=owner,
           cost_center=cost_center, used=used_networks(document.doc))
    document.add_team(block)
    text = document.text()
    loaded = check_text(text, path)

    from terraml.inventory import planned_stacks

    planned = planned_stacks(loaded.platform, team=name)
    low, high, unpriced = _cost_of(loaded.platform, name)
    for p in planned:
        out.print(f"  {p.name}: " + (f"skipped ({p.skipped})" if p.skipped else "new stack"), highlight=False)
    out.print(f"monthly cost of team '{name}': +${low:,.2f} to +${high:,.2f} (min: pools at min_nodes; max: every "
              f"pool at max_nodes)" + (f"; {unpriced} resource(s) unpriced, see `terraml cost report`"
                                       if unpriced else ""), highlight=False)
    for w in loaded.warnings:
        err.print(f"[yellow]warning[/yellow] {w}", highlight=False, soft_wrap=True)
    confirm(f"Add team '{name}' to {path}?", yes)
    _write(path, document, text)
    out.print(f"[green]✓[/green] added team '{name}' to {path}", highlight=False)
    result = synth(loaded.platform, "cdktf.out", team=name)  # where `terraml synth` and `npx cdktn synth` write
    for stack in result.written:
        out.print(f"[green]✓[/green] {stack} → cdktf.out/stacks/{stack}/cdk.tf.json", highlight=False)
    if result.written:
        out.print(f"Deploy with: npx cdktn deploy {result.written[0]}", highlight=False)


def _new_team(document, name: str, cloud: str, region: str | None, project: str | None,
              subscription: str | None):
    from terraml.cloud import environment
    from terraml.spec.edit import team_block

    chosen = environment(cloud)
    first = document.teams[0] if len(document.teams) else {}
    fields: dict = {}
    if chosen.NAME == "gcp":
        if project is None:
            raise UserError(f"--project: missing; a gcp team needs its GCP project id, e.g. --project "
                            f"{_gcp_project(str(document.doc.get('org', 'org')), name)}.")
        fields["project"] = project
    if chosen.NAME == "azure":
        subscription = subscription or _other(document, "azure", "subscription_id")
        if subscription is None:
            raise UserError("--subscription: missing; an azure team needs the id of its Azure subscription "
                            "(az account show --query id).")
        fields["subscription_id"] = subscription
    fields[chosen.REGION_FIELD] = region or _other(document, chosen.NAME, chosen.REGION_FIELD) or _state_region(
        document, chosen.NAME) or DEFAULT_REGIONS[chosen.NAME]
    return team_block(name, cost_center=str(first.get("cost_center", "CC-0000")),
                      owners=[str(o) for o in first.get("owners") or ["ml-leads@example.com"]],
                      cloud=chosen.NAME, cloud_fields=fields, cidr=_placeholder_cidr(), pools=[], budget_usd=None,
                      max_gpus=None)


def _placeholder_cidr():
    from ipaddress import ip_network

    return ip_network("10.0.0.0/16")  # replaced by _apply with a free range


def _other(document, cloud: str, field: str) -> str | None:
    for team in document.teams:
        block = ((team or {}).get("clouds") or {}).get(cloud) if isinstance(team, dict) else None
        if isinstance(block, dict) and block.get(field):
            return str(block[field])
    return None


def _state_region(document, cloud: str) -> str | None:
    state = ((document.doc.get("defaults") or {}).get("state") or {}).get(cloud)
    return str(state["region"]) if isinstance(state, dict) and state.get("region") else None


def _narrow(block, cloud: str | None, source: str) -> None:
    clouds = block.get("clouds") or {}
    if cloud is None:
        return
    if cloud not in clouds:
        raise UserError(f"--cloud: team '{source}' has no {cloud} block (it uses {', '.join(clouds) or 'none'}); "
                        f"drop --cloud to copy all of its clouds, or pick one of them.")
    for other in [c for c in clouds if c != cloud]:
        del clouds[other]


def _apply(block, document, *, region, gpu, budget, max_gpus, owner, cost_center, used) -> None:
    """The flags, over a new or copied team; every cloud of it gets a network of its own."""
    from terraml.catalog import load_catalog
    from terraml.cloud import get
    from terraml.spec.edit import flow, flow_list, free_cidr, parse_gpu, pool_block

    taken = list(used)
    for name, cloud_block in block["clouds"].items():
        cloud = get(name)
        if region is not None:
            cloud_block[cloud.REGION_FIELD] = region
        cidr = free_cidr(taken)
        taken.append(cidr)
        network = cloud_block.get("network")
        if isinstance(network, dict):
            network["cidr"] = str(cidr)
        else:
            cloud_block["network"] = flow(cidr=str(cidr))
        if gpu is not None:
            where = str(cloud_block.get(cloud.REGION_FIELD))
            ask = parse_gpu(gpu, load_catalog().accelerators(name, where), f"{name} {where}")
            from ruamel.yaml.comments import CommentedSeq

            cloud_block["gpu_pools"] = CommentedSeq([pool_block(ask)])
    if budget is not None:
        from terraml.spec.edit import _number

        if isinstance(block.get("budget"), dict):
            block["budget"]["monthly_usd"] = _number(budget)
        else:
            block.insert(_after(block, "owners"), "budget", flow(monthly_usd=_number(budget)))
    if max_gpus is not None:
        if isinstance(block.get("quotas"), dict):
            block["quotas"]["max_gpus"] = max_gpus
        else:
            block.insert(_after(block, "budget", "owners"), "quotas", flow(max_gpus=max_gpus))
    if owner:
        block["owners"] = flow_list(list(owner))
    if cost_center is not None:
        block["cost_center"] = cost_center


def _after(block, *keys: str) -> int:
    order = list(block)
    for key in keys:
        if key in order:
            return order.index(key) + 1
    return len(order)


def _cost_of(platform, team: str) -> tuple[float, float, int]:
    """The team's stacks priced by the same estimate as `terraml cost report`, from a synth in a temporary
    folder (cdktf.out is only touched once the user has said yes)."""
    from terraml.catalog import load_catalog
    from terraml.cost.estimate import estimate
    from terraml.cost.tfjson import read_stacks
    from terraml.synth import synth

    with tempfile.TemporaryDirectory(prefix="terraml-team-") as scratch:
        result = synth(platform, Path(scratch) / "cdktf.out", team=team)
        if not result.written:
            return 0.0, 0.0, 0
        est = estimate(read_stacks(result.outdir), load_catalog())
    low, high = est.total(team=team)
    return float(low), float(high), len(est.unpriced(team))


def confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(f"{question} needs an answer, and stdin is not a terminal; re-run with --yes to go ahead.")
    if not typer.confirm(question, default=False):
        out.print("nothing changed")
        raise typer.Exit(1)


def _write(path: Path, document, text: str) -> None:
    from terraml.fsutil import write_text_atomic

    if path.read_text(encoding="utf-8") != document.original:
        raise UserError(f"{path} changed while terraml was editing it; nothing was written. Run the command again.")
    write_text_atomic(path, text, mode=path.stat().st_mode & 0o777)


# ---------------------------------------------------------------- team list / remove
@team_app.command("list")
def team_list(spec: SpecOpt = None):
    """The teams with their clouds, regions, networks, budgets and GPU quotas."""
    from terraml.cli.app import load_spec
    from terraml.cloud import get

    loaded = load_spec(None, spec)
    table = Table("team", "cloud", "region", "network", "budget $/month", "max GPUs", "owners")
    for t in loaded.platform.teams:
        for i, (name, block) in enumerate(t.clouds.items()):
            first = i == 0
            table.add_row(t.name if first else "", name, str(getattr(block, get(name).REGION_FIELD)),
                          str(block.network.cidr),
                          (f"{t.budget.monthly_usd:,.0f}" if t.budget else "none") if first else "",
                          (str(t.quotas.max_gpus) if t.quotas.max_gpus is not None else "no limit") if first else "",
                          ", ".join(t.owners) if first else "")
    out.print(table)


@team_app.command("remove")
def team_remove(name: Annotated[str, typer.Argument(help="The team to take out of platform.yaml.")],
                spec: SpecOpt = None, yes: YesOpt = False):
    """Take a team out of platform.yaml and print the commands that destroy its stacks (destroys nothing)."""
    from terraml.inventory import planned_stacks
    from terraml.spec.edit import SpecDocument, check_text
    from terraml.spec.loader import resolve_spec_path
    from terraml.synth import synth

    path = resolve_spec_path(spec)
    document = SpecDocument.read(path)
    old = check_text(document.original, path)
    if old.platform.team(name) is not None and len(old.platform.teams) == 1:
        raise UserError(f"team '{name}' is the only team in {path}; a platform needs at least one. Add another "
                        "team first (terraml team add), or delete the repository.")
    document.remove_team(name)
    text = document.text()
    check_text(text, path)
    stacks = [p.name for p in planned_stacks(old.platform, team=name) if not p.skipped]
    confirm(f"Remove team '{name}' from {path}?", yes)
    outdir = Path("cdktf.out")  # where `terraml synth` and `npx cdktn synth` write
    if stacks:  # destroy needs the stack's Terraform; once the team is out of the spec, only cdktf.out has it
        synth(old.platform, outdir, team=name)
    _write(path, document, text)
    out.print(f"[green]✓[/green] removed team '{name}' from {path}; nothing was destroyed.", highlight=False)
    if stacks:
        out.print(f"Its cloud resources still exist. {outdir}/stacks holds their last synthesis; destroy them before "
                  "the next synth (which drops those stacks) with:", highlight=False)
        for stack in stacks:
            out.print(f"  npx cdktn destroy {stack} --skip-synth", highlight=False)
