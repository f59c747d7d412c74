"""The guardrails' arithmetic and decisions (terraml.guardrails), figures in and verdicts out; the CLI tests
(tests/local/test_guardrails.py, tests/aws/test_sagemaker.py) drive them the way a user does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from terraml import guardrails as g
from terraml.backend import BudgetOverride, JobHandle, JobPlan, JobStatus, State
from terraml.cost.job_estimate import JobEstimate
from terraml.cost.ledger import LedgerEntry, record_cloud_job
from terraml.errors import ProviderError, UnsupportedFeature, UserError
from terraml.policy.spot import SpotDecision
from terraml.spec.job import LoadedJob, Resources, TrainingJob
from terraml.spec.models import Budget, Quotas

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()
DAY = 24 * 3600


def team(example_spec, *, budget: float | None = 100, max_gpus: int | None = 4):
    vision = example_spec.platform.team("vision")
    return vision.model_copy(update={"budget": Budget(monthly_usd=budget) if budget else None,
                                     "quotas": Quotas(max_gpus=max_gpus)})


def plan(*, gpus: int = 1, instances: int = 1, worst: float | None = 10.0, accelerator: str | None = "A10G",
         name: str = "new-job") -> JobPlan:
    job = TrainingJob(name=name, team="vision", entrypoint="python train.py",
                      resources=Resources(accelerator=accelerator, accelerator_count=gpus, instance_count=instances))
    estimate = None if worst is None else JobEstimate(expected_usd=worst / 2, worst_usd=worst, explain="test")
    return JobPlan(job=LoadedJob(job, Path("job.yaml"), Path("."), job.spot),
                   decision=SpotDecision("on-demand", "policy", False, ""), estimate=estimate)


def held(name: str, state: State, gpus: int, team_name: str = "vision"):
    return JobHandle("aws", name, name, team_name), JobStatus(state=state, gpus=gpus)


def spend(total: str) -> g.Spend:
    return g.Spend("2026-11", Decimal(total), ("job ledger: 1 job(s) $" + total,))


# ------------------------------------------------------------------------------------------------ quota
def test_gpus_are_accelerators_per_instance_times_instances():
    assert g.gpus_of(plan(gpus=4, instances=3)) == 12
    assert g.gpus_of(plan(accelerator=None)) == 0  # a CPU job


def test_quota_counts_the_teams_queued_and_running_jobs_only(example_spec):
    jobs = [held("a", State.RUNNING, 2), held("b", State.WAITING_FOR_CAPACITY, 1), held("c", State.PENDING, 0),
            held("ended", State.COMPLETED, 8), held("stopped", State.STOPPED, 8),
            held("theirs", State.RUNNING, 8, "nlp")]
    fits = g.quota(team(example_spec), 1, jobs, "aws")
    assert fits.refusal is None
    assert fits.line == ("GPU quota: 3 held by team vision's queued and running jobs on aws + 1 for this job = 4 of "
                         "quotas.max_gpus 4")
    over = g.quota(team(example_spec), 2, [*jobs, held("i", State.INTERRUPTED, 1)], "aws")
    assert over.refusal.startswith("team vision's GPU quota is 4 (quotas.max_gpus, per cloud); its queued and running "
                                   "jobs on aws hold 4: a (running, 2 GPUs), b (waiting-for-capacity, 1 GPU), "
                                   "i (interrupted, 1 GPU); this job asks for 2: 4 + 2 = 6 > 4.")
    assert not over.overridable


def test_a_job_alone_above_the_quota_says_no_job_holds_any(example_spec):
    over = g.quota(team(example_spec), 5, [], "local")
    assert "no other job of the team holds any on local; this job asks for 5: 0 + 5 = 5 > 4" in over.refusal


def test_no_quota_no_check(example_spec):
    assert g.quota(team(example_spec, max_gpus=None), 99, [held("a", State.RUNNING, 99)], "aws").refusal is None


def test_a_resubmit_of_an_existing_job_does_not_count_it_twice(example_spec):
    jobs = [held("new-job", State.RUNNING, 4)]
    assert g.quota(team(example_spec), 4, jobs, "aws", job_name="new-job").refusal is None


# ------------------------------------------------------------------------------------------------ budget
def test_budget_is_month_to_date_plus_worst_case(example_spec):
    fits = g.budget(team(example_spec), plan(worst=40), spend("60.00"), billed=True)
    assert fits.refusal is None  # 60 + 40 = 100: reaching the budget exactly is within it
    assert "month-to-date 2026-11 $60.00 (job ledger: 1 job(s) $60.00) + this job's worst case $40.00 = $100.00 of " \
           "budget.monthly_usd $100.00" in fits.line
    over = g.budget(team(example_spec), plan(worst=40.01), spend("60.00"), billed=True)
    assert over.overridable
    assert over.refusal.startswith("team vision's monthly budget is $100.00 (budget.monthly_usd); month-to-date "
                                   "2026-11 spend $60.00 (job ledger: 1 job(s) $60.00) + this job's worst case $40.01 "
                                   "= $100.01, $0.01 over.")
    assert '--over-budget "REASON"' in over.refusal


def test_an_unpriced_job_on_a_billed_cloud_is_refused_unless_overridden(example_spec):
    result = g.budget(team(example_spec), plan(worst=None), spend("0"), billed=True)
    assert result.overridable and result.refusal.startswith("this job has no price")


def test_local_jobs_are_free_and_never_refused_for_the_budget(example_spec):
    result = g.budget(team(example_spec), plan(worst=None), spend("500.00"), billed=False)
    assert result.refusal is None and "which has no bill: it adds $0.00" in result.line


def test_no_budget_no_check(example_spec):
    assert g.budget(team(example_spec, budget=None), plan(worst=1e9), spend("0"), billed=True).refusal is None


def entry(backend: str, team_name: str, cost: float | None, ended_at: float) -> LedgerEntry:
    return LedgerEntry(backend, "j", team_name, ended_at, "completed", cost, None, None, None, None)


def test_ledger_counts_the_teams_jobs_this_month_and_leaves_billed_ones_to_the_bill():
    entries = [entry("aws", "vision", 1.25, NOW - 2 * DAY), entry("aws", "vision", 2.50, NOW - 3600),
               entry("gcp", "vision", 4.00, NOW - 2 * DAY), entry("aws", "nlp", 100, NOW),
               entry("aws", "vision", 100, dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC).timestamp()),
               entry("local", "vision", 0.0, NOW), entry("aws", "vision", None, NOW)]
    assert g.ledger_spend(entries, "vision", "2026-11", now=NOW) == (Decimal("7.75"), 4, 1)  # the None aws job
    # With the aws bill counted, the aws job that ended two days ago is in it; the one of an hour ago may not be.
    assert g.ledger_spend(entries, "vision", "2026-11", billed_cloud="aws", now=NOW) == (Decimal("6.50"), 3, 1)


def test_month_to_date_adds_the_bill_and_names_every_source(example_spec, tmp_path):
    record_cloud_job(tmp_path, "aws", "earlier", "vision", JobStatus(state=State.COMPLETED, cost_usd=6.0))
    now = (tmp_path / "costs" / "aws" / "earlier.json").stat().st_mtime
    asked = []

    def bill(cloud, team_name, month):
        asked.append((cloud, team_name, month))
        return Decimal("2.50"), "Cost Explorer"

    result = g.month_to_date(tmp_path, team(example_spec), "aws", now=now, spend_of=bill)
    assert asked == [("aws", "vision", g.this_month(now))]
    assert result.total == Decimal("8.50")
    assert result.counted[1] == f"aws bill {g.this_month(now)}: $2.50 (Cost Explorer)"
    assert result.counted[0].startswith("job ledger: 1 job(s) $6.00")


@pytest.mark.parametrize("error,left_out,warned", [
    (UnsupportedFeature("aws: actual spend not supported: no billing export"), "aws billing: not configured", False),
    (ProviderError("Cost Explorer GetCostAndUsage: AccessDenied"), "aws billing: unavailable", True),
])
def test_a_billing_source_that_does_not_answer_is_named_not_counted(example_spec, tmp_path, error, left_out, warned):
    def bill(*_):
        raise error

    result = g.month_to_date(tmp_path, team(example_spec), "aws", now=NOW, spend_of=bill)
    assert result.total == 0 and left_out in " ".join(result.left_out)
    assert bool(result.warnings) == warned and (not warned or "AccessDenied" in result.warnings[0])


def test_local_has_no_bill_to_ask(example_spec, tmp_path):
    result = g.month_to_date(tmp_path, team(example_spec), "local", now=NOW, spend_of=lambda *_: pytest.fail("asked"))
    assert "local: local jobs run on this machine and have no bill" in result.left_out


# ------------------------------------------------------------------------------------------------ enforce
def verdict(*findings):
    return g.Verdict(tuple(findings))


OK = g.Finding("fine")
QUOTA = g.Finding("quota", "over the quota")
BUDGET = g.Finding("budget", "over the budget", overridable=True)


def test_enforce_refuses_with_every_reason_and_exits_2():
    with pytest.raises(UserError) as info:
        g.enforce(verdict(QUOTA, BUDGET), None)
    assert info.value.exit_code == 2 and str(info.value) == "refused: over the quota\n refused: over the budget"


def test_over_budget_lets_the_budget_pass_not_the_quota():
    with pytest.raises(UserError, match="over the quota"):
        g.enforce(verdict(QUOTA, BUDGET), "deadline")
    override = g.enforce(verdict(OK, BUDGET), "  deadline (FIN-1)  ", by="ana@acme.example", now=NOW)
    assert override == BudgetOverride(by="ana@acme.example", reason="deadline (FIN-1)", at=NOW)
    assert g.enforce(verdict(OK, OK), "not needed") is None


def test_over_budget_needs_a_reason():
    with pytest.raises(UserError, match="--over-budget: give the reason"):
        g.enforce(verdict(OK, BUDGET), "   ")


def test_who_is_git_email_else_the_os_user(tmp_path, monkeypatch):
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\temail = ana@acme.example\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    assert g.who() == "ana@acme.example"
    config.write_text("")
    import getpass

    assert g.who() == getpass.getuser()
