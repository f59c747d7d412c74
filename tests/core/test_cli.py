"""The terraml CLI as a user runs it: exit codes, messages without tracebacks, spec resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from terraml.spec import resolve_spec_path

from ..conftest import EXAMPLE, ROOT, SHARED_EXAMPLES, tool_env

TERRAML = [sys.executable, "-m", "terraml.cli"]


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([*TERRAML, *args], cwd=cwd, env={**tool_env(), **(env or {})}, capture_output=True,
                          text=True, timeout=300)


def test_validate_ok():
    result = run("validate", str(EXAMPLE))
    assert result.returncode == 0
    assert "is valid: 3 teams, 4 stacks (4 synthesized, 0 not yet supported)" in result.stdout


def test_reference_examples_load_unchanged():
    if SHARED_EXAMPLES.exists():
        assert EXAMPLE.read_text() == (SHARED_EXAMPLES / "platform.yaml").read_text()
        assert (ROOT / "examples" / "job.yaml").read_text() == (SHARED_EXAMPLES / "job.yaml").read_text()
    assert run("validate", str(EXAMPLE)).returncode == 0


def test_invalid_spec_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "platform.yaml"
    bad.write_text(EXAMPLE.read_text().replace("instance_type: g5.2xlarge ", "instance_type: g5.2xlarg  "))
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert ("teams[0].clouds.aws.gpu_pools[0].instance_type: 'g5.2xlarg' is not an instance type in us-east-1; "
            "did you mean 'g5.2xlarge'?") in " ".join(result.stderr.split())


def test_missing_spec_names_every_way_to_give_one(tmp_path):
    result = run("validate", cwd=tmp_path, env={"TERRAML_SPEC": ""})
    assert result.returncode == 2
    assert "platform.yaml" in result.stderr and "TERRAML_SPEC" in result.stderr and "Traceback" not in result.stderr


def test_spec_resolution_order(tmp_path, monkeypatch):
    (tmp_path / "platform.yaml").write_text("x")
    (tmp_path / "env.yaml").write_text("x")
    (tmp_path / "arg.yaml").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TERRAML_SPEC", raising=False)
    assert resolve_spec_path(None).name == "platform.yaml"
    monkeypatch.setenv("TERRAML_SPEC", str(tmp_path / "env.yaml"))
    assert resolve_spec_path(None).name == "env.yaml"
    assert resolve_spec_path(str(tmp_path / "arg.yaml")).name == "arg.yaml"
    # Optional (cost report uses the spec only for budgets): no default file means no spec ...
    monkeypatch.delenv("TERRAML_SPEC")
    (tmp_path / "platform.yaml").unlink()
    assert resolve_spec_path(None, required=False) is None
    # ... but a spec that was named and is missing is still an error.
    from terraml.errors import UserError

    with pytest.raises(UserError, match="spec file not found"):
        resolve_spec_path(str(tmp_path / "gone.yaml"), required=False)


HEAVY = ("cdktn", "jsii", "boto3", "botocore", "google.cloud", "azure", "mlflow", "sagemaker", "moto")


@pytest.mark.parametrize("argv", [["--help"], ["jobs", "list", "--cloud", "local"], ["jobs", "--help"]])
def test_light_commands_load_no_cdktn_mlflow_or_cloud_sdk(argv, tmp_path):
    # Modules already there before terraml is imported (a namespace package's .pth stub, such as the
    # google.cloud one google-cloud-aiplatform installs) are the interpreter's, not terraml's.
    code = (f"import sys\nbefore = set(sys.modules)\nfrom terraml.cli import app\ntry:\n    app({argv!r})\n"
            f"except SystemExit:\n    pass\n"
            f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules and m not in before])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**tool_env(), "TERRAML_HOME": str(tmp_path)})
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_stacks_lists_every_stack_and_what_its_cloud_lacks():
    result = run("stacks", "--spec", str(EXAMPLE))
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for stack, region in (("vision-aws", "us-east-1"), ("nlp-gcp", "us-central1"), ("nlp-azure", "eastus"),
                          ("recsys-aws", "us-west-2")):
        assert f"{stack} " in text and f"{region} │ synthesized" in text
    assert "skipped" not in text
    assert "not supported yet by the spec's clouds" in text
    assert "Vertex AI cannot preempt a Spot job on request" in text  # what GCP and Azure still lack
    assert "not built yet" not in text


def test_synth_writes_cdktf_out_in_the_current_folder(tmp_path):
    result = run("synth", str(EXAMPLE), "--team", "recsys", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir()] == ["recsys-aws"]
    stack = json.loads((tmp_path / "cdktf.out" / "stacks" / "recsys-aws" / "cdk.tf.json").read_text())
    assert "aws_eks_cluster" in stack["resource"]
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]  # no staging folder left behind


def test_narrowed_synth_keeps_the_other_stacks(tmp_path, example_spec):
    from terraml.synth import synth

    out = tmp_path / "cdktf.out"
    synth(example_spec.platform, out)
    vision = (out / "stacks" / "vision-aws" / "cdk.tf.json").read_text()
    (out / "stacks" / "stale-aws").mkdir()  # a stack the spec no longer produces
    result = synth(example_spec.platform, out, team="recsys")
    assert result.written == ["recsys-aws"]
    everything = ["nlp-azure", "nlp-gcp", "recsys-aws", "vision-aws"]  # stale-aws is gone: no longer in the spec
    assert sorted(p.name for p in (out / "stacks").iterdir()) == everything
    assert (out / "stacks" / "vision-aws" / "cdk.tf.json").read_text() == vision
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == everything


def test_synth_of_one_team_writes_its_stacks_on_every_cloud(tmp_path):
    result = run("synth", str(EXAMPLE), "--team", "nlp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "nlp-gcp → cdktf.out/stacks/nlp-gcp/cdk.tf.json" in text and "nlp-azure → cdktf.out" in text
    assert sorted(p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir()) == ["nlp-azure", "nlp-gcp"]


@pytest.mark.parametrize("args,message", [
    (["--team", "vison"], "--team: 'vison' is not a team in the spec; did you mean 'vision'?"),
    (["--cloud", "aws2"], "--cloud: 'aws2' is not a cloud; did you mean 'aws'? Allowed: aws, gcp, azure."),
])
def test_synth_narrowing_errors(tmp_path, args, message):
    result = run("synth", str(EXAMPLE), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "cdktf.out").exists()


def test_failed_synth_keeps_the_previous_output(tmp_path, example_spec):
    from terraml.policy.machines import Unresolvable
    from terraml.synth import synth

    out = tmp_path / "cdktf.out"
    synth(example_spec.platform, out, team="recsys")
    before = (out / "stacks" / "recsys-aws" / "cdk.tf.json").read_text()
    # A spec the checks would refuse, built directly: the stack cannot resolve 3 x T4 and raises mid-build.
    pool = example_spec.platform.teams[2].clouds.aws.gpu_pools[0].model_copy(update={"accelerator_count": 3})
    aws = example_spec.platform.teams[2].clouds.aws.model_copy(update={"gpu_pools": [pool]})
    team = example_spec.platform.teams[2].model_copy(update={"clouds": example_spec.platform.teams[2].clouds.
                                                              model_copy(update={"aws": aws})})
    broken = example_spec.platform.model_copy(update={"teams": [team]})
    with pytest.raises(Unresolvable):
        synth(broken, out, team="recsys")
    assert (out / "stacks" / "recsys-aws" / "cdk.tf.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_catalog_gpus_lists_prices():
    result = run("catalog", "gpus", "--cloud", "aws", "--region", "us-west-2")
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if "g4dn.xlarge" in line)
    assert "0.5260" in row and "0.2155" in row


@pytest.mark.parametrize("args,message", [
    (["endpoints", "stop", "classifier", "--cloud", "aws"],
     "aws: stopping an endpoint not supported: SageMaker endpoints belong to the team stack"),
    (["train", "examples/job.yaml", "--cloud", "gcp", "--simulate-interruptions", "1"],
     "gcp: simulated spot interruptions not supported: Vertex AI cannot preempt a Spot job on request"),
    (["train", "examples/job.yaml", "--cloud", "azure", "--simulate-interruptions", "1"],
     "azure: simulated spot interruptions not supported: low-priority preemption on Azure ML is real"),
    (["train", "examples/job.yaml", "--cloud", "aws", "--simulate-interruptions", "1"],
     "aws: simulated spot interruptions not supported: spot interruptions on SageMaker are real"),
])
def test_what_a_backend_lacks_is_one_clear_error(args, message):
    result = run(*args, "--spec", str(EXAMPLE), env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x",
                                                     "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


def test_clouds_lists_the_registry_and_what_each_lacks():
    result = run("clouds")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for name in ("local", "aws", "gcp", "azure"):
        assert f"│ {name} " in text
    assert "pip install 'terraml[aws]'" in text and "pip install 'terraml[azure]'" in text


def test_endpoints_list_on_an_empty_home(tmp_path):
    result = run("endpoints", "list", "--cloud", "local", "--home", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "endpoint" in result.stdout and "serving" not in result.stdout


class Canary:
    """A backend's canary controls, as a cloud without its own rollback offers them (terraml.rollout's
    MetricsSource and TrafficControl): samples from a list, traffic switches recorded."""

    def __init__(self, samples, thresholds=None):
        from terraml.rollout import Thresholds

        self.samples, self.switched = list(samples), []
        self.thresholds = thresholds or Thresholds(max_error_percent=1, max_p99_latency_ms=500, bake_minutes=1)

    def canary_controls(self, deployment):
        return self, self, self.thresholds

    def sample(self):
        return self.samples.pop(0)

    def rollback(self):
        self.switched.append("rollback")

    def promote(self):
        self.switched.append("promote")


def watch(backend, capsys, **kw):
    import typer

    from terraml.backend import Deployment
    from terraml.cli.jobs import watch_canary

    clock = iter(range(0, 10_000, 30))
    code = 0
    try:
        watch_canary(backend, Deployment("chat", "llm", "7"), cloud="gcp", percent=10, clock=lambda: next(clock),
                     sleep=lambda s: None, interval_s=30, **kw)
    except typer.Exit as exc:
        code = exc.exit_code
    said = capsys.readouterr()
    return code, " ".join(said.out.split()), " ".join(said.err.split())


def test_deploy_watches_a_healthy_canary_and_promotes_it(capsys):
    from terraml.rollout import CanarySample

    backend = Canary([CanarySample(120, 0.0, 80), CanarySample(130, 0.5, 95), CanarySample(90, 0.2, 90)])
    code, out, _ = watch(backend, capsys)
    assert code == 0 and backend.switched == ["promote"]
    assert "watching the canary (10% of traffic): error rate above 1% or p99 above 500 ms rolls it back" in out
    assert "120 request(s), errors 0.00%, p99 80 ms: healthy" in out
    # 120 + 130 requests: the two samples read before the injected clock passed the 1-minute bake
    assert "promoted llm v7 on chat: healthy for 1 min over 250 request(s); it takes all traffic." in out


def test_deploy_rolls_back_a_breaching_canary_and_exits_1(capsys):
    from terraml.rollout import CanarySample

    backend = Canary([CanarySample(100, 0.0, 80), CanarySample(100, 7.5, 90), CanarySample(100, 0.0, 80)])
    code, out, err = watch(backend, capsys)
    assert code == 1 and backend.switched == ["rollback"]
    assert "100 request(s), errors 7.50%, p99 90 ms: breach: canary error rate 7.50% over 100 request(s) is above " \
           "max_error_percent 1%" in out
    assert "rolled back llm v7 on chat: canary error rate 7.50%" in err and "previous version" in err


def test_deploy_detach_leaves_the_canary_unwatched_and_says_so(capsys):
    backend = Canary([])
    code, out, _ = watch(backend, capsys, detach=True)
    assert code == 0 and backend.switched == []
    assert "detached: the canary keeps 10% of chat's traffic and nothing watches it" in out
    assert "terraml endpoints list --cloud gcp" in out


def test_deploy_leaves_a_canary_the_cloud_rolls_back_itself(capsys):
    class SelfRollingBack:  # SageMaker: its alarms roll the canary back; canary_controls is None
        def canary_controls(self, deployment):
            return None

    assert watch(SelfRollingBack(), capsys) == (0, "", "")
