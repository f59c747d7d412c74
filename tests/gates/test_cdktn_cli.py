"""The real cdktn CLI (npm, pinned) synthesizes the example from cdktf.json, like `terraml synth`."""

from __future__ import annotations

import json
import subprocess

from ..conftest import ROOT, need, tool_env
from .conftest import example_stack_names


def test_cdktn_synth_matches_terraml_synth(tmp_path, synth_dir):
    cdktn = need(ROOT / "node_modules" / ".bin" / "cdktn")
    out = tmp_path / "cdktf.out"
    run = subprocess.run([cdktn, "synth", "--output", str(out)], cwd=ROOT, env={**tool_env(), "CI": "true"},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Generated Terraform code for the stacks: {', '.join(example_stack_names())}" in run.stdout
    for stack in example_stack_names():
        theirs = json.loads((out / "stacks" / stack / "cdk.tf.json").read_text())
        ours = json.loads((synth_dir / "stacks" / stack / "cdk.tf.json").read_text())
        assert theirs == ours
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == example_stack_names() != []


def test_cdktn_app_reports_spec_errors_without_traceback(tmp_path):
    bad = tmp_path / "platform.yaml"
    bad.write_text("org: acme\nteams: []\n")
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "terraml.stacks.main"], cwd=ROOT,
                         env={**tool_env(), "TERRAML_SPEC": str(bad), "CDKTF_OUTDIR": str(tmp_path / "o")},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "teams: " in run.stderr and "Traceback" not in run.stderr
