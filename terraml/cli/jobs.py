"""`terraml train`, `terraml jobs ...`, `terraml deploy`, `terraml invoke`: jobs on any backend."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from terraml.errors import UserError

HOME_ENV = "TERRAML_HOME"

CloudOpt = Annotated[str, typer.Option("--cloud", help="Backend: local or aws.")]
SpecOpt = Annotated[str | None, typer.Option("--spec", help="The platform spec (default: $TERRAML_SPEC, "
                                                            "./platform.yaml).")]
HomeOpt = Annotated[str | None, typer.Option("--home", help=f"Local state folder (default: ${HOME_ENV}, .terraml).")]
TrackingOpt = Annotated[str | None, typer.Option("--tracking-uri", help="MLflow tracking URI (default: "
                                                                        "$MLFLOW_TRACKING_URI, sqlite in --home).")]

jobs_app = typer.Typer(help="List, inspect, follow and cancel jobs.", no_args_is_help=True)
endpoints_app = typer.Typer(help="Model endpoints.", no_args_is_help=True)


def resolve_home(home: str | None) -> Path:
    """--home, else $TERRAML_HOME, else ./.terraml."""
    return Path(home or os.environ.get(HOME_ENV) or ".terraml")


def settings(cloud: str, spec: str | None, home: str | None, tracking_uri: str | None, need_spec: bool):
    """Resolve configuration once: flag > environment > spec file > default."""
    from terraml.backend import Settings
    from terraml.catalog import load_catalog

    platform = None
    if need_spec or cloud != "local":
        from terraml.cli import _load

        platform = _load(None, spec).platform
    return Settings(home=resolve_home(home),
                    tracking_uri=tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None,
                    platform=platform, catalog=load_catalog())


def backend_for(cloud: str, spec=None, home=None, tracking_uri=None, need_spec=False):
    """The backend and the settings it was built from (which hold the loaded platform, if any)."""
    from terraml.providers.registry import create_backend

    resolved = settings(cloud, spec, home, tracking_uri, need_spec)
    return create_backend(cloud, resolved), resolved


def show_plan(out, job, plan: dict) -> None:
    d = plan["decision"]
    table = Table("", "", show_header=False, box=None)
    table.add_row("job", f"{job.job.name} (team {job.job.team})")
    table.add_row("capacity", f"[bold]{d.capacity}[/bold]: {d.reason}")
    table.add_row("then", d.then)
    table.add_row("checkpoints", f"every {job.spot.checkpoint_every_minutes} min to $TERRAML_CHECKPOINT_DIR"
                  if d.checkpointing else "not needed")
    for note in plan.get("notes", []):
        table.add_row("note", note)
    estimate = plan.get("estimate")
    if estimate is not None:
        table.add_row("cost", f"expected ${estimate.expected_usd:,.2f}, worst case ${estimate.worst_usd:,.2f}")
        table.add_row("", estimate.explain)
    out.print(table)


def follow(out, backend, handle, poll_s: float = 0.5):
    """Stream the job's log and show its state until it ends; returns the final status."""
    printed = 0
    started = time.monotonic()
    with out.status("starting") as spinner:
        while True:
            status = backend.status(handle)
            lines = list(backend.logs(handle))
            for line in lines[printed:]:
                out.print(line, highlight=False, markup=False)
            printed = len(lines)
            spinner.update(f"{status.state.value} · {status.capacity or '?'} capacity · "
                           f"{status.interruptions} interruption(s) · {time.monotonic() - started:.0f}s")
            if status.state.terminal:
                return status
            time.sleep(poll_s)


def remember_cost(backend, handle, status, home: str | None) -> None:
    """Cloud jobs' billed cost goes into the terraml home once they end, for `terraml cost report`."""
    if backend.NAME != "local" and status.state.terminal:
        from terraml.cost.ledger import record_cloud_job

        record_cloud_job(resolve_home(home), backend.NAME, handle.name,
                         handle.team, status)


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


def register(app: typer.Typer, out, err) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(endpoints_app, name="endpoints")

    @app.command()
    def train(job_file: Annotated[str, typer.Argument(help="The job file (job.yaml).")], cloud: CloudOpt = "local",
              team: Annotated[str | None, typer.Option(help="Run for this team instead of the job's.")] = None,
              dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show the request; submit "
                                                                       "nothing.")] = False,
              simulate_interruptions: Annotated[int, typer.Option(
                  "--simulate-interruptions", min=0, help="local: reclaim spot capacity this many times.")] = 0,
              detach: Annotated[bool, typer.Option("--detach", help="Return once submitted.")] = False,
              spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
        """Submit a training job (returns at once with --detach; otherwise follows it to the end)."""
        from terraml.spec.job_loader import load_job

        backend, resolved = backend_for(cloud, spec, home, tracking_uri, need_spec=True)
        job = load_job(job_file, resolved.platform, cloud, team)
        plan = backend.plan(job)
        show_plan(out, job, plan)
        if dry_run:
            if "request" in plan:
                out.print_json(json.dumps(plan["request"], default=str))
            out.print("dry run: nothing submitted")
            return
        handle = backend.submit(job, simulate_interruptions=simulate_interruptions)
        if handle.existing:
            out.print(f"job '{handle.name}' already exists on {cloud}; nothing new was submitted "
                      f"(give the job another name to run it again).")
        else:
            out.print(f"submitted {handle.name} to {cloud}")
        if detach:
            return
        status = follow(out, backend, handle)
        out.print(f"[bold]{handle.name}: {status.state.value}[/bold] {status.message}", highlight=False)
        out.print(cost_line(status), highlight=False)
        remember_cost(backend, handle, status, home)
        if status.state.value != "completed":
            raise typer.Exit(1)

    @jobs_app.command("list")
    def jobs_list(cloud: CloudOpt = "local", spec: SpecOpt = None, home: HomeOpt = None,
                  tracking_uri: TrackingOpt = None):
        """Jobs on a backend with their state."""
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        table = Table("job", "team", "state", "capacity", "interruptions", "model version")
        for handle, status in backend.list_jobs():
            table.add_row(handle.name, handle.team, status.state.value, status.capacity or "",
                          str(status.interruptions), status.model_version or "")
        out.print(table)

    @jobs_app.command("status")
    def jobs_status(name: str, cloud: CloudOpt = "local", spec: SpecOpt = None, home: HomeOpt = None,
                    tracking_uri: TrackingOpt = None):
        """One job's state, capacity and cost."""
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        handle = backend.handle(name)
        status = backend.status(handle)
        out.print(f"{name}: {status.state.value} {status.message}", highlight=False)
        out.print(cost_line(status), highlight=False)
        remember_cost(backend, handle, status, home)

    @jobs_app.command("logs")
    def jobs_logs(name: str, cloud: CloudOpt = "local", spec: SpecOpt = None, home: HomeOpt = None,
                  tracking_uri: TrackingOpt = None,
                  follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming.")] = False):
        """A job's log."""
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        handle = backend.handle(name)
        if follow_:
            follow(out, backend, handle)
            return
        for line in backend.logs(handle):
            out.print(line, highlight=False, markup=False)

    @jobs_app.command("cancel")
    def jobs_cancel(name: str, cloud: CloudOpt = "local", spec: SpecOpt = None, home: HomeOpt = None,
                    tracking_uri: TrackingOpt = None):
        """Stop a running job."""
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        backend.cancel(backend.handle(name))
        out.print(f"cancel requested for {name}")

    @app.command()
    def deploy(model: Annotated[str, typer.Argument(help="Registered model name.")],
               version: Annotated[str, typer.Option(help="Model version to deploy.")],
               endpoint: Annotated[str, typer.Option(help="Endpoint name (from the spec's endpoints on a cloud).")],
               cloud: CloudOpt = "local",
               canary: Annotated[int | None, typer.Option(min=1, max=99, help="Send this % of traffic to the new "
                                                                              "version first.")] = None,
               team: Annotated[str | None, typer.Option(help="Team that owns the endpoint (cloud backends).")] = None,
               spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
        """Serve a registered model version on an endpoint."""
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        if team is not None and hasattr(backend, "use_team"):
            backend.use_team(team)
        with out.status(f"deploying {model} v{version} to {endpoint}"):
            result = backend.deploy(model, version, endpoint, canary)
        out.print(f"[green]✓[/green] {result.message}", highlight=False)

    @app.command()
    def invoke(endpoint: Annotated[str, typer.Argument(help="Endpoint name.")],
               data: Annotated[str, typer.Option(help="JSON request body, or @file.json.")],
               cloud: CloudOpt = "local", spec: SpecOpt = None, home: HomeOpt = None,
               tracking_uri: TrackingOpt = None):
        """Send one request to an endpoint and print the predictions."""
        text = Path(data[1:]).read_text() if data.startswith("@") else data
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"--data: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                            'send e.g. {"inputs": [[0, 1, ...]]}.') from None
        backend, _ = backend_for(cloud, spec, home, tracking_uri)
        out.print_json(json.dumps(backend.invoke(endpoint, payload)))

    @endpoints_app.command("stop")
    def endpoints_stop(endpoint: str, cloud: CloudOpt = "local", home: HomeOpt = None):
        """Stop a local endpoint's server."""
        backend, _ = backend_for(cloud, None, home, None)
        if not backend.stop_endpoint(endpoint):
            raise UserError(f"no running endpoint '{endpoint}' on {cloud}.")
        out.print(f"stopped {endpoint}")
