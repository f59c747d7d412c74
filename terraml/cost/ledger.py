"""Jobs and what they cost, as recorded by the backends, for the monthly report.

Local jobs keep their record in the terraml home (jobs/<name>/record.json); cloud jobs' billed costs
are written to costs/<cloud>/<name>.json when terraml sees them end. Both are read here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from terraml.fsutil import write_json_atomic


@dataclass(frozen=True)
class LedgerEntry:
    backend: str
    name: str
    team: str
    ended_at: float | None
    state: str
    cost_usd: float | None
    billable_seconds: float | None
    training_seconds: float | None
    savings_percent: float | None
    capacity: str | None

    def month(self) -> str | None:
        if self.ended_at is None:
            return None
        return dt.datetime.fromtimestamp(self.ended_at, dt.UTC).strftime("%Y-%m")


def record_cloud_job(home: Path, backend: str, name: str, team: str, status) -> None:
    write_json_atomic(Path(home) / "costs" / backend / f"{name}.json", {
        "backend": backend, "name": name, "team": team, "ended_at": dt.datetime.now(dt.UTC).timestamp(),
        "state": status.state.value, "cost_usd": status.cost_usd, "billable_seconds": status.billable_seconds,
        "training_seconds": status.training_seconds, "savings_percent": status.savings_percent,
        "capacity": status.capacity})


def read_jobs(home: Path) -> list[LedgerEntry]:
    home = Path(home)
    out = []
    for path in sorted((home / "jobs").glob("*/record.json")):
        r = json.loads(path.read_text())
        out.append(LedgerEntry("local", r["name"], r["team"], r.get("ended_at"), r.get("state", ""),
                           0.0 if r.get("billable_seconds") is not None else None, r.get("billable_seconds"),
                           r.get("training_seconds"), None, r.get("capacity")))
    for path in sorted((home / "costs").glob("*/*.json")):
        r = json.loads(path.read_text())
        out.append(LedgerEntry(r["backend"], r["name"], r["team"], r.get("ended_at"), r.get("state", ""),
                           r.get("cost_usd"), r.get("billable_seconds"), r.get("training_seconds"),
                           r.get("savings_percent"), r.get("capacity")))
    return out
