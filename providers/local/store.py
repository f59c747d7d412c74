"""Durable local job records: one folder per job under the terraml home, so a new process can
answer status, logs and cancel for a job another process started.

The home is private (0700) and records are 0600: a record holds the job's environment, which may carry
secrets. A process is identified by its pid and its start time, so a pid reused after a reboot is never
mistaken for the job's own process (and never signalled)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terraml.fsutil import write_json_atomic


@dataclass(frozen=True)
class JobPaths:
    root: Path

    @property
    def record(self) -> Path:
        return self.root / "record.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs.txt"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def runner_log(self) -> Path:
        """What the supervisor itself printed (why it died, when it did)."""
        return self.root / "runner.log"


class CorruptRecord(ValueError):
    """A job record that cannot be read as one (truncated, foreign, hand-edited)."""

    def __init__(self, path: Path, why: str):
        self.path = path
        super().__init__(f"{path}: {why}; skipped (move it away or delete it)")


REQUIRED = ("name", "team", "state")


class JobStore:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.jobs = self.home / "jobs"
        self.endpoints = self.home / "endpoints"

    def ensure_home(self) -> None:
        """Create the home private; an existing one is made private too."""
        if self.home.exists() and not self.home.is_dir():
            from terraml.errors import UserError

            raise UserError(f"--home: {self.home} is a file, not a folder; point --home (or $TERRAML_HOME) at a "
                            "folder terraml may create.")
        for folder in (self.home, self.jobs, self.endpoints):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)

    def paths(self, name: str) -> JobPaths:
        return JobPaths(self.jobs / name)

    def exists(self, name: str) -> bool:
        return self.paths(name).record.exists()

    def read(self, name: str) -> dict[str, Any]:
        path = self.paths(name).record
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptRecord(path, f"not a job record ({type(exc).__name__}: {exc})") from None
        if not isinstance(record, dict) or any(k not in record for k in REQUIRED):
            raise CorruptRecord(path, f"not a job record (needs {', '.join(REQUIRED)})")
        return record

    def write(self, name: str, record: dict[str, Any]) -> None:
        record["updated_at"] = time.time()
        write_json_atomic(self.paths(name).record, record, mode=0o600)

    def update(self, name: str, **changes: Any) -> dict[str, Any]:
        record = self.read(name)
        record.update(changes)
        self.write(name, record)
        return record

    def create(self, name: str, record: dict[str, Any]) -> bool:
        """Claim the job name; False when a job of that name already exists (nothing is written then)."""
        root = self.paths(name).root
        self.ensure_home()
        try:
            root.mkdir(mode=0o700)  # atomic claim: two submits of one name cannot both create it
        except FileExistsError:
            return False
        self.write(name, record)
        return True

    def names(self) -> list[str]:
        if not self.jobs.exists():
            return []
        return sorted(p.name for p in self.jobs.iterdir() if (p / "record.json").exists())


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def ours(pid: int | None, started: int | None) -> bool:
    """Whether ``pid`` is still the process that was recorded with start time ``started``."""
    return pid_alive(pid) and started is not None and start_time(pid) == started


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child we started is a zombie until reaped; it is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
