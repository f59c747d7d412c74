"""Guardrails at submit: a team's GPU quota and monthly budget, checked before any backend submits a job.

    gpus_of(plan)                      the GPUs a planned job asks for
    quota(team, gpus, listing, ...)    pure: the team's queued and running jobs + this one vs quotas.max_gpus
    month_to_date(...)                 the team's spend this month: job ledger, and the cloud's bill if it has one
    budget(team, plan, spend, ...)     pure: month-to-date spend + this job's worst case vs budget.monthly_usd
    check(backend, plan, ...)          both, through the Backend interface only -> Verdict
    enforce(verdict, reason, ...)      refuse (UserError, exit 2) or return the BudgetOverride to record

Cloud-neutral: everything comes from the one backend interface (``Backend.list_jobs()`` -> ``JobStatus.gpus``
and ``state``; ``JobPlan.estimate.worst_usd``) and the cloud registry (``Cloud.spend``), so a backend gets the
guardrails by filling those in.

What counts, and why:

- **Quota** (``quotas.max_gpus``, per cloud, as the spec documents it): the GPUs of the team's jobs on this
  backend that are not in a terminal state (pending, waiting for capacity, running, interrupted: all of them
  hold or are about to hold capacity) plus this job's. Above the quota the job is refused, naming the jobs
  that hold it. No override: a quota is capacity, not money (raise it in the spec).
- **Budget** (``budget.monthly_usd``, the team's, across clouds, as ``terraml cost report`` counts it): the
  month-to-date spend plus this job's worst case must stay within the budget (reaching it exactly is
  allowed). Month-to-date is the job ledger of every backend for the team this month (UTC months, as the
  ledger and the report count them), plus the bill of the submit cloud where its billing source answers.
  The bill already holds the team's tagged jobs once the billing source has caught up, so ledger jobs of that
  cloud that ended more than ``BILLING_LAG_S`` ago are not added a second time; those that ended since may not
  be billed yet and are added (at worst a day of jobs counted twice: on the side of caution). The other
  clouds' bills are not queried at submit (their credentials belong to those clouds); the output says so.
- **Local jobs are free**: this machine has no bill, so a local job adds $0 and is never refused for the
  budget, even when the team's cloud spend has passed it; the figures are still shown.
- **An unpriced job on a billed cloud** (no estimate: the catalog has no price for the machine) is refused
  when the team has a budget: nothing proves it fits, and a finance team would rather hear "no price" at
  submit than read an overspend at month end. ``--over-budget "REASON"`` submits it anyway, recorded.
- A billing source that is not configured (``UnsupportedFeature``) is left out and named; one that fails
  (no credentials, access denied) is left out with its error as a warning: the ledger still counts, and the
  figures say which sources they hold.

Two submits at the same moment can both pass: the check reads the backend's state, it does not lock it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import shutil
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from terraml.backend import BudgetOverride, JobHandle, JobPlan, JobStatus
from terraml.errors import TerramlError, UnsupportedFeature, UserError
from terraml.spec.models import Platform, Team

BILLING_LAG_S = 24 * 3600
"""How far a cloud's billing data may lag (Cost Explorer, the billing exports: refreshed at least daily)."""


def money(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}"


def this_month(now: float | None = None) -> str:
    return dt.datetime.fromtimestamp(time.time() if now is None else now, dt.UTC).strftime("%Y-%m")


# ------------------------------------------------------------------------------------------------ quota
def gpus_of(plan: JobPlan) -> int:
    """The GPUs a planned job asks for: accelerators per instance x instances.

    A backend that resolved the machine says so in ``plan.gpus`` (SageMaker: the instance type's GPUs from
    the catalog, also when the job names an instance type rather than an accelerator); otherwise the job
    file's accelerator_count x instance_count when it names an accelerator, else 0 (a CPU job)."""
    if plan.gpus is not None:
        return plan.gpus
    r = plan.job.job.resources
    return r.accelerator_count * r.instance_count if r.accelerator else 0


@dataclass(frozen=True)
class Finding:
    line: str
    """What was checked, with its figures (always shown)."""
    refusal: str | None = None
    """Why the job is refused, with the figures and the fix; None when it passes."""
    overridable: bool = False


def quota(team: Team, gpus: int, jobs: list[tuple[JobHandle, JobStatus]], cloud: str, *,
          job_name: str | None = None) -> Finding:
    """The team's queued and running jobs on ``cloud`` plus this one's ``gpus`` against quotas.max_gpus. Pure."""
    limit = team.quotas.max_gpus
    if limit is None:
        return Finding(f"GPU quota: team {team.name} has none (quotas.max_gpus); not checked")
    holders = [(h, s) for h, s in jobs if h.team == team.name and not s.state.terminal and s.gpus > 0
               and h.name != job_name]
    held = sum(s.gpus for _, s in holders)
    total = held + gpus
    line = (f"GPU quota: {held} held by team {team.name}'s queued and running jobs on {cloud} + {gpus} for this "
            f"job = {total} of quotas.max_gpus {limit}")
    if total <= limit:
        return Finding(line)
    named = ", ".join(f"{h.name} ({s.state.value}, {s.gpus} GPU{'s' if s.gpus != 1 else ''})" for h, s in holders)
    held_by = f"its queued and running jobs on {cloud} hold {held}: {named}" if holders else \
        f"no other job of the team holds any on {cloud}"
    fix = (f"wait for one of them to end or cancel one (terraml jobs cancel NAME --cloud {cloud}), lower the job's "
           "accelerator_count or instance_count, or raise quotas.max_gpus in the platform spec" if holders else
           "lower the job's accelerator_count or instance_count, or raise quotas.max_gpus in the platform spec")
    return Finding(line, f"team {team.name}'s GPU quota is {limit} (quotas.max_gpus, per cloud); {held_by}; this "
                         f"job asks for {gpus}: {held} + {gpus} = {total} > {limit}. To submit it, {fix}.")


# ------------------------------------------------------------------------------------------------ budget
@dataclass(frozen=True)
class Spend:
    """The team's month-to-date spend and where each part comes from."""

    month: str
    total: Decimal
    counted: tuple[str, ...]
    """Each source that was counted, with its figure: 'job ledger: 2 job(s) $6.00'."""
    left_out: tuple[str, ...] = ()
    """Each source that was not, and why."""
    warnings: tuple[str, ...] = ()


def ledger_spend(entries, team: str, month: str, *, billed_cloud: str | None = None, now: float | None = None
                 ) -> tuple[Decimal, int, int]:
    """The team's job costs this month from the ledger, how many jobs they are, and how many of its jobs
    have no known cost (not counted: the caller says so). Jobs of ``billed_cloud`` that ended more than
    BILLING_LAG_S before ``now`` are left out: that cloud's bill, counted beside, holds them. Pure."""
    now = time.time() if now is None else now
    total, count, unknown = Decimal(0), 0, 0
    for e in entries:
        if e.team != team or e.month() != month:
            continue
        if billed_cloud is not None and e.backend == billed_cloud and e.ended_at < now - BILLING_LAG_S:
            continue
        if e.cost_usd is None:
            unknown += e.backend != "local"  # local jobs cost nothing; a cloud job without a cost is unknown
            continue
        total += Decimal(str(e.cost_usd))
        count += 1
    return total, count, unknown


def month_to_date(home: Path, team: Team, cloud: str, *, now: float | None = None, spend_of=None,
                  platform: Platform | None = None) -> Spend:
    """Read the figures: the ledger in the terraml home, and ``cloud``'s bill for the team where the cloud
    has a billing source and the team an environment there (``spend_of(cloud, team, month)``, default
    ``terraml.cloud.get(cloud).spend``: a network call)."""
    from terraml.cloud import Feature, get
    from terraml.cost.ledger import read_jobs

    now = time.time() if now is None else now
    month = this_month(now)
    target = get(cloud)
    counted, left_out, warnings = [], [], []
    billed = None
    bill = Decimal(0)
    if not target.ENVIRONMENTS:
        left_out.append(f"{cloud}: {target.unsupported_reason(Feature.BILLING) or 'no bill'}")
    elif team.environment(cloud) is None:
        left_out.append(f"{cloud} billing: team {team.name} has no {cloud} environment")
    else:
        try:
            amount, note = (spend_of or (lambda c, t, m: get(c).spend(t, m, platform)))(cloud, team.name,
                                                                                         month)
            bill, billed = Decimal(amount), cloud
            counted.append(f"{cloud} bill {month}: {money(bill)} ({note})")
        except UnsupportedFeature as exc:
            left_out.append(f"{cloud} billing: not configured ({exc})")
        except TerramlError as exc:  # no credentials, access denied: the ledger still counts
            left_out.append(f"{cloud} billing: unavailable")
            warnings.append(f"{cloud} billing could not be read, so the budget check counts the job ledger "
                            f"only: {exc}")
    skipped: list[str] = []
    jobs, count, unknown = ledger_spend(read_jobs(home, skipped), team.name, month, billed_cloud=billed, now=now)
    if unknown:
        left_out.append(f"job ledger: {unknown} cloud job(s) with no known cost (see `terraml jobs status`)")
    lag = (f"; {billed} jobs that ended over {BILLING_LAG_S // 3600} h ago are in its bill and not added again"
           if billed else "")
    counted.insert(0, f"job ledger: {count} job(s) {money(jobs)}{lag}")
    others = [c for c, _ in team.clouds.items() if c != cloud]
    if others:
        left_out.append(f"{', '.join(others)} billing: not queried at submit (their jobs in the ledger count)")
    warnings.extend(f"job ledger: {s}" for s in skipped)
    return Spend(month, jobs + bill, tuple(counted), tuple(left_out), tuple(warnings))


def budget(team: Team, plan: JobPlan, spend: Spend, *, billed: bool) -> Finding:
    """Month-to-date spend + this job's worst case against budget.monthly_usd. ``billed``: the cloud sends a
    bill (False for this machine, where a job costs nothing). Pure."""
    if team.budget is None:
        return Finding(f"budget: team {team.name} has none (budget.monthly_usd); not checked")
    limit = Decimal(str(team.budget.monthly_usd))
    sources = "; ".join(spend.counted) + (f"; not counted: {'; '.join(spend.left_out)}" if spend.left_out else "")
    if billed and plan.estimate is None:
        line = (f"budget: month-to-date {spend.month} {money(spend.total)} ({sources}) + this job: no price of "
                f"budget.monthly_usd {money(limit)}")
        return Finding(line, f"this job has no price (the catalog prices none of its machines), so it cannot be "
                             f"checked against team {team.name}'s monthly budget of {money(limit)} (month-to-date "
                             f"{money(spend.total)}). Pick a priced machine (terraml catalog gpus), or submit it "
                             f'anyway with --over-budget "REASON" (recorded with the job).', overridable=True)
    if not billed:
        return Finding(f"budget: month-to-date {spend.month} {money(spend.total)} ({sources}) of budget.monthly_usd "
                       f"{money(limit)}; this job runs on this machine, which has no bill: it adds $0.00")
    worst = Decimal(str(plan.estimate.worst_usd))
    total = spend.total + worst
    line = (f"budget: month-to-date {spend.month} {money(spend.total)} ({sources}) + this job's worst case "
            f"{money(worst)} = {money(total)} of budget.monthly_usd {money(limit)}")
    if total <= limit:
        return Finding(line)
    return Finding(line, f"team {team.name}'s monthly budget is {money(limit)} (budget.monthly_usd); month-to-date "
                         f"{spend.month} spend {money(spend.total)} ({sources}) + this job's worst case "
                         f"{money(worst)} = {money(total)}, {money(total - limit)} over. Lower max_runtime_hours or "
                         f'the job\'s size, or submit it anyway with --over-budget "REASON" (recorded with the job).',
                   overridable=True)


# ------------------------------------------------------------------------------------------------ together
@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        return [f.line for f in self.findings]

    @property
    def refusals(self) -> list[Finding]:
        return [f for f in self.findings if f.refusal]


def check(backend, plan: JobPlan, team: Team, home: Path, *, now: float | None = None, spend_of=None,
          platform: Platform | None = None) -> Verdict:
    """Both guardrails for ``plan`` on ``backend``, reading only what a set limit needs (no listing without a
    quota, no billing call without a budget)."""
    from terraml.cloud import get

    cloud = backend.NAME
    findings, warnings = [], []
    if team.quotas.max_gpus is not None:
        listing = backend.list_jobs()
        findings.append(quota(team, gpus_of(plan), listing.jobs, cloud, job_name=plan.job.job.name))
        warnings.extend(f"not counted toward the GPU quota: {s}" for s in listing.skipped)
    else:
        findings.append(quota(team, gpus_of(plan), [], cloud))
    if team.budget is not None:
        spend = month_to_date(home, team, cloud, now=now, spend_of=spend_of, platform=platform)
        warnings.extend(spend.warnings)
    else:
        spend = Spend(this_month(now), Decimal(0), ())
    findings.append(budget(team, plan, spend, billed=get(cloud).ENVIRONMENTS))
    return Verdict(tuple(findings), tuple(warnings))


def enforce(verdict: Verdict, over_budget: str | None, *, by: str | None = None, now: float | None = None
            ) -> BudgetOverride | None:
    """Refuse the job (UserError, exit 2) for a quota it exceeds, or a budget it exceeds without an override;
    return the BudgetOverride to record when ``over_budget`` (the reason) let it past the budget, else None."""
    if over_budget is not None and not over_budget.strip():
        raise UserError('--over-budget: give the reason, e.g. --over-budget "release deadline, approved by '
                        'finance (TICKET-123)"; it is recorded with the job.')
    hard = [f for f in verdict.refusals if not f.overridable]
    soft = [f for f in verdict.refusals if f.overridable]
    if hard or (soft and over_budget is None):
        reasons = [f.refusal for f in hard + soft]
        raise UserError("refused: " + "\n refused: ".join(reasons))
    if soft:
        return BudgetOverride(by=by or who(), reason=over_budget.strip(), at=time.time() if now is None else now)
    return None


def who() -> str:
    """Who overrides: git's user.email where it is set (a person, the same on every machine, unlike the OS
    account of a shared CI runner), else the OS user. Neither is authenticated: it is a record, not a check."""
    git = shutil.which("git")
    if git:
        try:
            email = subprocess.run([git, "config", "user.email"], capture_output=True, text=True, timeout=5,
                                   stdin=subprocess.DEVNULL).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            email = ""
        if email:
            return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
