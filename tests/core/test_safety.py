"""A new user's mistakes, through the installed `terraml` command: nothing of theirs is deleted, every
user error exits 2 with a clear line and no traceback, and exit codes tell the truth."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import EXAMPLE, ROOT, need, tool_env


def terraml(*args, cwd=ROOT, env=None, timeout=300):
    exe = need(ROOT / ".venv" / "bin" / "terraml")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, env={**tool_env(), **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def flat(text: str) -> str:
    return " ".join(text.split())


def user_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in flat(result.stderr), result.stderr


# ---------------------------------------------------------------- nothing of the user's is deleted
def test_synth_into_the_project_folder_is_refused_and_deletes_nothing(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLE, project / "platform.yaml")
    (project / ".git").mkdir()
    (project / "notes.txt").write_text("mine")
    before = sorted(p.name for p in project.iterdir())
    user_error(terraml("synth", "--outdir", ".", cwd=project), "--outdir: . is the current folder")
    user_error(terraml("synth", "--outdir", "..", cwd=project), "--outdir: .. is the current folder or one above")
    assert sorted(p.name for p in project.iterdir()) == before
    assert (project / "notes.txt").read_text() == "mine"


def test_synth_into_a_foreign_folder_is_refused_an_earlier_synth_is_replaced(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "platform.yaml")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "keep.md").write_text("mine")
    user_error(terraml("synth", "--outdir", "docs", cwd=tmp_path), "docs is not empty and holds no earlier synth")
    assert (tmp_path / "docs" / "keep.md").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert terraml("synth", "--team", "recsys", "--outdir", "empty", cwd=tmp_path).returncode == 0
    again = terraml("synth", "--team", "recsys", "--outdir", "empty", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "empty" / "stacks" / "recsys-aws" / "cdk.tf.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "empty", "platform.yaml"]  # no staging left


def test_leftovers_of_a_killed_synth_are_cleaned(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "platform.yaml")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    (tmp_path / f".cdktf.out.staging-{dead.pid}-abc").mkdir()
    (tmp_path / f".cdktf.out.old-{dead.pid}").mkdir()
    assert terraml("synth", "--team", "recsys", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "platform.yaml"]


# ---------------------------------------------------------------- usage errors: exit 2, no traceback
@pytest.mark.parametrize("args,fragment", [
    (["synth", "--bogus"], "No such option: --bogus"),
    (["jobs", "status"], "Missing argument"),
    (["validate", "a", "b"], "Got unexpected extra argument"),
    (["cost", "report", "--format", "pdf"], "--format: 'pdf' is not a format"),
    (["train", "examples/job.yaml", "--on-interrupt", "pause", "--detach"], "--on-interrupt: 'pause' is not allowed"),
])
def test_usage_errors_exit_2_without_a_traceback(args, fragment):
    user_error(terraml(*args, "--spec", EXAMPLE) if args[0] == "train" else terraml(*args), fragment)


def test_version_and_short_help():
    version = terraml("--version")
    assert version.returncode == 0 and version.stdout.startswith("terraml ")
    short = terraml("jobs", "-h")
    assert short.returncode == 0 and "Usage: terraml jobs" in short.stdout


# ---------------------------------------------------------------- files that are not what they claim
def test_unreadable_specs_are_user_errors(tmp_path):
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"org: acme\x00\n")
    user_error(terraml("validate", nul), "not a YAML text file (control character U+0000")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)))
    user_error(terraml("validate", binary), "is not UTF-8 text")
    user_error(terraml("validate", tmp_path), "is a folder; give the path of a YAML file")


@pytest.mark.parametrize("old,new,path", [
    ("budget: {monthly_usd: 35000}", "budget: {monthly_usd: .inf}", "teams[1].budget.monthly_usd"),
    ("max_price_ratio: 0.6}", "max_price_ratio: .nan}", "teams[1].clouds.azure.gpu_pools[0].spot.max_price_ratio"),
])
def test_infinities_and_nan_are_refused(tmp_path, old, new, path):
    spec = tmp_path / "platform.yaml"
    text = EXAMPLE.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))
    user_error(terraml("validate", spec), path)


def test_usage_overrides_must_be_sane_and_match(tmp_path, synth_dir):
    bad = tmp_path / "negative.yaml"
    bad.write_text('overrides: {"vision-aws:aws_s3_bucket.artifacts": {storage_gb: -5}}\n')
    user_error(terraml("cost", "report", "--dir", synth_dir, "--usage", bad),
               "overrides.vision-aws:aws_s3_bucket.artifacts.storage_gb: -5 is out of range; it must be >= 0")
    unmatched = tmp_path / "unmatched.yaml"
    unmatched.write_text('overrides: {"vision-aws:aws_s3_bucket.artifacts": {storage_gb: 5}}\n')
    real = next(iter(json.loads((synth_dir / "stacks" / "vision-aws" / "cdk.tf.json").read_text())["resource"]
                     ["aws_s3_bucket"]))
    user_error(terraml("cost", "report", "--dir", synth_dir, "--usage", unmatched),
               "usage overrides.vision-aws:aws_s3_bucket.artifacts: matches no resource",
               f"vision-aws:aws_s3_bucket.{real}")
    matched = tmp_path / "matched.yaml"
    matched.write_text(f'overrides: {{"vision-aws:aws_s3_bucket.{real}": {{storage_gb: 5}}}}\n')
    assert terraml("cost", "report", "--dir", synth_dir, "--usage", matched).returncode == 0


def test_paths_of_the_wrong_kind(tmp_path, synth_dir):
    user_error(terraml("invoke", "classifier", "--data", "@missing.json", "--home", tmp_path),
               "--data: missing.json is not a file")
    user_error(terraml("cost", "report", "--dir", synth_dir, "--format", "json", "-o", tmp_path),
               f"--output: {tmp_path} is a folder")
    home_file = tmp_path / "home"
    home_file.write_text("")
    user_error(terraml("jobs", "list", "--home", home_file), "is a file, not a folder")
    user_error(terraml("prices", "refresh", "--cloud", "aws", "--data-dir", tmp_path / "nowhere"),
               "has no vm_prices.csv")


# ---------------------------------------------------------------- specs and jobs that would not deploy
def test_an_api_open_to_the_internet_warns_with_the_fix(tmp_path):
    spec = tmp_path / "platform.yaml"
    spec.write_text(EXAMPLE.read_text().replace("network: {cidr: 10.20.0.0/16}",
                                                "network: {cidr: 10.20.0.0/16, public_api_cidrs: [0.0.0.0/0]}"))
    result = terraml("validate", spec)
    assert result.returncode == 0
    assert ("teams[0].clouds.aws.network.public_api_cidrs[0]: 0.0.0.0/0 opens the Kubernetes API to the whole "
            "internet") in flat(result.stderr)


def test_tags_break_aws_rules_at_validate(tmp_path):
    spec = tmp_path / "platform.yaml"
    spec.write_text(EXAMPLE.read_text().replace("managed-by: terraml", "managed-by: terraml#1"))
    user_error(terraml("validate", spec), "defaults.tags.managed-by: tag managed-by='terraml#1': AWS allows letters")


def test_sagemaker_limits_are_checked_before_submit(tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    text = (ROOT / "examples" / "job.yaml").read_text()
    (tmp_path / "job.yaml").write_text(text.replace("hyperparameters: {lr: 0.001, batch_size: 64}",
                                                    "hyperparameters: {lr: 0.001}\nenvironment: {BAD-KEY: x}"))
    user_error(terraml("train", tmp_path / "job.yaml", "--cloud", "aws", "--dry-run", "--spec", EXAMPLE),
               "environment.BAD-KEY: is not a valid SageMaker Environment key")


# ---------------------------------------------------------------- local jobs: truthful exit codes, privacy
def _job(tmp_path, name: str, entrypoint: str) -> Path:
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train", dirs_exist_ok=True)
    text = (ROOT / "examples" / "job.yaml").read_text()
    text = text.replace("name: image-classifier", f"name: {name}").replace(
        "entrypoint: python train.py --epochs 5", f"entrypoint: {entrypoint}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_a_mistyped_program_fails_before_submit(tmp_path):
    user_error(terraml("train", _job(tmp_path, "typo", "pyhton train.py"), "--spec", EXAMPLE, "--home",
                       tmp_path / "home"),
               "entrypoint: 'pyhton' is not a program on this machine's PATH", "did you mean 'python'?")
    assert not (tmp_path / "home" / "jobs" / "typo").exists()


def test_train_exits_1_when_the_job_fails_and_home_is_private(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "fail.py").write_text("import sys\nprint('boom')\nsys.exit(3)\n")
    result = terraml("train", _job(tmp_path, "fails", "python fail.py"), "--spec", EXAMPLE, "--home",
                     tmp_path / "home", env={"SECRET_TOKEN": "x"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "fails: failed entrypoint exited with code 3" in flat(result.stdout)
    home = tmp_path / "home"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "jobs" / "fails" / "record.json").stat().st_mode) == 0o600


def test_a_corrupt_record_is_skipped_not_fatal(tmp_path, synth_dir):
    home = tmp_path / "home"
    (home / "jobs" / "broken").mkdir(parents=True)
    (home / "jobs" / "broken" / "record.json").write_text("{not json")
    (home / "jobs" / "foreign").mkdir()
    (home / "jobs" / "foreign" / "record.json").write_text('["a list"]')
    listed = terraml("jobs", "list", "--home", home)
    assert listed.returncode == 0, listed.stderr
    assert f"{home / 'jobs' / 'broken' / 'record.json'}: not a job record" in flat(listed.stderr)
    assert f"{home / 'jobs' / 'foreign' / 'record.json'}: not a job record" in flat(listed.stderr)
    report = terraml("cost", "report", "--dir", synth_dir, "--home", home, "--format", "json")
    assert report.returncode == 0 and json.loads(report.stdout)["teams"]
    assert "broken/record.json: not a job record" in flat(report.stderr)


def test_cancel_never_signals_a_process_that_is_not_the_jobs(tmp_path):
    """A record whose pid now belongs to someone else (after a reboot): same pid, another start time."""
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        home = tmp_path / "home"
        (home / "jobs" / "old").mkdir(parents=True)
        (home / "jobs" / "old" / "record.json").write_text(json.dumps({
            "name": "old", "team": "vision", "state": "running", "runner_pid": stranger.pid, "runner_started": 1,
            "submitted_at": time.time() - 3600, "tracking_uri": "sqlite:///x.db"}))
        user_error(terraml("jobs", "cancel", "old", "--home", home), "job 'old' is not running",
                   "no process was signalled")
        time.sleep(0.5)
        assert stranger.poll() is None, "terraml signalled a process that was not the job's"
        status = terraml("jobs", "status", "old", "--home", home)
        assert "old: failed the job's runner process is gone" in flat(status.stdout)
    finally:
        stranger.kill()
        stranger.wait()


def test_exit_codes_are_documented():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Exit codes"):]
    for line in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert line in section


def test_no_backend_runs_the_entrypoint_through_a_shell():
    sources = [ROOT / "providers" / name for name in os.listdir(ROOT / "providers")]
    for path in (p for folder in sources if folder.is_dir() for p in folder.rglob("*.py")):
        text = path.read_text()
        assert "/bin/sh" not in text and "shell=True" not in text, path
