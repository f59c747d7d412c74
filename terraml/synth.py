"""Synthesize a spec into cdktf.out/ atomically: a failed synth leaves the previous output intact.

The output folder is only ever replaced when it is terraml's own: absent, empty, or holding the manifest
of an earlier synth. Anything else (a project folder, `--outdir .`) is refused, so nothing of the user's is
deleted. The new output is staged beside it and swapped in by renames; staging is removed on every
failure, including a full disk and SIGTERM/SIGHUP, and leftovers of a killed synth are cleaned next time.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from terraml.errors import UserError
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
    check_outdir(target, outdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-{os.getpid()}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is meant to be shared like any build
    try:
        with _signals_raise():
            app, written = build_app(platform, str(staging), team=team, cloud=cloud)
            app.synth()
            if team or cloud:
                keep = {p.name for p in planned_stacks(platform) if not p.skipped} - set(written)
                _carry_over(target, staging, keep)
            _swap(staging, target)
    except RuntimeError as exc:  # the Node kernel writes the files: its I/O errors arrive as jsii errors
        shutil.rmtree(staging, ignore_errors=True)
        fault = NODE_IO_ERROR.search(str(exc))
        if fault is None:
            raise
        code = getattr(errno, fault.group(1))
        raise OSError(code, f"{os.strerror(code)} while writing the stacks", str(target.parent)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthResult(target, written, [p for p in plan if p.skipped])


# How Node reports an environment fault (e.g. "Error: ENOSPC: no space left on device, write").
NODE_IO_ERROR = re.compile(r"\b(ENOSPC|EDQUOT|EACCES|EPERM|EROFS|EMFILE|ENFILE|EIO): ")


def is_synth_output(folder: Path) -> bool:
    """Whether a folder holds an earlier synth (terraml's or the cdktn CLI's): a manifest with stacks."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("stacks"), dict) and "version" in manifest


def check_outdir(target: Path, given: str | Path) -> None:
    """Refuse an output folder terraml would have to destroy something of the user's to replace."""
    if target == Path.cwd().resolve() or target in Path.cwd().resolve().parents or target == Path(target.anchor):
        raise UserError(f"--outdir: {given} is the current folder or one above it; synth replaces its output "
                        "folder whole, so give it a folder of its own, e.g. --outdir cdktf.out.")
    if not target.exists():
        return
    if not target.is_dir():
        raise UserError(f"--outdir: {given} is a file; give a folder (absent, empty, or an earlier synth's).")
    if any(target.iterdir()) and not is_synth_output(target):
        raise UserError(f"--outdir: {given} is not empty and holds no earlier synth (no manifest.json with stacks); "
                        "terraml replaces its output folder whole and will not delete what is there. Give an "
                        "empty or new folder, e.g. --outdir cdktf.out.")


def _clean_leftovers(target: Path) -> None:
    """Staging and retired folders of synths that were killed (their process is gone)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:staging-|old-)(\d+)")
    for path in target.parent.iterdir():
        match = pattern.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _signals_raise():
    """While synthesizing, SIGTERM and SIGHUP raise (so staging is cleaned) instead of killing outright."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


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
    try:
        staging.rename(target)
    except BaseException:
        retired.rename(target)  # put the previous output back
        raise
    shutil.rmtree(retired, ignore_errors=True)
