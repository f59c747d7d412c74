"""Guardrails at submit and `jobs list`, driven through the installed CLI in a temporary folder, with real
local jobs that hold their GPUs until they are cancelled."""

from __future__ import annotations

import json
import re
import time

import pytest

from ..conftest import ROOT, need, tool_env

SPEC = """\
org: acme
teams:
  - name: vision
    cost_center: CC-1042
    owners: [vision-leads@acme.example]
    budget: {monthly_usd: 10}
    quotas: {max_gpus: 4}
    clouds:
      aws: {region: us-east-1, network: {cidr: 10.20.0.0/16}}
  - name: nlp
    cost_center: CC-2077
    owners: [nlp-leads@acme.example]
    budget: {monthly_usd: 10}
    quotas: {max_gpus: 4}
    clouds:
      aws: {region: us-east-1, network: {cidr: 10.30.0.0/16}}
"""
HOLD = """\
import time
for _ in range(3000):  # holds its GPUs until cancelled (at most 5 minutes)
    time.sleep(0.1)
"""


def terraml(folder, *args):
    import subprocess

    exe = need(ROOT / ".venv" / "bin" / "terraml")
    env = {**tool_env(), "TERRAML_HOME": str(folder / "home"), "TERRAML_SPEC": str(folder / "platform.yaml")}
    return subprocess.run([exe, *map(str, args)], cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def job(folder, name: str, gpus: int, team: str = "vision", entrypoint: str = "python hold.py") -> str:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nteam: {team}\nentrypoint: {entrypoint}\nresources: {{accelerator: A10G, "
                    f"accelerator_count: {gpus}}}\nmax_runtime_hours: 1\n")
    return path.name


def flat(text: str) -> str:
    return " ".join(text.split())


def state_of(folder, name: str) -> str:
    return json.loads((folder / "home" / "jobs" / name / "record.json").read_text())["state"]


def wait_state(folder, name: str, states: tuple[str, ...], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while state_of(folder, name) not in states:
        if time.monotonic() > deadline:
            pytest.fail(f"{name} is still {state_of(folder, name)}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def team_at_quota(tmp_path_factory):
    """vision holds 3 of its 4 GPUs (hold-a 2, hold-b 1); nlp holds 2 of its own; one vision job has ended."""
    folder = tmp_path_factory.mktemp("guardrails")
    (folder / "platform.yaml").write_text(SPEC)
    (folder / "hold.py").write_text(HOLD)
    for name, gpus, team, entry in (("done", 1, "vision", "python -c pass"), ("hold-a", 2, "vision", None),
                                    ("hold-b", 1, "vision", None), ("nlp-job", 2, "nlp", None)):
        result = terraml(folder, "train", job(folder, name, gpus, team, entry or "python hold.py"), "--detach")
        assert result.returncode == 0, result.stdout + result.stderr
    wait_state(folder, "done", ("completed",))
    yield folder
    for name in ("hold-a", "hold-b", "nlp-job", "big"):
        if (folder / "home" / "jobs" / name).exists() and state_of(folder, name) in ("pending", "running"):
            terraml(folder, "jobs", "cancel", name)
    for name in ("hold-a", "hold-b", "nlp-job", "big"):
        if (folder / "home" / "jobs" / name).exists():
            wait_state(folder, name, ("stopped", "completed", "failed"))


def test_a_job_past_the_quota_is_refused_naming_the_jobs_that_hold_it(team_at_quota):
    folder = team_at_quota
    result = terraml(folder, "train", job(folder, "big", 2), "--detach")
    assert result.returncode == 2, result.stdout + result.stderr
    said = flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert "refused: team vision's GPU quota is 4 (quotas.max_gpus, per cloud)" in said
    # Both holders, with their state and GPUs; the ended job and the other team's job hold nothing here.
    assert re.search(r"its queued and running jobs on local hold 3: hold-a \((pending|running), 2 GPUs\), "
                     r"hold-b \((pending|running), 1 GPU\); this job asks for 2: 3 \+ 2 = 5 > 4\.", said), said
    assert "done (" not in said and "nlp-job" not in said
    assert "terraml jobs cancel NAME --cloud local" in said
    assert not (folder / "home" / "jobs" / "big").exists(), "a refused job leaves no record"


def test_the_job_fits_once_a_holder_ends(team_at_quota):
    folder = team_at_quota
    assert terraml(folder, "jobs", "cancel", "hold-b").returncode == 0
    wait_state(folder, "hold-b", ("stopped",))
    result = terraml(folder, "train", job(folder, "big", 2), "--detach")
    assert result.returncode == 0, result.stdout + result.stderr
    said = flat(result.stdout)
    assert "GPU quota: 2 held by team vision's queued and running jobs on local + 2 for this job = 4 of " \
           "quotas.max_gpus 4" in said
    # Local jobs are free: the budget is shown and never refuses them.
    assert "this job runs on this machine, which has no bill: it adds $0.00" in said
    assert "submitted big to local" in said


def test_over_budget_needs_a_reason_and_is_not_recorded_when_not_needed(team_at_quota):
    folder = team_at_quota
    result = terraml(folder, "train", job(folder, "why", 1), "--over-budget", " ", "--detach")
    assert result.returncode == 2 and "--over-budget: give the reason" in flat(result.stderr)
    assert not (folder / "home" / "jobs" / "why").exists()


def test_jobs_list_shows_the_columns_and_filters_by_team_and_state(team_at_quota):
    folder = team_at_quota
    everything = terraml(folder, "jobs", "list")
    assert everything.returncode == 0, everything.stderr
    header = flat(everything.stdout.splitlines()[1])
    assert header.split("┃")[1:-1] == [f" {c} " for c in ("job", "team", "submitted", "duration", "state",
                                                            "capacity", "GPUs", "cost so far", "model version")]
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in everything.stdout.splitlines() if line.startswith("│")}
    assert {"done", "hold-a", "nlp-job"} <= set(rows)
    done = rows["done"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", done[2]) and re.fullmatch(r"\d+s|\d+m \d\ds", done[3])
    assert done[4:8] == ["completed", "on-demand", "1", "$0.00"]
    assert rows["hold-a"][6] == "2" and rows["nlp-job"][1] == "nlp"

    nlp = terraml(folder, "jobs", "list", "--team", "nlp")
    assert [line.split("│")[1].strip() for line in nlp.stdout.splitlines() if line.startswith("│")] == ["nlp-job"]

    ended = terraml(folder, "jobs", "list", "--state", "completed", "--state", "stopped")
    names = {line.split("│")[1].strip() for line in ended.stdout.splitlines() if line.startswith("│")}
    assert "done" in names and "hold-a" not in names and "nlp-job" not in names


def test_jobs_list_state_must_be_a_state(team_at_quota):
    result = terraml(team_at_quota, "jobs", "list", "--state", "runing")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert ("--state: 'runing' is not a job state; did you mean 'running'? Allowed: pending, waiting-for-capacity, "
            "running, interrupted, completed, failed, stopped.") in flat(result.stderr)


def test_jobs_list_says_when_a_team_has_no_jobs_here(team_at_quota):
    result = terraml(team_at_quota, "jobs", "list", "--team", "visoin")
    assert result.returncode == 0
    assert "no jobs of team 'visoin' on local; did you mean 'vision'?" in flat(result.stderr)


def test_jobs_list_keeps_warning_about_records_it_cannot_read(team_at_quota):
    folder = team_at_quota
    bad = folder / "home" / "jobs" / "torn"
    bad.mkdir()
    (bad / "record.json").write_text("{not json")
    try:
        result = terraml(folder, "jobs", "list")
        assert result.returncode == 0
        assert "record.json: not a job record" in flat(result.stderr) and "hold-a" in result.stdout
    finally:
        (bad / "record.json").unlink()
        bad.rmdir()


def test_an_override_is_kept_in_the_local_record_and_shown_by_jobs_status(tmp_path, example_spec):
    """Local jobs are free, so the budget never refuses one: the override is set on the plan as
    `train --over-budget` does, then read back through the CLI."""
    import dataclasses

    from terraml.backend import BudgetOverride
    from terraml.providers.local.backend import LocalBackend
    from terraml.spec.job_loader import load_job

    (tmp_path / "platform.yaml").write_text(SPEC)
    backend = LocalBackend(tmp_path / "home")
    plan = backend.plan(load_job(tmp_path / job(tmp_path, "forced", 1, entrypoint="python -c pass"),
                                 example_spec.platform, "local"))
    at = time.time()
    backend.submit(dataclasses.replace(plan, override=BudgetOverride("ana@acme.example", "Q4 retrain (FIN-42)", at)))
    record = json.loads((tmp_path / "home" / "jobs" / "forced" / "record.json").read_text())
    assert record["override"] == {"by": "ana@acme.example", "reason": "Q4 retrain (FIN-42)", "at": at}
    assert record["gpus"] == 1
    wait_state(tmp_path, "forced", ("completed",))
    shown = terraml(tmp_path, "jobs", "status", "forced")
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"budget override: by ana@acme\.example at \d{4}-\d\d-\d\d \d\d:\d\d: Q4 retrain \(FIN-42\)",
                     shown.stdout), shown.stdout
