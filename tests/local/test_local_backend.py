"""The local backend end to end: real processes, real SIGTERMs, a real MLflow server and scoring server."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from mlflow import MlflowClient

from terraml.backend import State
from terraml.providers.local.backend import LocalBackend
from terraml.spec.job_loader import load_job

from ..conftest import EXAMPLE, ROOT, tool_env


def job_file(tmp_path, name: str, epochs: int = 3, mode: str = "auto") -> str:
    """The reference job, renamed and shortened (3 epochs) for the test."""
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train", dirs_exist_ok=True)
    text = (ROOT / "examples" / "job.yaml").read_text()
    text = text.replace("name: image-classifier", f"name: {name}").replace("--epochs 5", f"--epochs {epochs}")
    if mode != "auto":
        text = text.replace("mode: auto ", f"mode: {mode} ").replace("  max_interruptions: 3", "") \
            .replace("  max_price_ratio: 0.7", "")
    if mode == "on-demand":
        text = text.replace("  max_wait_hours: 8", "")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("terraml-home")


@pytest.fixture(scope="module")
def backend(home, mlflow_server):
    return LocalBackend(home, tracking_uri=mlflow_server)


@pytest.fixture(scope="module")
def runs(backend, example_spec, tmp_path_factory):
    """The same job run twice: once untouched, once with two simulated spot reclaims."""
    tmp = tmp_path_factory.mktemp("jobs")
    plain = backend.submit(backend.plan(load_job(job_file(tmp, "plain"), example_spec.platform, "local")))
    interrupted = backend.submit(backend.plan(load_job(job_file(tmp, "reclaimed"), example_spec.platform, "local")),
                                 simulate_interruptions=2)
    return {"plain": (plain, backend.wait(plain, timeout_s=300)),
            "reclaimed": (interrupted, backend.wait(interrupted, timeout_s=300))}


def test_interrupted_run_resumes_and_ends_like_an_uninterrupted_one(runs, backend):
    (_, plain), (_, reclaimed) = runs["plain"], runs["reclaimed"]
    assert plain.state == reclaimed.state == State.COMPLETED
    assert (plain.interruptions, reclaimed.interruptions) == (0, 2)
    logs = "\n".join(backend.logs(runs["reclaimed"][0]))
    assert logs.count("simulated SIGTERM") == 2
    assert logs.count("resuming from checkpoint after epoch") == 2
    a = pickle.loads((backend.store.paths("plain").checkpoints / "checkpoint.pkl").read_bytes())["model"]
    b = pickle.loads((backend.store.paths("reclaimed").checkpoints / "checkpoint.pkl").read_bytes())["model"]
    assert all(np.array_equal(x, y) for x, y in zip(a.coefs_, b.coefs_, strict=True))


def test_run_is_recorded_and_registered_in_mlflow(runs, mlflow_server):
    handle, status = runs["reclaimed"]
    client = MlflowClient(tracking_uri=mlflow_server)
    run = client.get_run(status.details["mlflow_run_id"])
    assert run.data.params["hp.lr"] == "0.001" and run.data.params["interruptions"] == "2"
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2, 3]  # each epoch once, though two were cut short
    versions = client.search_model_versions("name = 'image-classifier'")
    assert status.model_version in {v.version for v in versions}


def test_status_and_logs_work_from_a_new_process(runs, home, mlflow_server):
    env = {**tool_env(), "TERRAML_HOME": str(home), "MLFLOW_TRACKING_URI": mlflow_server}
    status = subprocess.run([sys.executable, "-m", "terraml.cli", "jobs", "status", "reclaimed", "--cloud", "local"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "reclaimed: completed after 2 interruption(s)" in status.stdout
    assert "2 interruption(s), final capacity spot" in status.stdout
    logs = subprocess.run([sys.executable, "-m", "terraml.cli", "jobs", "logs", "reclaimed"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert "epoch 3/3" in logs.stdout


def test_same_job_name_twice_creates_one_job(runs, backend, example_spec, tmp_path, mlflow_server):
    again = backend.submit(backend.plan(load_job(job_file(tmp_path, "plain"), example_spec.platform, "local")))
    assert again.existing
    runs_named = MlflowClient(tracking_uri=mlflow_server).search_runs(
        [e.experiment_id for e in MlflowClient(tracking_uri=mlflow_server).search_experiments()],
        filter_string="tags.`terraml.job` = 'plain'")
    assert len(runs_named) == 1


def test_cancel_stops_a_running_job(backend, example_spec, tmp_path):
    job = load_job(job_file(tmp_path, "to-cancel", epochs=50), example_spec.platform, "local")
    handle = backend.submit(backend.plan(job))
    deadline = time.monotonic() + 60
    while backend.status(handle).state != State.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
    backend.cancel(handle)
    final = backend.wait(handle, timeout_s=60)
    assert final.state == State.STOPPED and final.message == "cancelled"
    child = backend.store.read("to-cancel").get("child_pid")
    assert child is None


def test_auto_finishes_on_on_demand_after_max_interruptions(backend, example_spec, tmp_path):
    path = job_file(tmp_path, "fallback", epochs=4)
    text = open(path).read().replace("max_interruptions: 3", "max_interruptions: 1")
    open(path, "w").write(text)
    handle = backend.submit(backend.plan(load_job(path, example_spec.platform, "local")), simulate_interruptions=3)
    final = backend.wait(handle, timeout_s=300)
    assert final.state == State.COMPLETED
    assert (final.interruptions, final.capacity) == (1, "on-demand")  # no reclaims once on on-demand
    assert "1 interruptions reached max_interruptions 1" in "\n".join(backend.logs(handle))


def test_simulated_interruptions_need_spot(backend, example_spec, tmp_path):
    from terraml.errors import UserError

    job = load_job(job_file(tmp_path, "od", mode="on-demand"), example_spec.platform, "local")
    assert job.spot.mode == "on-demand"
    with pytest.raises(UserError, match="never interrupted"):
        backend.submit(backend.plan(job), simulate_interruptions=1)


def test_deploy_serves_the_registered_model_and_predicts(runs, backend):
    from sklearn.datasets import load_digits

    _, status = runs["reclaimed"]
    deployment = backend.deploy("image-classifier", status.model_version, "classifier")
    try:
        x, y = load_digits(return_X_y=True)
        answer = backend.invoke("classifier", {"inputs": (x[:20] / 16.0).tolist()})
        assert np.mean(np.array(answer["predictions"]) == y[:20]) >= 0.9
        assert deployment.url.startswith("http://127.0.0.1:")
        [listed] = backend.list_endpoints()
        assert (listed.endpoint, listed.state, listed.model, listed.version, listed.url) == \
            ("classifier", "serving", "image-classifier", status.model_version, deployment.url)
    finally:
        assert backend.undeploy("classifier")
    assert not backend.undeploy("classifier")  # nothing left to stop
    assert backend.list_endpoints() == []


def test_train_cli_end_to_end(tmp_path, mlflow_server):
    env = {**tool_env(), "TERRAML_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": mlflow_server}
    result = subprocess.run([sys.executable, "-m", "terraml.cli", "train", job_file(tmp_path, "cli-job", epochs=2),
                             "--cloud", "local", "--simulate-interruptions", "1", "--spec", str(EXAMPLE)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "capacity spot: auto: spot first" in out
    assert "cli-job: completed after 1 interruption(s); registered image-classifier version" in out
    assert "1 interruption(s), final capacity spot" in out
    record = json.loads((tmp_path / "home" / "jobs" / "cli-job" / "record.json").read_text())
    assert record["state"] == "completed" and record["billable_seconds"] <= record["training_seconds"]
