"""The Vertex AI backend, driven through the real google-cloud-aiplatform SDK (GAPIC over REST) and the Storage,
Logging and Monitoring JSON APIs against the local stand-in (tests/gcp/vertex_server.py). Preemptions and
stockouts are injected there; expected prices are worked out here by hand from the catalog rows quoted."""

from __future__ import annotations

import shutil
import threading

import pytest

from terraml.backend import BudgetOverride, State
from terraml.catalog import load_catalog
from terraml.errors import CredentialsError, SpecError
from terraml.providers.gcp.names import GcpNames
from terraml.providers.gcp.vertex import VertexBackend
from terraml.spec.job_loader import load_job

from ..conftest import ROOT
from .fake import gcp_job_text, job_backend

# vm_prices.csv: gcp,us-central1,g2-standard-4,L4,1,4,16,0.70683,0.36122 (standard, spot $/h); there is no
# Vertex AI custom training row for g2-standard-4, so the backend prices it from the Compute Engine row.
STANDARD, SPOT = 0.70683, 0.36122


def write_job(tmp_path, name="vx-job"):
    text = gcp_job_text(name)
    path = tmp_path / f"{name}.yaml"
    if not (tmp_path / "train").exists():
        shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    path.write_text(text)
    return path


@pytest.fixture
def vertex(tmp_path, example_spec):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with job_backend(tmp_path, example_spec.platform, tracking_uri=tracking) as (backend, _):
        yield backend, backend.fake, example_spec.platform


def run(backend, platform, path):
    job = load_job(path, platform, "gcp")
    handle = backend.submit(backend.plan(job))
    return handle, backend.wait(handle, timeout_s=120, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)


def test_plan_is_the_request_the_decision_and_the_cost_without_a_network_call(tmp_path, example_spec):
    backend = VertexBackend(example_spec.platform, load_catalog(), api_endpoint="http://127.0.0.1:9")  # closed port
    plan = backend.plan(load_job(write_job(tmp_path), example_spec.platform, "gcp"))
    names = GcpNames.for_team(example_spec.platform, example_spec.platform.team("nlp"))
    req = plan.request
    pool = req["jobSpec"]["workerPoolSpecs"][0]
    # the cheapest machine with one L4 in us-central1 (g2-standard-4 at $0.70683/h; g2-standard-8 is $0.85362/h)
    assert pool["machineSpec"] == {"machineType": "g2-standard-4", "acceleratorType": "NVIDIA_L4",
                                   "acceleratorCount": 1}
    # auto, spot/on-demand = 0.36122/0.70683 = 51% < max_price_ratio 70%: spot first
    assert plan.decision.capacity == "spot" and req["jobSpec"]["scheduling"] == {"timeout": "14400s",
                                                                                  "strategy": "SPOT"}
    env = {e["name"]: e["value"] for e in pool["containerSpec"]["env"]}
    assert env["TERRAML_CHECKPOINT_DIR"] == f"/gcs/{names.artifact_bucket}/jobs/vx-job/checkpoints"
    assert env["TERRAML_MODEL_DIR"] == f"/gcs/{names.artifact_bucket}/jobs/vx-job/model"
    assert {"TERRAML_JOB_NAME", "TERRAML_TEAM", "TERRAML_METRICS_FILE", "TERRAML_HYPERPARAMETERS",
            "TERRAML_CAPACITY"} <= set(env)
    assert pool["containerSpec"]["command"][-4:] == ["python", "train.py", "--epochs", "5"]
    assert req["jobSpec"]["serviceAccount"] == (f"{names.training_service_account}@acme-nlp-prod"
                                                ".iam.gserviceaccount.com")
    assert req["labels"]["team"] == "nlp" and req["labels"]["cost-center"] == "cc-2077"
    assert req["labels"]["terraml-job"] == "vx-job" and req["labels"]["terraml-spot-mode"] == "auto"
    # expected: 4 h x $0.36122 spot; worst: 4 h spot then all of it again at $0.70683 standard
    assert plan.estimate.expected_usd == round(4 * SPOT, 2)
    assert plan.estimate.worst_usd == round(4 * SPOT + 4 * STANDARD, 2)
    assert "Compute Engine" in plan.estimate.explain
    assert any("max_wait_hours 8" in n and "terraml enforces it" in n for n in plan.notes)


def test_an_accelerator_gcp_does_not_offer_names_the_field_and_the_nearest_fit(tmp_path, example_spec):
    backend = VertexBackend(example_spec.platform, load_catalog(), api_endpoint="http://127.0.0.1:9")
    path = write_job(tmp_path)
    path.write_text(path.read_text().replace("accelerator: L4", "accelerator: A10G"))
    with pytest.raises(SpecError) as caught:
        backend.plan(load_job(path, example_spec.platform, "gcp"))
    text = str(caught.value)
    assert "resources.accelerator" in text and "'A10G' is not offered by GCP" in text
    assert "nearest fit is 'L4'" in text and "GCP offers there:" in text and "A100-80GB" in text


def test_two_preemptions_resume_from_the_checkpoint_and_register_once(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.preempt(2)
    handle, final = run(backend, platform, write_job(tmp_path))
    assert final.state == State.COMPLETED, final.message
    jobs = sorted(fake.created_jobs(), key=lambda j: j["createTime"])
    assert [j["displayName"] for j in jobs] == ["vx-job", "vx-job-r2", "vx-job-r3"]
    assert [j["jobSpec"]["scheduling"]["strategy"] for j in jobs] == [4, 4, 4]  # SPOT, sent as an int enum
    # every attempt got the same checkpoint folder, and each found the checkpoint the one before wrote
    assert len({j["_env_seen"]["TERRAML_CHECKPOINT_DIR"] for j in jobs}) == 1
    assert [j["_resumed_from"] and j["_resumed_from"]["epoch"] for j in jobs] == [None, 1, 2]
    assert [j["_env_seen"]["TERRAML_ATTEMPT"] for j in jobs] == ["1", "2", "3"]
    assert final.interruptions == 2 and final.capacity == "spot"
    # billed: 300 s + 300 s (preempted attempts) + 600 s, all on spot
    assert final.billable_seconds == 1200
    assert final.cost_usd == round(1200 * SPOT / 3600, 4)
    assert final.savings_percent == round((1 - SPOT / STANDARD) * 100, 1)
    assert "Compute Engine" in final.details["cost_note"]
    assert final.submitted_at and final.ended_at and final.ended_at > final.submitted_at and final.gpus == 0
    assert final.model_version == "1"
    again = backend.status(handle)
    assert again.model_version == "1"  # registered once
    from mlflow import MlflowClient

    versions = MlflowClient(backend.tracking_uri).search_model_versions("name = 'image-classifier'")
    assert len(versions) == 1
    names = GcpNames.for_team(platform, platform.team("nlp"))
    assert versions[0].source == f"gs://{names.artifact_bucket}/jobs/vx-job/model"
    assert versions[0].tags["terraml.training_job"] == "vx-job"
    assert versions[0].tags["terraml.image"].startswith("us-docker.pkg.dev/vertex-ai/prediction/pytorch-gpu.2-5")
    logs = list(backend.logs(handle))
    assert "[vx-job-r2] resuming from checkpoint after epoch 1" in logs
    assert [h.name for h, _ in backend.list_jobs()] == ["vx-job"]  # one submission, three attempts


def test_auto_finishes_on_standard_after_max_interruptions_and_creates_one_retry(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.preempt(10)  # spot would never finish
    path = write_job(tmp_path)
    path.write_text(path.read_text().replace("max_interruptions: 3", "max_interruptions: 1"))
    handle, final = run(backend, platform, path)
    assert final.state == State.COMPLETED, final.message
    jobs = sorted(fake.created_jobs(), key=lambda j: j["createTime"])
    assert [j["displayName"] for j in jobs] == ["vx-job", "vx-job-od"]
    assert jobs[1]["jobSpec"]["scheduling"]["strategy"] == 3  # STANDARD
    assert jobs[1]["_env_seen"]["TERRAML_CAPACITY"] == "on-demand" and jobs[1]["_resumed_from"]["epoch"] == 1
    assert final.capacity == "on-demand" and final.interruptions == 1
    assert final.cost_usd == round(300 * SPOT / 3600 + 600 * STANDARD / 3600, 4)
    for _ in range(3):
        backend.status(handle)
    assert len(fake.created_jobs()) == 2


def test_a_stockout_sends_auto_to_standard_at_once(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.stockout(1)
    _, final = run(backend, platform, write_job(tmp_path))
    jobs = sorted(fake.created_jobs(), key=lambda j: j["createTime"])
    assert [j["displayName"] for j in jobs] == ["vx-job", "vx-job-od"] and "startTime" not in jobs[0]
    assert final.state == State.COMPLETED and final.interruptions == 0 and final.capacity == "on-demand"


def test_spot_never_falls_back_and_gives_up_at_max_wait(vertex, tmp_path):
    backend, fake, platform = vertex
    now = [0.0]
    backend.clock = lambda: now[0]
    fake.preempt(100)
    path = write_job(tmp_path)
    lines = path.read_text().replace("mode: auto", "mode: spot").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.lstrip().startswith(("max_interruptions", "max_price_ratio"))))
    job = load_job(path, platform, "gcp")
    handle = backend.submit(backend.plan(job))
    import time

    now[0] = time.time()
    for _ in range(6):
        status = backend.status(handle)
    assert all(j["jobSpec"]["scheduling"]["strategy"] == 4 for j in fake.created_jobs())
    assert not any(j["displayName"].endswith("-od") for j in fake.created_jobs())
    assert status.state in (State.INTERRUPTED, State.RUNNING, State.PENDING) and status.interruptions >= 2
    now[0] += 8 * 3600 + 1  # past max_wait_hours 8
    final = backend.wait(handle, timeout_s=60, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)
    assert final.state == State.FAILED and "max_wait_hours 8" in final.message
    assert not any(j["state"] in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING") for j in fake.created_jobs())


def test_concurrent_pollers_start_one_retry_never_two(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.preempt(1)
    job = load_job(write_job(tmp_path), platform, "gcp")
    handle = backend.submit(backend.plan(job))
    backend.status(handle)  # running
    with fake.lock:  # the attempt is preempted on the next poll; four pollers see it at once
        pollers = [VertexBackend(platform, load_catalog(), api_endpoint=backend.api_endpoint) for _ in range(4)]
    threads = [threading.Thread(target=p.status, args=(handle,)) for p in pollers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = [j["displayName"] for j in fake.created_jobs()]
    assert names.count("vx-job-r2") == 1 and len(names) == 2


def test_budget_override_is_kept_in_the_job_labels(vertex, tmp_path):
    backend, fake, platform = vertex
    job = load_job(write_job(tmp_path), platform, "gcp")
    plan = backend.plan(job, override=BudgetOverride(by="Ana@Acme.example", reason="Deadline: Q4 demo", at=1.8e9))
    handle = backend.submit(plan)
    assert backend.status(handle).details["override"] == {"by": "ana_acme_example", "reason": "deadline__q4_demo",
                                                          "at": 1.8e9}
    labels = fake.created_jobs()[0]["labels"]
    assert labels["terraml-override-by"] == "ana_acme_example"
    assert labels["terraml-override-reason"] == "deadline__q4_demo" and labels["terraml-override-at"] == "1800000000"
    meta = next(o for (b, n), o in fake.objects.items() if n == "jobs/vx-job/code.tar.gz")["metadata"]
    assert meta["override-by"] == "Ana@Acme.example" and meta["override-reason"] == "Deadline: Q4 demo"


def test_cancel_stops_the_live_attempt(vertex, tmp_path):
    backend, fake, platform = vertex
    handle = backend.submit(backend.plan(load_job(write_job(tmp_path), platform, "gcp")))
    assert backend.status(handle).gpus == 1  # running: holds one L4
    fake.hold = True
    backend.cancel(handle)
    fake.hold = False
    assert fake.calls("POST", ":cancel")
    final = backend.wait(handle, timeout_s=30, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)
    assert final.state == State.STOPPED


def test_missing_credentials_name_the_login_command(tmp_path, example_spec, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    backend = VertexBackend(example_spec.platform, load_catalog())
    with pytest.raises(CredentialsError, match="gcloud auth application-default login"):
        backend.credentials()


def test_list_jobs_counts_the_gpus_of_a_pending_job_from_the_list_call_alone(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.hold = True  # the job stays pending
    backend.submit(backend.plan(load_job(write_job(tmp_path), platform, "gcp")))
    before = len(fake.requests)
    [(handle, status)] = backend.list_jobs().jobs
    assert handle.name == "vx-job" and status.state == State.PENDING
    assert status.gpus == 1  # g2-standard-4: one L4 x one replica
    assert status.submitted_at and status.capacity == "spot"
    assert [r[1].rsplit("/", 1)[-1] for r in fake.requests[before:]] == ["customJobs"]  # one list call, no gets


def _past_the_wait(backend):
    import time

    now = [time.time()]
    backend.clock = lambda: now[0]
    return now


def test_auto_still_queued_on_spot_at_max_wait_falls_back_to_one_on_demand_attempt(vertex, tmp_path):
    backend, fake, platform = vertex
    now = _past_the_wait(backend)
    handle = backend.submit(backend.plan(load_job(write_job(tmp_path), platform, "gcp")))
    fake.hold = True  # no spot capacity: the attempt stays queued
    assert backend.status(handle).state == State.PENDING
    now[0] += 8 * 3600 + 1  # past max_wait_hours 8
    status = backend.status(handle)
    assert status.state == State.WAITING_FOR_CAPACITY and "max_wait_hours 8" in status.message, status.message
    assert "auto: no spot capacity (or the spot wait ran out)" in status.message
    jobs = sorted(fake.created_jobs(), key=lambda j: j["createTime"])
    assert [j["displayName"] for j in jobs] == ["vx-job", "vx-job-od"]
    assert jobs[0]["state"] == "JOB_STATE_CANCELLING" and jobs[1]["jobSpec"]["scheduling"]["strategy"] == 3
    cancels = len(fake.calls("POST", ":cancel"))
    fake.hold = False
    final = backend.wait(handle, timeout_s=60, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)
    assert final.state == State.COMPLETED and final.capacity == "on-demand", final.message
    assert len(fake.created_jobs()) == 2 and len(fake.calls("POST", ":cancel")) == cancels == 1


def test_auto_preempted_past_max_wait_falls_back_to_on_demand(vertex, tmp_path):
    backend, fake, platform = vertex
    now = _past_the_wait(backend)
    fake.preempt(1)
    handle = backend.submit(backend.plan(load_job(write_job(tmp_path), platform, "gcp")))
    backend.status(handle)  # running
    now[0] += 8 * 3600 + 1
    status = backend.status(handle)  # preempted, past the wait
    names = [j["displayName"] for j in sorted(fake.created_jobs(), key=lambda j: j["createTime"])]
    assert names == ["vx-job", "vx-job-od"] and status.state != State.FAILED, status.message
    final = backend.wait(handle, timeout_s=60, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)
    assert final.state == State.COMPLETED and final.capacity == "on-demand" and final.interruptions == 1


class _RefusedRefresh:
    """google.auth credentials whose refresh is refused, as an expired ADC login is (no network)."""

    def __new__(cls):
        from google.auth import credentials
        from google.auth.exceptions import RefreshError

        class Refused(credentials.Credentials):
            def refresh(self, request):
                raise RefreshError("invalid_grant: Token has been expired or revoked.")

        return Refused()


def _json_api_calls(backend):
    """Every Cloud Storage, Logging and Monitoring call the backend makes, each as a thunk."""
    from terraml.providers.gcp.vertex_serving import MonitoringCanaryMetrics, Where

    w = Where(None, None, "acme-nlp-prod", "us-central1", "projects/acme-nlp-prod/locations/us-central1/endpoints/1",
              "ep", "sa")
    return {"gcs_create": lambda: backend.gcs_create("b", "o", b"x"), "gcs_get": lambda: backend.gcs_get("b", "o"),
            "metrics": lambda: MonitoringCanaryMetrics(backend, w, "7").sample()}


def test_refused_credentials_on_storage_logging_and_monitoring_name_the_login(example_spec):
    backend = VertexBackend(example_spec.platform, load_catalog(), credentials=_RefusedRefresh())
    for call in _json_api_calls(backend).values():
        with pytest.raises(CredentialsError, match="gcloud auth application-default login"):
            call()


def test_unreachable_or_silent_google_apis_are_provider_errors(tmp_path, example_spec):
    import socket

    from terraml.errors import ProviderError

    backend = VertexBackend(example_spec.platform, load_catalog(), api_endpoint="http://127.0.0.1:9")  # closed
    for call in _json_api_calls(backend).values():
        with pytest.raises(ProviderError):
            call()
    with pytest.raises(ProviderError, match="Cloud Storage upload"):
        backend.submit(backend.plan(load_job(write_job(tmp_path), example_spec.platform, "gcp")))
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        backend = VertexBackend(example_spec.platform, load_catalog(),
                                api_endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}", http_timeout_s=0.5)
        for call in _json_api_calls(backend).values():  # each gives up after its timeout instead of hanging
            with pytest.raises(ProviderError, match="timed out"):
                call()


def test_a_rerun_after_a_failed_create_runs_the_new_code_not_the_old_bundle(vertex, tmp_path):
    from terraml.errors import ProviderError
    from terraml.providers.gcp.vertex import source_bundle

    backend, fake, platform = vertex
    path = write_job(tmp_path)
    fake.fail_create = 1  # the first submit writes the bundle, then its CreateCustomJob fails
    with pytest.raises(ProviderError, match="CreateCustomJob"):
        backend.submit(backend.plan(load_job(path, platform, "gcp")))
    assert not fake.created_jobs()
    (tmp_path / "train" / "train.py").write_text((tmp_path / "train" / "train.py").read_text() + "\n# fixed\n")
    handle = backend.submit(backend.plan(load_job(path, platform, "gcp")))
    assert not handle.existing and [j["displayName"] for j in fake.created_jobs()] == ["vx-job"]
    [bundle] = [o for (_, n), o in fake.objects.items() if n == "jobs/vx-job/code.tar.gz"]
    assert bundle["data"] == source_bundle(tmp_path / "train")  # the rerun's code, not the first one's
    again = backend.submit(backend.plan(load_job(path, platform, "gcp")))
    assert again.existing and len(fake.created_jobs()) == 1


def test_a_submit_that_finds_another_submits_claim_creates_nothing(vertex, tmp_path):
    backend, fake, platform = vertex
    names = GcpNames.for_team(platform, platform.team("nlp"))
    plan = backend.plan(load_job(write_job(tmp_path), platform, "gcp"))
    # submit A has written the bundle and claimed attempt 1; its CreateCustomJob is in flight
    fake._put(names.artifact_bucket, "jobs/vx-job/code.tar.gz", plan.bundle, {"bundle-digest": "other"})
    fake._put(names.artifact_bucket, "jobs/vx-job/attempts/1", b"{}")
    handle = backend.submit(plan)  # submit B
    assert handle.existing and not fake.created_jobs()
    assert fake.objects[(names.artifact_bucket, "jobs/vx-job/code.tar.gz")]["metadata"] == {"bundle-digest": "other"}


def test_cancel_between_attempts_stops_the_chain(vertex, tmp_path):
    backend, fake, platform = vertex
    fake.preempt(1)
    handle = backend.submit(backend.plan(load_job(write_job(tmp_path), platform, "gcp")))
    assert backend.status(handle).state == State.RUNNING
    with fake.lock:  # preempted; no poll has resubmitted yet
        [first] = fake.created_jobs()
        fake._advance(first)
    assert first["state"] == "JOB_STATE_FAILED"
    backend.cancel(handle)
    final = backend.wait(handle, timeout_s=30, first_poll_s=0, max_poll_s=0, sleep=lambda s: None)
    assert final.state == State.STOPPED and "between attempts" in final.message, final.message
    assert [j["displayName"] for j in fake.created_jobs()] == ["vx-job"] and final.gpus == 0


def test_a_t4_runs_on_the_smallest_n1_host_priced_as_host_plus_gpu(tmp_path, example_spec):
    # vm_prices.csv, us-central1: n1-standard-4 $0.19/h ($0.06382 spot); gpu-only T4 x1 $0.35/h ($0.1915 spot)
    backend = VertexBackend(example_spec.platform, load_catalog(), api_endpoint="http://127.0.0.1:9")
    path = write_job(tmp_path)
    path.write_text(path.read_text().replace("accelerator: L4", "accelerator: T4"))
    plan = backend.plan(load_job(path, example_spec.platform, "gcp"))
    pool = plan.request["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {"machineType": "n1-standard-4", "acceleratorType": "NVIDIA_TESLA_T4",
                                   "acceleratorCount": 1}
    assert plan.estimate.expected_usd == round(4 * (0.06382 + 0.1915), 2)
    assert plan.gpus == 1
