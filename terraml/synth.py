"""Synthesize a spec into cdktf.out/ atomically: a failed synth leaves the previous output intact."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from terraml.inventory import PlannedStack, planned_stacks
from terraml.spec.models import Platform

REPO_NODE = Path(__file__).resolve().parent.parent / "node_modules" / "node" / "bin" / "node"


def use_project_node() -> None:
    """Point jsii at the Node 22 the project installs (npm 'node@22'), unless the user chose one."""
    if "JSII_NODE" not in os.environ and REPO_NODE.exists():
        os.environ["JSII_NODE"] = str(REPO_NODE)


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    written: list[str]
    skipped: list[PlannedStack]


def synth(platform: Platform, outdir: str | Path = "cdktf.out", *, team: str | None = None,
          cloud: str | None = None) -> SynthResult:
    plan = planned_stacks(platform, team=team, cloud=cloud)  # raises on a bad --team/--cloud first
    use_project_node()
    from terraml.stacks import build_app  # loads cdktn: only commands that synthesize pay for it

    target = Path(outdir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is meant to be shared like any build
    try:
        app, written = build_app(platform, str(staging), team=team, cloud=cloud)
        app.synth()
        if team or cloud:
            keep = {p.name for p in planned_stacks(platform) if not p.skipped} - set(written)
            _carry_over(target, staging, keep)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthResult(target, written, [p for p in plan if p.skipped])


def _carry_over(old: Path, new: Path, names: set[str]) -> None:
    """A narrowed synth (--team/--cloud) keeps the other stacks the spec still produces, so deploying
    one of those keeps working; stacks the spec no longer has are dropped."""
    manifest_path = new / "manifest.json"
    old_manifest = old / "manifest.json"
    if not old_manifest.exists():
        return
    manifest = json.loads(manifest_path.read_text())
    previous = json.loads(old_manifest.read_text()).get("stacks", {})
    for name in sorted(names & set(previous)):
        source = old / "stacks" / name
        if source.is_dir():
            shutil.copytree(source, new / "stacks" / name)
            manifest["stacks"][name] = previous[name]
    manifest["stacks"] = dict(sorted(manifest["stacks"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` by renames on one filesystem; never a half-written folder."""
    if not target.exists():
        staging.rename(target)
        return
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
