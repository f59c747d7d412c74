"""Durable local job records: one folder per job under the terraml home, so a new process can
answer status, logs and cancel for a job another process started."""

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


class JobStore:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.jobs = self.home / "jobs"
        self.endpoints = self.home / "endpoints"

    def paths(self, name: str) -> JobPaths:
        return JobPaths(self.jobs / name)

    def exists(self, name: str) -> bool:
        return self.paths(name).record.exists()

    def read(self, name: str) -> dict[str, Any]:
        return json.loads(self.paths(name).record.read_text())

    def write(self, name: str, record: dict[str, Any]) -> None:
        record["updated_at"] = time.time()
        write_json_atomic(self.paths(name).record, record)

    def update(self, name: str, **changes: Any) -> dict[str, Any]:
        record = self.read(name)
        record.update(changes)
        self.write(name, record)
        return record

    def create(self, name: str, record: dict[str, Any]) -> bool:
        """Claim the job name; False when a job of that name already exists (nothing is written then)."""
        root = self.paths(name).root
        self.jobs.mkdir(parents=True, exist_ok=True)
        try:
            root.mkdir()  # atomic claim: two submits of one name cannot both create it
        except FileExistsError:
            return False
        self.write(name, record)
        return True

    def names(self) -> list[str]:
        if not self.jobs.exists():
            return []
        return sorted(p.name for p in self.jobs.iterdir() if (p / "record.json").exists())


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
