"""Faults injected for real: a full disk (a small tmpfs), SIGKILL and SIGTERM during synth, SIGKILL during a
job-record write, and concurrent submits. What the user had is intact afterwards, and what terraml says
is one clear line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import EXAMPLE, ROOT, need, tool_env


def terraml(*args, cwd, env=None, **kw):
    exe = need(ROOT / ".venv" / "bin" / "terraml")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, env={**tool_env(), **(env or {})}, capture_output=True,
                          text=True, timeout=300, **kw)


def spawn(*args, cwd):
    exe = need(ROOT / ".venv" / "bin" / "terraml")
    return subprocess.Popen([exe, *map(str, args)], cwd=cwd, env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(predicate, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the fault window")
        time.sleep(0.02)


def staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".cdktf.out.")]


@pytest.fixture
def earlier_synth(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "platform.yaml")
    assert terraml("synth", "--team", "recsys", cwd=tmp_path).returncode == 0
    stack = tmp_path / "cdktf.out" / "stacks" / "recsys-aws" / "cdk.tf.json"
    return tmp_path, stack, stack.read_text()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_synth_killed_midway_leaves_the_previous_output(earlier_synth, sig):
    folder, stack, before = earlier_synth
    proc = spawn("synth", cwd=folder)
    wait_for(lambda: staging(folder))  # the staging folder exists: the synth is under way
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert stack.read_text() == before
    if sig == signal.SIGTERM:  # caught: staging removed at once, one line, exit 130
        assert proc.returncode == 130 and "Traceback" not in err and staging(folder) == []
    again = terraml("synth", cwd=folder)  # and after SIGKILL, the next synth cleans the leftovers
    assert again.returncode == 0, again.stderr
    assert staging(folder) == []
    assert {"recsys-aws", "vision-aws"} <= {p.name for p in (folder / "cdktf.out" / "stacks").iterdir()}


def test_a_full_disk_during_synth_is_one_line_and_keeps_the_previous_output(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs and needs root (CI and the dev machines run as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], check=True)
    try:
        shutil.copy(EXAMPLE, disk / "platform.yaml")
        assert terraml("synth", "--team", "recsys", cwd=disk).returncode == 0
        stack = disk / "cdktf.out" / "stacks" / "recsys-aws" / "cdk.tf.json"
        before = stack.read_text()
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(free - 16 * 1024, 0))  # leave 16 KiB
        result = terraml("synth", cwd=disk)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert "No space left on device" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
        assert stack.read_text() == before
        assert staging(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


WRITER = """
import sys, time
from terraml.providers.local.store import JobStore
store = JobStore(sys.argv[1])
store.ensure_home()
i = 0
while True:
    i += 1
    store.write("job", {"name": "job", "team": "vision", "state": "running", "i": i, "pad": "x" * 50000})
"""


def test_sigkill_during_record_writes_never_leaves_a_half_record(tmp_path):
    from terraml.providers.local.store import JobStore

    (tmp_path / "jobs" / "job").mkdir(parents=True)
    for delay in (0.05, 0.13, 0.31):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], env=tool_env())
        wait_for(lambda: (tmp_path / "jobs" / "job" / "record.json").exists())
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        record = JobStore(tmp_path).read("job")  # raises CorruptRecord on a torn write
        assert record["state"] == "running" and len(record["pad"]) == 50000


def test_concurrent_submits_of_one_name_create_one_job(tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    # What is tested is the claim on the name, not training: a job that ends at once, registering nothing.
    text = (ROOT / "examples" / "job.yaml").read_text().replace("entrypoint: python train.py --epochs 5",
                                                                "entrypoint: python -c pass")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("register_model:")) + "\n"
    (tmp_path / "job.yaml").write_text(text)
    (tmp_path / "other.yaml").write_text(text.replace("name: image-classifier", "name: other-job"))
    home = tmp_path / "home"
    args = ("--spec", EXAMPLE, "--home", home, "--detach")
    procs = [spawn("train", tmp_path / "job.yaml", *args, cwd=tmp_path) for _ in range(3)]
    procs.append(spawn("train", tmp_path / "other.yaml", *args, cwd=tmp_path))
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    said = [out for out, _ in outs[:3]]
    assert sum("submitted image-classifier to local" in s for s in said) == 1
    assert sum("already exists" in s for s in said) == 2
    assert "submitted other-job to local" in outs[3][0]
    records = {p.parent.name: json.loads(p.read_text()) for p in (home / "jobs").glob("*/record.json")}
    assert sorted(records) == ["image-classifier", "other-job"]
    for name in records:  # let the runners finish before the folder goes
        wait_for(lambda n=name: json.loads((home / "jobs" / n / "record.json").read_text())["state"]
                 in ("completed", "failed"), timeout_s=240)
