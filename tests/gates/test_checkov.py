"""checkov (offline) on every synthesized stack: zero failed checks.

checkov's terraform_json runner does not read inline suppressions, so a finding is accepted only
when the very resource it names carries ``checkov:skip=<ID>:<reason>`` in its "//" comment block.
"""

from __future__ import annotations

import json
import subprocess

from ..conftest import CHECKOV, need, tool_env


def _skips(stack: dict) -> dict[str, dict[str, str]]:
    out = {}
    for rtype, named in stack.get("resource", {}).items():
        for name, block in named.items():
            entries = block.get("//", {}).get("checkov", [])
            out[f"{rtype}.{name}"] = dict(e.removeprefix("checkov:skip=").split(":", 1) for e in entries)
    return out


def test_checkov_finds_nothing_unexplained(synth_dir, stacks):
    checkov = need(CHECKOV)
    run = subprocess.run([checkov, "-d", str(synth_dir / "stacks"), "--framework", "terraform_json",
                          "--skip-download", "--quiet", "--compact", "-o", "json"],
                         capture_output=True, text=True, env=tool_env(), timeout=600)
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    assert summary["passed"] > 200 and summary["parsing_errors"] == 0
    unexplained, explained = [], 0
    for failed in reports[0]["results"]["failed_checks"]:
        stack = failed["file_path"].strip("/").split("/")[0]
        reasons = _skips(stacks[stack]).get(failed["resource"], {})
        if reasons.get(failed["check_id"], "").strip():
            explained += 1
        else:
            unexplained.append(f"{stack}: {failed['check_id']} {failed['resource']} {failed['check_name']}")
    assert unexplained == [], "\n".join(unexplained)
    assert explained == 4  # CKV_AWS_18 and CKV_AWS_144 on each team bucket, each with its reason
