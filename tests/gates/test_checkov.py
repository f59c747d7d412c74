"""checkov (offline) on every synthesized stack: zero failed checks.

checkov's terraform_json runner does not read inline suppressions, so a finding is accepted only
when the very resource it names carries ``checkov:skip=<ID>:<reason>`` in its "//" comment block.
"""

from __future__ import annotations

import json
import subprocess

from ..conftest import CHECKOV, need, tool_env


def _address(stack: dict, resource: str) -> str:
    """'type.name' of a finding; for some types checkov's terraform_json runner names the resource
    'resource.<name>', so the type is found by the name (names are unique within a stack)."""
    kind, _, name = resource.partition(".")
    if kind != "resource":
        return resource
    return next(f"{rtype}.{name}" for rtype, named in stack["resource"].items() if name in named)


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
    declared = {(name, address, check) for name, stack in stacks.items()
                for address, skips in _skips(stack).items() for check, why in skips.items() if why.strip()}
    unexplained, explained = [], set()
    for failed in reports[0]["results"]["failed_checks"]:
        stack = failed["file_path"].strip("/").split("/")[0]
        key = (stack, _address(stacks[stack], failed["resource"]), failed["check_id"])
        if key in declared:
            explained.add(key)
        else:
            unexplained.append(f"{stack}: {failed['check_id']} {failed['resource']} {failed['check_name']}")
    assert unexplained == [], "\n".join(unexplained)
    # Every justification still answers a finding: a fixed finding leaves no stale skip behind.
    assert explained == declared, sorted(declared - explained)
    aws = sorted((stack, check) for stack, _, check in explained if stack.endswith("-aws"))
    assert aws == [(s, c) for s in ("recsys-aws", "vision-aws") for c in ("CKV_AWS_144", "CKV_AWS_18")]
