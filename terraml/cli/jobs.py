"""`terraml train`, `terraml jobs ...`, `terraml deploy`, `terraml invoke`, `terraml endpoints ...`:
jobs and endpoints on any backend, through the one backend interface (terraml.backend)."""

from __future__ import annotations

import datetime as dt
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
          accelerator: Annotated[str | None, typer.Option(
              "--accelerator", help="Run on this accelerator instead of the job file's (replaces its "
                                    "resources.accelerator, instance_type or machine_type), e.g. L4.")] = None,
          over_budget: Annotated[str | None, typer.Option(
              "--over-budget", metavar="REASON", help="Submit even though the team's monthly budget would be "
                                                      "exceeded; who and why are recorded with the job.")] = None,
          spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Submit a training job (returns at once with --detach; otherwise follows it to the end).

    Before submitting, the team's GPU quota (queued and running jobs + this one) and monthly budget
    (month-to-date spend + this job's worst case) are checked; a job past either is refused (exit 2).

    Exits 0 when the job completes, 1 when it fails or is stopped, 2 on bad input or a refusal, 130 on Ctrl-C."""
    from terraml.cloud import Feature
    from terraml.spec.job_loader import load_job

    check_on_interrupt(on_interrupt)
    if over_budget is not None and not over_budget.strip():
        raise UserError('--over-budget: give the reason, e.g. --over-budget "release deadline, approved by finance '
                        '(TICKET-123)"; it is recorded with the job.')
    backend, resolved = backend_for(cloud, spec, home, tracking_uri, need_spec=True)
    if simulate_interruptions:
        backend.require(Feature.SIMULATED_INTERRUPTIONS)
    job = load_job(job_file, resolved.platform, cloud, team, accelerator=accelerator)
    plan = backend.plan(job)
    show_plan(plan)
    if dry_run:
        if plan.request is not None:
            out.print_json(json.dumps(plan.request, default=str))
        out.print("dry run: nothing submitted (the GPU quota and the budget are checked at submit)")
        return
    plan = guard(backend, plan, resolved, over_budget)
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


def guard(backend, plan, settings, over_budget: str | None):
    """The guardrails at submit (terraml.guardrails): print what was checked, refuse (exit 2) or return the
    plan to submit, with the budget override in it when --over-budget let the job past the budget."""
    import dataclasses

    from terraml import guardrails

    team = settings.platform.team(plan.job.job.team)
    verdict = guardrails.check(backend, plan, team, settings.home, platform=settings.platform)
    for line in verdict.lines:
        out.print(line, highlight=False)
    for warning in verdict.warnings:
        err.print(f"[yellow]warning[/yellow] {warning}", highlight=False, soft_wrap=True)
    override = guardrails.enforce(verdict, over_budget)
    if override is not None:
        out.print(f"[yellow]over budget[/yellow]: submitted anyway by {override.by}: {override.reason} "
                  "(recorded with the job)", highlight=False)
        return dataclasses.replace(plan, override=override)
    if over_budget is not None:
        out.print("--over-budget not needed: the job fits the team's budget; no override recorded", highlight=False)
    return plan


def local_minutes(epoch: float | None) -> str:
    """Submitted time on this machine's clock, ISO to the minute."""
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")


def duration(status, now: float) -> str:
    """From submit to the end (or to now while it runs): 45s, 12m 05s, 3h 02m."""
    if status.submitted_at is None:
        return "-"
    end = status.ended_at if status.ended_at is not None else (None if status.state.terminal else now)
    if end is None:
        return "-"
    seconds = max(0, int(end - status.submitted_at))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def check_states(values: list[str]) -> set[str]:
    from terraml.backend import State
    from terraml.suggest import did_you_mean

    allowed = [s.value for s in State]
    for value in values:
        if value not in allowed:
            raise UserError(f"--state: '{value}' is not a job state{did_you_mean(value, allowed)} Allowed: "
                            f"{', '.join(allowed)}.")
    return set(values)


@jobs_app.command("list")
def jobs_list(cloud: CloudOpt = "local",
              team: Annotated[str | None, typer.Option(help="Only this team's jobs.")] = None,
              state: Annotated[list[str] | None, typer.Option(
                  "--state", help="Only jobs in this state (repeat for several): pending, waiting-for-capacity, "
                                  "running, interrupted, completed, failed, stopped.")] = None,
              spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Jobs on a backend: submitted (local time), duration, state, capacity, GPUs, cost so far, model version."""
    from terraml.cost.ledger import read_jobs
    from terraml.suggest import did_you_mean

    states = check_states(state or [])
    backend, settings = backend_for(cloud, spec, home, tracking_uri, team=team)
    listing = backend.list_jobs()
    # A cloud job's billed cost, where terraml recorded it when the job ended and the backend no longer says.
    billed = {e.name: e.cost_usd for e in read_jobs(settings.home) if e.backend == backend.NAME}
    now = time.time()
    table = Table("job", "team", "submitted", "duration", "state", "capacity", "GPUs", "cost so far",
                  "model version")
    teams = sorted({h.team for h, _ in listing})
    for handle, status in listing:
        if (team and handle.team != team) or (states and status.state.value not in states):
            continue
        cost = status.cost_usd if status.cost_usd is not None else billed.get(handle.name)
        table.add_row(handle.name, handle.team, local_minutes(status.submitted_at), duration(status, now),
                      status.state.value, status.capacity or "",
                      str(status.gpus) if status.gpus or not status.state.terminal else "-",
                      "-" if cost is None else f"${cost:,.2f}", status.model_version or "")
    out.print(table)
    if team and teams and team not in teams:
        err.print(f"[yellow]note[/yellow] no jobs of team '{team}' on {cloud}{did_you_mean(team, teams)} Teams "
                  f"with jobs here: {', '.join(teams)}.", highlight=False, soft_wrap=True)
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
    override = status.details.get("override")
    if override:
        at = override.get("at")
        when = local_minutes(at) if isinstance(at, int | float) else str(at or "?")
        out.print(f"budget override: by {override.get('by', '?')} at {when}: {override.get('reason', '')}",
                  highlight=False)
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
           detach: Annotated[bool, typer.Option("--detach", help="With --canary: return once the canary takes its "
                                                                 "share; do not watch it.")] = False,
           team: TeamOpt = None, spec: SpecOpt = None, home: HomeOpt = None, tracking_uri: TrackingOpt = None):
    """Serve a registered model version on an endpoint.

    With --canary on a cloud that does not roll a canary back by itself, terraml watches the canary's error
    rate and p99 latency against the spec's endpoints[].rollout thresholds: it promotes the canary after the
    bake time, or rolls it back at the first breach (exit 1)."""
    backend, _ = backend_for(cloud, spec, home, tracking_uri, team=team)
    with out.status(f"deploying {model} v{version} to {endpoint}"):
        result = backend.deploy(model, version, endpoint, canary)
    out.print(f"[green]✓[/green] {result.message}", highlight=False)
    if canary:
        watch_canary(backend, result, cloud=cloud, percent=canary, detach=detach)


def watch_canary(backend, deployment, *, cloud: str, percent: int, detach: bool = False, **watch_args) -> None:
    """After a canary deploy: terraml's rollout watcher (terraml.rollout.watch), where the backend needs it
    (``Backend.canary_controls``); each sample is printed, then the outcome. Rolled back: exit 1.
    ``watch_args`` go to watch (tests inject the clock and sleep)."""
    from terraml.rollout import watch

    controls = backend.canary_controls(deployment)
    if controls is None:
        return  # the cloud rolls the canary back by itself (its own alarms), or this was not a canary
    metrics, traffic, thresholds = controls
    limits = (f"error rate above {thresholds.max_error_percent:g}% or p99 above {thresholds.max_p99_latency_ms:g} "
              f"ms rolls it back; {thresholds.bake_minutes:g} min healthy promotes it")
    if detach:
        out.print(f"detached: the canary keeps {percent}% of {deployment.endpoint}'s traffic and nothing watches it "
                  f"({limits}). See the endpoint with: terraml endpoints list --cloud {cloud}; to have terraml "
                  f"watch it, deploy without --detach.", highlight=False)
        return
    out.print(f"watching the canary ({percent}% of traffic): {limits}", highlight=False)

    def show(sample, why) -> None:
        error = "-" if sample.error_percent is None else f"{sample.error_percent:.2f}%"
        p99 = "-" if sample.p99_latency_ms is None else f"{sample.p99_latency_ms:.0f} ms"
        verdict = f"breach: {why}" if why else "healthy"
        out.print(f"  {sample.requests} request(s), errors {error}, p99 {p99}: {verdict}", highlight=False)

    try:
        result = watch(metrics, traffic, thresholds, on_sample=show, **watch_args)
    except KeyboardInterrupt:
        err.print(f"interrupted: the canary keeps {percent}% of {deployment.endpoint}'s traffic and nothing watches "
                  f"it any more. See it with: terraml endpoints list --cloud {cloud}; deploy the previous version "
                  "again to roll back.", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    if result.outcome == "rolled back":
        err.print(f"[red]rolled back[/red] {deployment.model} v{deployment.version} on {deployment.endpoint}: "
                  f"{result.reason}; all traffic is on the previous version.", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if result.outcome == "inconclusive":
        err.print(f"[yellow]not promoted[/yellow] {deployment.model} v{deployment.version} on "
                  f"{deployment.endpoint}: {result.reason} (the canary keeps {percent}%). Deploy it without "
                  "--canary to promote it, or the previous version again to roll back.", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"[green]promoted[/green] {deployment.model} v{deployment.version} on {deployment.endpoint}: "
              f"{result.reason}; it takes all traffic.", highlight=False)


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
