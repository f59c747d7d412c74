"""`terraml train --cloud gcp` end to end: the installed CLI in its own process, the real SDK over REST, the local
stand-in for Vertex AI, Cloud Storage and Cloud Logging (tests/gcp/vertex_server.py), MLflow in a sqlite file.

What is real: the CLI, the plan, the spot decision, every request (CustomJob bodies, the create-only code
upload, the list and log calls), the resubmissions after the injected preemptions, and the MLflow
registration. What is not: no container runs. The stand-in plays the trainer against Cloud Storage: each
attempt records the checkpoint it found under its TERRAML_CHECKPOINT_DIR (the resume point) and writes one
further; the assertions read those records."""

from __future__ import annotations

import os
import shutil
import subprocess

from terraml.providers.gcp.names import GcpNames

from ..conftest import EXAMPLE, ROOT
from .vertex_server import serve

TERRAML = str(ROOT / ".venv" / "bin" / "terraml")


def _example_job_for_gcp(tmp_path):
    """examples/job.yaml unchanged beside a copy of its trainer (source_dir is relative to the job file)."""
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")
    return tmp_path / "job.yaml"


def _job(tmp_path, accelerator="L4"):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    text = (ROOT / "examples" / "job.yaml").read_text().replace("accelerator: A10G", f"accelerator: {accelerator}")
    (tmp_path / "job.yaml").write_text(text)  # the example as it is, but for the GPU; --team nlp moves it
    return tmp_path / "job.yaml"


def _terraml(tmp_path, endpoint, *args):
    env = {**os.environ, "TERRAML_VERTEX_API_ENDPOINT": endpoint,
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "COLUMNS": "200"}
    return subprocess.run([TERRAML, *args, "--spec", str(EXAMPLE), "--home", str(tmp_path / "home")],
                          capture_output=True, text=True, env=env, timeout=300)


def test_train_through_two_preemptions_resumes_and_registers(tmp_path, example_spec):
    platform = example_spec.platform
    names = GcpNames.for_team(platform, platform.team("nlp"))
    with serve() as (url, fake):
        fake.add_bucket(names.artifact_bucket)
        fake.preempt(2)
        # The example job as it is: --team moves it to a team with a GCP environment, --accelerator replaces
        # its A10G (an AWS GPU) with the L4 that GCP offers.
        run = _terraml(tmp_path, url, "train", str(_example_job_for_gcp(tmp_path)), "--cloud", "gcp", "--team", "nlp",
                       "--accelerator", "L4")
        assert run.returncode == 0, run.stdout + run.stderr
        jobs = sorted(fake.created_jobs(), key=lambda j: j["createTime"])
    assert [j["displayName"] for j in jobs] == ["image-classifier", "image-classifier-r2", "image-classifier-r3"]
    assert [j["_resumed_from"] and j["_resumed_from"]["epoch"] for j in jobs] == [None, 1, 2]
    assert "image-classifier: completed" in run.stdout
    assert "2 interruption(s), final capacity spot" in run.stdout
    assert "[image-classifier-r3] resuming from checkpoint after epoch 2" in run.stdout
    from mlflow import MlflowClient

    [version] = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_model_versions("name = 'image-classifier'")
    assert version.source == f"gs://{names.artifact_bucket}/jobs/image-classifier/model"


def test_dry_run_prints_the_request_decision_and_cost_and_calls_nothing(tmp_path):
    run = _terraml(tmp_path, "http://127.0.0.1:9", "train", str(_job(tmp_path)), "--cloud", "gcp", "--team", "nlp",
                   "--dry-run")  # port 9 is closed: any call would fail the command
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"strategy": "SPOT"' in run.stdout and '"acceleratorType": "NVIDIA_L4"' in run.stdout
    assert "auto: spot first" in run.stdout and "expected $1.44" in run.stdout  # 4 h x $0.36122
    assert "dry run: nothing submitted" in run.stdout


def test_the_examples_a10g_is_refused_on_gcp_with_the_field_and_the_nearest_fit(tmp_path):
    run = _terraml(tmp_path, "http://127.0.0.1:9", "train", str(_job(tmp_path, "A10G")), "--cloud", "gcp", "--team",
                   "nlp", "--dry-run")
    assert run.returncode == 2
    text = run.stdout + run.stderr
    assert "resources.accelerator" in text and "nearest fit is 'L4'" in text and "Traceback" not in text


def test_deploy_canary_with_a_forced_breach_rolls_back_through_the_cli(tmp_path, example_spec):
    """`terraml deploy --canary 10` as a user runs it: the rollout watcher reads the canary's metrics from
    the stand-in's Cloud Monitoring API (5 errors in 100 responses, above the spec's default 1%), sends all
    traffic back to the previous version, undeploys the canary and exits 1."""
    from .test_vertex_serving import stack_endpoint, two_trained_versions

    platform = example_spec.platform
    names = GcpNames.for_team(platform, platform.team("nlp"))
    two_trained_versions(f"sqlite:///{tmp_path / 'mlflow.db'}", names)  # the tracking URI _terraml passes
    with serve() as (url, fake):
        name = stack_endpoint(fake, names)
        first = _terraml(tmp_path, url, "deploy", "summarizer-model", "--version", "1", "--endpoint", "summarizer",
                         "--cloud", "gcp")
        assert first.returncode == 0, first.stdout + first.stderr
        ep = fake.endpoints[name]
        [v1] = [d["id"] for d in ep["deployedModels"]]
        base = "aiplatform.googleapis.com/prediction/online/"
        fake.metrics = {base + "error_count": {"*": [5]}, base + "response_count": {"*": [100]},
                        base + "prediction_latencies": {"*": [120.0]}}
        canary = _terraml(tmp_path, url, "deploy", "summarizer-model", "--version", "2", "--endpoint", "summarizer",
                          "--cloud", "gcp", "--canary", "10")
        split, deployed = dict(ep["trafficSplit"]), [d["id"] for d in ep["deployedModels"]]
    text = " ".join((canary.stdout + canary.stderr).split())
    assert canary.returncode == 1, canary.stdout + canary.stderr
    assert "breach: canary error rate 5.00% over 100 request(s)" in text, text
    assert "rolled back summarizer-model v2" in text and "all traffic is on the previous version" in text, text
    assert split == {v1: 100} and deployed == [v1]


def test_the_gpu_quota_counts_a_live_vertex_job_and_refuses_a_second_naming_it(tmp_path, example_spec):
    """quotas.max_gpus 16 for nlp (a copy of the example spec; its GPU pools scale to 16, the least the spec
    allows): the first job (2 x 8 L4) holds all 16 while queued; the second (one L4) is refused at submit
    (exit 2) with the first named, and nothing more is created."""
    text = EXAMPLE.read_text()
    spec = tmp_path / "platform.yaml"
    spec.write_text(text.replace("  - name: nlp\n", "  - name: nlp\n    quotas: {max_gpus: 16}\n", 1))
    assert spec.read_text() != text
    names = GcpNames.for_team(example_spec.platform, example_spec.platform.team("nlp"))
    second = _job(tmp_path).rename(tmp_path / "second.yaml")
    second.write_text(second.read_text().replace("name: image-classifier", "name: second-job"))
    job = tmp_path / "job.yaml"
    job.write_text(second.read_text().replace("name: second-job", "name: image-classifier")
                   .replace("accelerator_count: 1", "accelerator_count: 8")
                   .replace("instance_count: 1", "instance_count: 2"))
    env = {**os.environ, "COLUMNS": "200", "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    with serve() as (url, fake):
        fake.add_bucket(names.artifact_bucket)
        fake.hold = True  # the first job stays queued
        env["TERRAML_VERTEX_API_ENDPOINT"] = url
        runs = [subprocess.run([TERRAML, "train", str(path), "--cloud", "gcp", "--team", "nlp", "--accelerator", "L4",
                                "--detach", "--spec", str(spec), "--home", str(tmp_path / "home")],
                               capture_output=True, text=True, env=env, timeout=300) for path in (job, second)]
        created = [j["displayName"] for j in fake.created_jobs()]
    assert runs[0].returncode == 0, runs[0].stdout + runs[0].stderr
    out = " ".join((runs[1].stdout + runs[1].stderr).split())
    assert runs[1].returncode == 2, out
    assert "image-classifier" in out and "quotas.max_gpus" in out and "Traceback" not in out, out
    assert "16 held" in out and created == ["image-classifier"]
