"""`terraml train`, `terraml jobs ...`, `terraml deploy`, `terraml invoke`, `terraml endpoints ...`:
jobs and endpoints on any backend, through the one backend interface (terraml.backend)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from terraml.cli.app import CloudOpt, HomeOpt, SpecOpt, TrackingOpt, app, backend_for, err, out, resolve_home
from terraml.errors import UserError

TeamOpt = Annotated[str | None, typer.Option(help="Act for this team (when names repeat across teams).")]
OnInterrupt = Annotated[str, typer.Option("--on-interrupt", help="What Ctrl-C does while following a job: detach "
                                                                 "(the job keeps running) or cancel it.")]
INTERRUPT_CHOICES = ("detach", "cancel")

jobs_app = typer.Typer(help="List, inspect, follow and cancel jobs.", no_args_is_help=True)
endpoints_app = typer.Typer(help="Model endpoints.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(endpoints_app, name="endpoints")


def show_plan(plan) -> None:
    d, job = plan.decision, plan.job
    table = Table("", "", show_header=False, box=None)
    table.add_row("job", f"{job.job.name} (team {job.job.team})")
    table.add_row("capacity", f"[bold]{d.capacity}[/bold]: {d.reason}")
    table.add_row("then", d.then)
    table.add_row("checkpoints", f"every {job.spot.checkpoint_every_minutes} min to $TERRAML_CHECKPOINT_DIR"
                  if d.checkpointing else "not needed")
    for note in plan.notes:
        table.add_row("note", note)
    if plan.estimate is not None:
        table.add_row("cost", f"expected ${plan.estimate.expected_usd:,.2f}, worst case "
                              f"${plan.estimate.worst_usd:,.2f}")
        table.add_row("", plan.estimate.explain)
    out.print(table)


def check_on_interrupt(value: str) -> None:
    if value not in INTERRUPT_CHOICES:
        raise UserError(f"--on-interrupt: '{value}' is not allowed; allowed: {', '.join(INTERRUPT_CHOICES)}.")


def follow(backend, handle, on_interrupt: str = "detach"):
    """Stream the job's log and show its state until it ends (the backend's own poll loop); returns
    the final status. Ctrl-C detaches (the job keeps running) or cancels, as asked, says which, and
    exits 130."""
    check_on_interrupt(on_interrupt)
    printed = 0
    started = time.monotonic()
    try:
        with out.status("starting") as spinner:
            def progress(status) -> None:
                nonlocal printed
                lines = list(backend.logs(handle))
                for line in lines[printed:]:
                    out.print(line, highlight=False, markup=False)
                printed = len(lines)
                spinner.update(f"{status.state.value} · {status.capacity or '?'} capacity · "
                               f"{status.interruptions} interruption(s) · {time.monotonic() - started:.0f}s")

            return backend.wait(handle, on_poll=progress)
    except KeyboardInterrupt:
        if on_interrupt == "cancel":
            backend.cancel(handle)
            out.print(f"interrupted: cancel requested for {handle.name}", highlight=False)
        else:
            out.print(f"interrupted: detached; {handle.name} keeps running. Follow it again with: terraml jobs "
                      f"logs {handle.name} -f --cloud {backend.NAME}", highlight=False)
        raise typer.Exit(130) from None


def remember_cost(backend, handle, status, home: str | None) -> None:
    """Cloud jobs' billed cost goes into the terraml home once they end, for `terraml cost report`."""
    if backend.NAME != "local" and status.state.terminal:
        from terraml.cost.ledger import record_cloud_job

        record_cloud_job(resolve_home(home), backend.NAME, handle.name, handle.team, status)


def cost_line(status) -> str:
    parts = []
    if status.cost_usd is not None:
        parts.append(f"cost ${status.cost_usd:.2f}")
    if status.billable_seconds is not None:
        parts.append(f"{status.billable_seconds:.1f} s billable of {status.training_seconds or 0:.1f} s")
    if status.savings_percent is not None:
        parts.append(f"spot savings {status.savings_percent:.1f}%")
    parts.append(f"{status.interruptions} interruption(s), final capacity {status.capacity}")
    return "; ".join(parts)


@app.command()
def train(job_file: Annotated[str, typer.Argument(help="The job file (job.yaml).")], cloud: CloudOpt = "local",
          team: Annotated[str | None, typer.Option(help="Run for this team instead of the job's.")] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show the request; submit "
                                                                   "nothing.")] = False,
          simulate_interruptions: Annotated[int, typer.Option(
              "--simulate-interruptions", min=0, help="local: reclaim spot capacity this many times.")] = 0,
          detach: Annotated[bool, typer.Option("--detach", help="Return once submitted.")] = False,
          on_interrupt: OnInterrupt = "detach",
          spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Submit a training job (returns at once with --detach; otherwise follows it to the end).

    Exits 0 when the job completes, 1 when it fails or is stopped, 2 on bad input, 130 on Ctrl-C."""
    from terraml.cloud import Feature
    from terraml.spec.job_loader import load_job

    check_on_interrupt(on_interrupt)
    backend, resolved = backend_for(cloud, spec, home, tracking_uri, need_spec=True)
    if simulate_interruptions:
        backend.require(Feature.SIMULATED_INTERRUPTIONS)
    job = load_job(job_file, resolved.platform, cloud, team)
    plan = backend.plan(job)
    show_plan(plan)
    if dry_run:
        if plan.request is not None:
            out.print_json(json.dumps(plan.request, default=str))
        out.print("dry run: nothing submitted")
        return
    handle = backend.submit(plan, simulate_interruptions=simulate_interruptions)
    if handle.existing:
        out.print(f"job '{handle.name}' already exists on {cloud}; nothing new was submitted "
                  f"(give the job another name to run it again).")
    else:
        out.print(f"submitted {handle.name} to {cloud}")
    if detach:
        return
    status = follow(backend, handle, on_interrupt)
    out.print(f"[bold]{handle.name}: {status.state.value}[/bold] {status.message}", highlight=False)
    out.print(cost_line(status), highlight=False)
    remember_cost(backend, handle, status, home)
    if status.state.value != "completed":
        raise typer.Exit(1)


@jobs_app.command("list")
def jobs_list(cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None, home: HomeOpt = None,
              tracking_uri: TrackingOpt = None):
    """Jobs on a backend with their state."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    table = Table("job", "team", "state", "capacity", "interruptions", "model version")
    listing = backend.list_jobs()
    for handle, status in listing:
        table.add_row(handle.name, handle.team, status.state.value, status.capacity or "",
                      str(status.interruptions), status.model_version or "")
    out.print(table)
    for problem in listing.skipped:
        err.print(f"[yellow]warning[/yellow] {problem}", highlight=False, soft_wrap=True)


@jobs_app.command("status")
def jobs_status(name: str, cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None,
                home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """One job's state, capacity and cost."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    handle = backend.handle(name)
    status = backend.status(handle)
    out.print(f"{name}: {status.state.value} {status.message}", highlight=False)
    out.print(cost_line(status), highlight=False)
    remember_cost(backend, handle, status, home)


@jobs_app.command("logs")
def jobs_logs(name: str, cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None,
              home: HomeOpt = None, tracking_uri: TrackingOpt = None,
              follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming.")] = False,
              on_interrupt: OnInterrupt = "detach"):
    """A job's log."""
    check_on_interrupt(on_interrupt)
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    handle = backend.handle(name)
    if follow_:
        follow(backend, handle, on_interrupt)
        return
    for line in backend.logs(handle):
        out.print(line, highlight=False, markup=False)


@jobs_app.command("cancel")
def jobs_cancel(name: str, cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None,
                home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Stop a running job."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    backend.cancel(backend.handle(name))
    out.print(f"cancel requested for {name}")


@app.command()
def deploy(model: Annotated[str, typer.Argument(help="Registered model name.")],
           version: Annotated[str, typer.Option(help="Model version to deploy.")],
           endpoint: Annotated[str, typer.Option(help="Endpoint name (from the spec's endpoints on a cloud).")],
           cloud: CloudOpt = "local",
           canary: Annotated[int | None, typer.Option(min=1, max=99, help="Send this % of traffic to the new "
                                                                          "version first.")] = None,
           team: TeamOpt = None, spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Serve a registered model version on an endpoint."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    with out.status(f"deploying {model} v{version} to {endpoint}"):
        result = backend.deploy(model, version, endpoint, canary)
    out.print(f"[green]✓[/green] {result.message}", highlight=False)


@app.command()
def invoke(endpoint: Annotated[str, typer.Argument(help="Endpoint name.")],
           data: Annotated[str, typer.Option(help="JSON request body, or @file.json.")],
           cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None, home: HomeOpt = None,
           tracking_uri: TrackingOpt = None):
    """Send one request to an endpoint and print the predictions."""
    text = read_data(data)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--data: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                        'send e.g. {"inputs": [[0, 1, ...]]}.') from None
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    out.print_json(json.dumps(backend.invoke(endpoint, payload)))


def read_data(data: str) -> str:
    """--data: the JSON itself, or @file."""
    if not data.startswith("@"):
        return data
    path = Path(data[1:])
    if not path.is_file():
        raise UserError(f"--data: {path} is not a file; pass @path/to/request.json or the JSON itself.")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"--data: {path} is not UTF-8 text; save the request as JSON.") from None


@endpoints_app.command("list")
def endpoints_list(cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None, home: HomeOpt = None,
                   tracking_uri: TrackingOpt = None):
    """Endpoints on a backend with their state and model."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    table = Table("endpoint", "team", "state", "model", "version", "url")
    for e in backend.list_endpoints():
        table.add_row(e.endpoint, e.team or "", e.state, e.model or "", e.version or "", e.url or "")
    out.print(table)


@endpoints_app.command("stop")
def endpoints_stop(endpoint: str, cloud: CloudOpt = "local", team: TeamOpt = None, spec: SpecOpt = None,
                   home: HomeOpt = None):
    """Stop serving on an endpoint."""
    backend, _ = backend_for(cloud, spec, home, None, team=team)
    if not backend.undeploy(endpoint):
        raise UserError(f"no running endpoint '{endpoint}' on {cloud}.")
    out.print(f"stopped {endpoint}")
