"""The Azure ML backend against the fake Azure ML service (azure_fake.py): the real azure-ai-ml SDK through an
injected azure-core transport. The fake keeps jobs, clusters, endpoints and traffic, and injects low-priority
preemptions (a job requeued and restarted without a signal); it runs no containers."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from itertools import pairwise

import pytest

from terraml.backend import BudgetOverride, State
from terraml.catalog import DATA_DIR, load_catalog
from terraml.errors import SpecError, UserError
from terraml.providers.azure.azureml import AzureMLBackend
from terraml.providers.azure.azureml_serving import deployment_name
from terraml.providers.azure.names import AzureNames
from terraml.rollout import watch
from terraml.spec import load_platform
from terraml.spec.job_loader import load_job

from ..conftest import EXAMPLE, ROOT
from .azure_fake import FakeAzureML, FakeCredential
from .fake import nlp_job

PLATFORM = load_platform(str(EXAMPLE)).platform
NAMES = AzureNames.for_team(PLATFORM, PLATFORM.team("nlp"))
SPOT_CLUSTER, OD_CLUSTER = NAMES.ml_compute("finetune", "spot"), NAMES.ml_compute("finetune", "ondemand")
WS = "00000000-0000-0000-0000-000000000000/rg-acme-nlp-prod/mlw-acme-nlp-prod"


def price_row(instance_type: str = "Standard_NC24ads_A100_v4", region: str = "eastus") -> dict:
    with (DATA_DIR / "vm_prices.csv").open() as f:
        return next(r for r in csv.DictReader(f) if (r["cloud"], r["region"], r["instance_type"]) ==
                    ("azure", region, instance_type))


class Clock:
    def __init__(self):
        import time

        self.t = time.time()

    def __call__(self):
        return self.t


def make(tmp_path, *, fake=None, edit=lambda text: text, name="j1", tracking=True, clock=None, **fake_args):
    clock = clock or Clock()
    fake = fake or FakeAzureML(clock=clock, **fake_args)
    fake.seed_team(PLATFORM, "nlp")
    if not (tmp_path / "train").exists():
        shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    path = tmp_path / f"{name}.yaml"
    path.write_text(edit(nlp_job((ROOT / "examples" / "job.yaml").read_text(), name)))
    backend = AzureMLBackend(PLATFORM, load_catalog(), transport=fake.transport(), credential=FakeCredential(),
                             tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}" if tracking else None,
                             clock=clock)
    return backend, fake, load_job(path, PLATFORM, "azure")


def mode(text: str, new: str) -> str:
    """The job with another spot mode, without the fields that mode does not take."""
    drop = {"on-demand": ("max_wait_hours", "max_interruptions", "max_price_ratio", "checkpoint_every"),
            "spot": ("max_interruptions", "max_price_ratio")}[new]
    lines = [line for line in text.splitlines() if not line.strip().startswith(drop)]
    return "\n".join(lines).replace("mode: auto", f"mode: {new}") + "\n"


def live_jobs(fake) -> list[str]:
    ws = fake.workspaces[WS.lower()]
    return [n for n, j in ws.jobs.items() if j.status not in ("Completed", "Failed", "Canceled")]


def run(backend, fake, handle, clock, step_s=60.0):
    """Poll to the end, moving the clock step_s per poll; (time, status) of each poll. Never two live jobs."""
    seen = []
    for _ in range(60):
        clock.t += step_s
        status = backend.status(handle)
        seen.append((clock.t, status))
        assert len(live_jobs(fake)) <= 1, live_jobs(fake)
        if status.state.terminal:
            return seen
    raise AssertionError(f"never ended: {seen[-1]}")


# ---------------------------------------------------------------- plan
def test_plan_is_offline_and_names_the_cluster_timeout_and_estimate(tmp_path):
    class NoNetwork(FakeAzureML):
        def send(self, request, **kwargs):
            raise AssertionError(f"plan made a network call: {request.url}")

    backend, _, job = make(tmp_path, fake=NoNetwork())
    plan = backend.plan(job)
    props = plan.request["properties"]
    assert props["computeId"] == f"computes/{SPOT_CLUSTER}" and plan.decision.capacity == "spot"
    assert props["limits"]["timeout"] == "PT14400S"  # max_runtime_hours 4
    assert props["outputs"]["checkpoints"]["mode"] == "ReadWriteMount"
    assert "TERRAML_CHECKPOINT_DIR=${{outputs.checkpoints}}" in props["command"]
    assert props["command"].endswith("python train.py --epochs 5")
    assert props["environment"].endswith("/acpt-pytorch-2.5-cuda12.4/labels/latest")
    assert props["tags"]["terraml:fallback-compute"] == OD_CLUSTER
    assert props["tags"]["team"] == "nlp" and props["tags"]["cost-center"] == "CC-2077"
    assert any("max_wait_hours 8" in n and "status()" in n for n in plan.notes)
    row = price_row()
    spot, od = float(row["spot_usd_per_hour"]), float(row["on_demand_usd_per_hour"])
    assert plan.estimate.expected_usd == round(4 * spot, 2)
    assert plan.estimate.worst_usd == round(4 * spot + 4 * od, 2)
    assert "2024-08" in plan.estimate.explain and "months old" in plan.estimate.explain


def test_a10g_is_not_on_the_azure_clusters(tmp_path):
    backend, _, _ = make(tmp_path)
    (tmp_path / "a10g.yaml").write_text((ROOT / "examples" / "job.yaml").read_text().replace("team: vision",
                                                                                              "team: nlp"))
    with pytest.raises(SpecError) as caught:
        backend.plan(load_job(tmp_path / "a10g.yaml", PLATFORM, "azure"))
    text = str(caught.value)
    assert "resources.accelerator" in text and "A10G" in text
    assert f"{SPOT_CLUSTER}: Standard_NC24ads_A100_v4 (1 x A100-80GB), low priority" in text
    assert f"{OD_CLUSTER}: Standard_NC24ads_A100_v4 (1 x A100-80GB), dedicated" in text


def test_instance_type_picks_the_cluster_and_on_demand_goes_dedicated(tmp_path):
    backend, _, job = make(tmp_path, edit=lambda t: mode(t.replace(
        "accelerator: A100-80GB", "instance_type: Standard_NC24ads_A100_v4"), "on-demand")
                           )
    plan = backend.plan(job)
    assert plan.request["properties"]["computeId"] == f"computes/{OD_CLUSTER}"
    assert plan.decision.capacity == "on-demand"


# ---------------------------------------------------------------- jobs
def test_two_preemptions_resume_on_low_priority_with_cost_from_the_rows(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, preemptions=2, clock=clock)
    plan = backend.plan(job)
    override = BudgetOverride("alice@acme.example", "deadline", 1700000000.0)
    from dataclasses import replace

    handle = backend.submit(replace(plan, override=override))
    assert not handle.existing and backend.submit(backend.plan(job)).existing
    seen = run(backend, fake, handle, clock)
    final = seen[-1][1]
    assert final.state == State.COMPLETED and final.interruptions == 2 and final.capacity == "spot"
    assert final.model_version == "1" and final.gpus == 0 and final.ended_at is not None
    ws = fake.workspaces[WS.lower()]
    assert list(ws.jobs) == ["j1"]  # restarted in place: no second job
    body = ws.jobs["j1"].body["properties"]
    assert body["tags"]["terraml:override-by"] == "alice@acme.example"
    assert body["tags"]["terraml:override-reason"] == "deadline"
    assert body["outputs"]["checkpoints"]["uri"].endswith("/terraml/jobs/j1/checkpoints/")
    # running time: Azure ML's own run timestamps (the fake's first start to its end, requeues included)
    fj = ws.jobs["j1"]
    running = fj.ended_at - fj.started_at
    assert running > sum(t2 - t1 for (t1, s1), (t2, _) in pairwise(seen) if s1.state == State.RUNNING) > 0
    spot = float(price_row()["spot_usd_per_hour"])
    assert final.training_seconds == pytest.approx(running)
    assert final.cost_usd == pytest.approx(running * spot / 3600, abs=1e-4)
    assert "StartTimeUtc" in final.details["cost_note"]
    od = float(price_row()["on_demand_usd_per_hour"])
    assert final.savings_percent == pytest.approx((1 - spot / od) * 100, abs=0.1)
    assert "as of ~2024-08-18" in final.details["cost_note"] and "months old" in final.details["cost_note"]
    running_polls = [s for _, s in seen if not s.state.terminal]
    assert all(s.gpus == 1 for s in running_polls) and running_polls[0].submitted_at is not None
    # registered once, with the job and environment
    from mlflow import MlflowClient

    versions = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_model_versions("name = 'image-classifier'")
    assert len(versions) == 1 and versions[0].source.endswith("/terraml/jobs/j1/model/")
    assert versions[0].tags["terraml.training_job"] == "j1"
    assert backend.status(handle).model_version == "1"
    assert len(MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_model_versions(
        "name = 'image-classifier'")) == 1


def test_auto_falls_back_to_dedicated_after_max_interruptions(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, preemptions=3, clock=clock, tracking=False,
                              edit=lambda t: t.replace("max_interruptions: 3", "max_interruptions: 2")
                              .replace("register_model: image-classifier", "#"))
    handle = backend.submit(backend.plan(job))
    seen = run(backend, fake, handle, clock)
    final = seen[-1][1]
    assert final.state == State.COMPLETED and final.capacity == "on-demand" and final.interruptions == 2
    assert "max_interruptions 2" in final.message and "j1-od" in final.message
    ws = fake.workspaces[WS.lower()]
    assert ws.jobs["j1"].status == "Canceled" and ws.jobs["j1-od"].status == "Completed"
    primary, od = ws.jobs["j1"].body["properties"], ws.jobs["j1-od"].body["properties"]
    assert od["computeId"].endswith(f"/computes/{OD_CLUSTER}")
    assert od["outputs"]["checkpoints"]["uri"] == primary["outputs"]["checkpoints"]["uri"]  # resumes there
    assert od["environmentVariables"]["TERRAML_CAPACITY"] == "on-demand"
    assert od["tags"]["terraml:fallback-of"] == "j1"
    row = price_row()
    # each job's own run timestamps: j1 on low priority until terraml cancelled it, j1-od on dedicated
    spot_s = ws.jobs["j1"].ended_at - ws.jobs["j1"].started_at
    od_s = ws.jobs["j1-od"].ended_at - ws.jobs["j1-od"].started_at
    assert od_s > 0 and spot_s > 0
    expected = spot_s * float(row["spot_usd_per_hour"]) / 3600 + od_s * float(row["on_demand_usd_per_hour"]) / 3600
    assert final.cost_usd == pytest.approx(expected, abs=1e-4)
    assert backend.handle("j1").team == "nlp" and "j1" in [h.name for h, _ in backend.list_jobs()]


def test_spot_never_falls_back_and_gives_up_after_max_wait(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, no_capacity=True, clock=clock, tracking=False,
                              edit=lambda t: mode(t, "spot"))
    handle = backend.submit(backend.plan(job))
    assert backend.status(handle).state == State.WAITING_FOR_CAPACITY
    clock.t += 8 * 3600 + 1
    final = backend.status(handle)
    assert final.state == State.FAILED and "max_wait_hours 8" in final.message
    assert list(fake.workspaces[WS.lower()].jobs) == ["j1"] and not live_jobs(fake)


def test_auto_falls_back_on_a_capacity_error(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, no_capacity=True, clock=clock, tracking=False,
                              edit=lambda t: t.replace("register_model: image-classifier", "#"))
    handle = backend.submit(backend.plan(job))
    clock.t += 4 * 3600 + 1  # max_wait 8 h minus max_runtime 4 h without ever running
    status = backend.status(handle)
    assert status.capacity == "on-demand" and "no low-priority capacity" in status.message
    assert live_jobs(fake) == ["j1-od"]
    assert run(backend, fake, handle, clock)[-1][1].state == State.COMPLETED


def test_cancel_logs_and_unknown_job(tmp_path):
    backend, fake, job = make(tmp_path, tracking=False)
    handle = backend.submit(backend.plan(job))
    backend.cancel(handle)
    assert backend.status(handle).state == State.STOPPED
    assert any("Canceled" in line for line in backend.logs(handle))
    with pytest.raises(UserError, match="no Azure ML job named 'nope'"):
        backend.handle("nope")


def test_missing_credentials_name_az_login(tmp_path):
    from azure.core.exceptions import ClientAuthenticationError

    from terraml.errors import CredentialsError

    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    fake = FakeAzureML()
    fake.seed_team(PLATFORM, "nlp")
    backend = AzureMLBackend(PLATFORM, load_catalog(), transport=fake.transport(), credential=NoCredential())
    with pytest.raises(CredentialsError, match="az login"):
        backend.handle("j1")


# ---------------------------------------------------------------- serving
def test_deploy_canary_breach_rolls_back_within_two_minutes(tmp_path):
    from terraml.model_registry import register_version

    backend, fake, _ = make(tmp_path, tracking=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    for job in ("j1", "j2"):
        register_version(uri, "summ", f"azureml://datastores/workspaceblobstore/paths/terraml/jobs/{job}/model/",
                         tags={"terraml.training_job": job})
    first = backend.deploy("summ", "1", "chat")
    assert "takes all traffic" in first.message and backend.canary_controls(first) is None
    ws = fake.workspaces[WS.lower()]
    ep = "acme-nlp-prod-chat"
    v1, v2 = deployment_name("summ", "1"), deployment_name("summ", "2")
    assert ws.endpoints[ep]["traffic"] == {v1: 100}
    assert ws.deployments[(ep, v1)]["properties"]["instanceType"] == "Standard_NC24ads_A100_v4"
    canary = backend.deploy("summ", "2", "chat", canary_percent=10)
    assert ws.endpoints[ep]["traffic"] == {v2: 10, v1: 90}
    metrics, traffic, thresholds = backend.canary_controls(canary)
    assert thresholds.max_error_percent == 1.0 and thresholds.max_p99_latency_ms == 2000
    fake.set_metrics(v2, requests_per_minute=200, errors_5xx=20, p99_ms=150)  # 10% errors: a breach
    clock = Clock()
    result = watch(metrics, traffic, thresholds, clock=clock, sleep=lambda s: setattr(clock, "t", clock.t + s))
    assert result.outcome == "rolled back" and "10.00%" in result.reason
    assert result.acted_at - result.breach_at <= 120
    assert ws.endpoints[ep]["traffic"] == {v1: 100} and (ep, v2) not in ws.deployments
    assert any("Microsoft.Insights/metrics" in path for _, path, _ in fake.calls)
    listed = {e.endpoint: e for e in backend.list_endpoints()}
    assert listed["chat"].version == "1" and listed["chat"].team == "nlp"
    assert backend.invoke("chat", {"inputs": [[1, 2]]})["predictions"] == [0]
    assert backend.undeploy("chat") and not backend.undeploy("chat")


def test_healthy_canary_is_promoted(tmp_path):
    from terraml.model_registry import register_version

    backend, fake, _ = make(tmp_path, tracking=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    for job in ("j1", "j2"):
        register_version(uri, "summ", f"azureml://datastores/workspaceblobstore/paths/terraml/jobs/{job}/model/")
    backend.deploy("summ", "1", "chat")
    metrics, traffic, thresholds = backend.canary_controls(backend.deploy("summ", "2", "chat", canary_percent=25))
    v1, v2 = deployment_name("summ", "1"), deployment_name("summ", "2")
    fake.set_metrics(v2, requests_per_minute=100, errors_5xx=0, p99_ms=120)
    clock = Clock()
    result = watch(metrics, traffic, thresholds, clock=clock, sleep=lambda s: setattr(clock, "t", clock.t + s))
    ws = fake.workspaces[WS.lower()]
    assert result.outcome == "promoted" and ws.endpoints["acme-nlp-prod-chat"]["traffic"] == {v2: 100}
    assert ("acme-nlp-prod-chat", v1) not in ws.deployments


def test_deploy_refuses_a_model_not_trained_on_azure(tmp_path):
    from terraml.model_registry import register_version

    backend, _, _ = make(tmp_path, tracking=True)
    register_version(f"sqlite:///{tmp_path / 'mlflow.db'}", "other", "s3://bucket/model.tar.gz")
    with pytest.raises(UserError, match="not trained on Azure ML"):
        backend.deploy("other", "1", "chat")


# ---------------------------------------------------------------- the CLI
def test_cli_train_survives_two_preemptions_and_registers_the_model(tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    (tmp_path / "job.yaml").write_text(nlp_job((ROOT / "examples" / "job.yaml").read_text(), "cli-job"))
    env = {**os.environ, "TERRAML_AZUREML_TRANSPORT": "tests.azure.azure_fake:cli_transport",
           "TERRAML_FAKE_AZURE_SPEC": str(EXAMPLE), "TERRAML_FAKE_AZURE_PREEMPTIONS": "2",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    terraml = os.path.join(os.path.dirname(sys.executable), "terraml")
    done = subprocess.run([terraml, "train", str(tmp_path / "job.yaml"), "--cloud", "azure", "--team", "nlp",
                           "--spec", str(EXAMPLE), "--home", str(tmp_path / "home")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cli-job: completed" in done.stdout and "2 interruption(s), final capacity spot" in done.stdout
    from mlflow import MlflowClient

    versions = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_model_versions("name = 'image-classifier'")
    assert [v.tags["terraml.training_job"] for v in versions] == ["cli-job"]


def test_detached_job_that_ended_unobserved_is_costed_from_azure_timestamps(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, clock=clock, tracking=False, edit=lambda t: mode(t, "on-demand"))
    handle = backend.submit(backend.plan(job))  # train --detach: nobody polls
    clock.t += 600
    fake.finish("j1")  # started now (the fake's clock) ...
    fake.workspaces[WS.lower()].jobs["j1"].ended_at = clock.t + 1800  # ... and ran half an hour
    clock.t += 3600
    final = backend.status(handle)
    od = float(price_row()["on_demand_usd_per_hour"])
    assert final.state == State.COMPLETED and final.training_seconds == pytest.approx(1800, abs=1)
    assert final.cost_usd == pytest.approx(0.5 * od, abs=1e-3) and "StartTimeUtc" in final.details["cost_note"]
    assert final.ended_at == pytest.approx(clock.t - 1800, abs=1)


def test_no_timestamps_and_no_poll_saw_it_running_is_an_unknown_cost_not_zero(tmp_path):
    clock = Clock()
    backend, fake, job = make(tmp_path, clock=clock, tracking=False, timestamps=False,
                              edit=lambda t: mode(t, "on-demand"))
    handle = backend.submit(backend.plan(job))
    fake.finish("j1")
    final = backend.status(handle)
    assert final.state == State.COMPLETED and final.cost_usd is None and final.training_seconds is None
    assert "no running time known" in final.details["cost_note"]


# ---------------------------------------------------------------- guardrails through the listing
def test_listing_gives_live_jobs_their_gpus_and_the_quota_counts_them(tmp_path):
    from terraml.guardrails import check

    backend, fake, job = make(tmp_path, tracking=False)
    handle = backend.submit(backend.plan(job))
    backend.status(handle)
    backend.status(handle)  # Running now
    listed = dict((h.name, s) for h, s in backend.list_jobs())
    assert listed["j1"].state == State.RUNNING and listed["j1"].gpus == 1  # 1 x A100-80GB x 1 instance
    assert listed["j1"].submitted_at is not None
    team = PLATFORM.team("nlp")
    limited = team.model_copy(update={"quotas": team.quotas.model_copy(update={"max_gpus": 1}), "budget": None})
    _, _, second = make(tmp_path, fake=fake, name="j2", tracking=False)
    verdict = check(backend, backend.plan(second), limited, tmp_path / "home")
    refused = verdict.refusals
    assert refused and "j1" in refused[0].refusal and "1 + 1 = 2 > 1" in refused[0].refusal


# ---------------------------------------------------------------- errors
def test_a_racing_second_submit_returns_the_existing_job(tmp_path):
    backend, fake, job = make(tmp_path, tracking=False)
    _, _, other = make(tmp_path, fake=fake, name="j1b", tracking=False,
                       edit=lambda t: t.replace("name: j1b", "name: j1").replace("--epochs 5", "--epochs 9"))
    first = backend.submit(backend.plan(job))
    fake.hidden.add("j1")  # the second submitter's existence check ran before the first one's create
    second = backend.submit(backend.plan(other))
    assert not first.existing and second.existing and second.name == "j1"
    assert "--epochs 5" in fake.workspaces[WS.lower()].jobs["j1"].body["properties"]["command"]


def test_cancel_before_the_fallback_exists_cancels_and_keeps_it_from_starting(tmp_path):
    backend, fake, job = make(tmp_path, tracking=False, no_capacity=True,
                              edit=lambda t: t.replace("register_model: image-classifier", "#"))
    handle = backend.submit(backend.plan(job))
    body = fake.workspaces[WS.lower()].jobs["j1"].body["properties"]
    body["tags"]["terraml:fallback-job"] = "j1-od"  # recorded; terraml stopped before creating j1-od
    backend.cancel(handle)
    status = backend.status(handle)
    assert status.state == State.STOPPED and list(fake.workspaces[WS.lower()].jobs) == ["j1"]


def test_unavailable_credentials_on_submit_name_az_login(tmp_path):
    from azure.identity import CredentialUnavailableError

    from terraml.errors import CredentialsError

    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            raise CredentialUnavailableError("EnvironmentCredential authentication unavailable")

    fake = FakeAzureML()
    fake.seed_team(PLATFORM, "nlp")
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    (tmp_path / "j1.yaml").write_text(nlp_job((ROOT / "examples" / "job.yaml").read_text(), "j1"))
    backend = AzureMLBackend(PLATFORM, load_catalog(), transport=fake.transport(), credential=NoCredential())
    plan = backend.plan(load_job(tmp_path / "j1.yaml", PLATFORM, "azure"))
    with pytest.raises(CredentialsError, match="az login"):
        backend.submit(plan)
    with pytest.raises(CredentialsError, match="az login"):
        backend.list_jobs()


def test_arm_calls_and_canary_metrics_have_bounded_timeouts(tmp_path):
    from terraml.model_registry import register_version

    backend, fake, job = make(tmp_path, tracking=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    for j in ("j1", "j2"):
        register_version(uri, "summ", f"azureml://datastores/workspaceblobstore/paths/terraml/jobs/{j}/model/")
    backend.deploy("summ", "1", "chat")
    metrics, _, _ = backend.canary_controls(backend.deploy("summ", "2", "chat", canary_percent=10))
    fake.set_metrics(deployment_name("summ", "2"), requests_per_minute=100, p99_ms=100)
    metrics.sample()
    backend.submit(backend.plan(job))  # its existence check (the first GET of the job) is an ARM call too
    metric_calls = [t for _, path, t in fake.timeouts if "Microsoft.Insights/metrics" in path]
    exists = next(t for m, path, t in fake.timeouts if m == "GET" and path.endswith("/jobs/j1"))
    assert metric_calls and all(isinstance(t, tuple) and max(t) <= 30 for t in [*metric_calls, exists]), \
        (metric_calls, exists)


# ---------------------------------------------------------------- price rows: the catalog's one caveat rule
def test_job_cost_dates_its_prices_by_the_catalogs_row_caveat():
    import datetime as dt

    from terraml.catalog import VmRow
    from terraml.providers.azure.azureml_jobs import job_cost

    def row(as_of: str, source: str = "Azure Retail Prices API") -> VmRow:
        return VmRow("azure", "eastus", "Standard_NC24ads_A100_v4", "A100-80GB", 1, 24, 220.0, 3.67, 0.9,
                     source, as_of)

    today = dt.date(2026, 12, 1)
    recent = job_cost(3600, 3600, 1, row("2026-10-01 (on-demand); 2026-10-01 (spot)"), source="s", today=today)
    assert "months old" not in recent.note and "as of 2026-10-01" in recent.note  # 2 months: fresh by the catalog
    old = job_cost(3600, 0, 1, row("2026-10-01 (on-demand); ~2024-08-18 (spot)"), source="s", today=today)
    assert "spot price 27 months old (as of ~2024-08-18)" in old.note, old.note
    doubtful = job_cost(0, 60, 1, row("2026-10-01", source="SUSPECT: transcribed by hand"), source="s", today=today)
    assert "doubtful price (SUSPECT: transcribed by hand)" in doubtful.note, doubtful.note


def test_cli_second_detached_train_over_the_gpu_quota_is_refused_naming_the_first(tmp_path):
    """Two CLI processes against one fake service (its state in a file): nlp's quota is 1 GPU, the first
    detached job holds it, the second is refused (exit 2) naming the first."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    doc = yaml.load(EXAMPLE.read_text())
    nlp = next(t for t in doc["teams"] if t["name"] == "nlp")
    nlp["quotas"] = {"max_gpus": 1}
    nlp.pop("budget", None)  # no Cost Management call in this test
    nlp["clouds"].pop("gcp", None)  # the spec check holds every cloud's pools to the quota: keep Azure's only
    for pool in nlp["clouds"]["azure"]["gpu_pools"]:
        pool["max_nodes"] = 1
    spec = tmp_path / "platform.yaml"
    with spec.open("w") as f:
        yaml.dump(doc, f)
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    env = {**os.environ, "TERRAML_AZUREML_TRANSPORT": "tests.azure.azure_fake:cli_transport",
           "TERRAML_FAKE_AZURE_SPEC": str(spec), "TERRAML_FAKE_AZURE_STATE": str(tmp_path / "fake.pickle"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    terraml = os.path.join(os.path.dirname(sys.executable), "terraml")
    results = []
    for name in ("first-job", "second-job"):
        (tmp_path / f"{name}.yaml").write_text(nlp_job((ROOT / "examples" / "job.yaml").read_text(), name))
        results.append(subprocess.run(
            [terraml, "train", str(tmp_path / f"{name}.yaml"), "--cloud", "azure", "--team", "nlp", "--detach",
             "--spec", str(spec), "--home", str(tmp_path / "home")],
            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT))
    first, second = results
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 2, second.stdout + second.stderr
    assert "first-job" in second.stdout + second.stderr and "quotas.max_gpus" in second.stdout + second.stderr
