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


def read_jobs(home: Path, skipped: list[str] | None = None) -> list[LedgerEntry]:
    """Every readable job record and cost entry. A corrupt or foreign file is never fatal: it is left
    out, and ``skipped`` (when given) gets its path and what is wrong."""
    home = Path(home)
    out = []
    for path in sorted((home / "jobs").glob("*/record.json")):
        if (r := _read(path, skipped)) is not None:
            out.append(LedgerEntry("local", r["name"], r["team"], _number(r.get("ended_at")), r.get("state", ""),
                                   0.0 if r.get("billable_seconds") is not None else None,
                                   _number(r.get("billable_seconds")), _number(r.get("training_seconds")), None,
                                   r.get("capacity")))
    for path in sorted((home / "costs").glob("*/*.json")):
        if (r := _read(path, skipped, ("backend", "name", "team"))) is not None:
            out.append(LedgerEntry(r["backend"], r["name"], r["team"], _number(r.get("ended_at")),
                                   r.get("state", ""), _number(r.get("cost_usd")), _number(r.get("billable_seconds")),
                                   _number(r.get("training_seconds")), _number(r.get("savings_percent")),
                                   r.get("capacity")))
    return out


def _read(path: Path, skipped: list[str] | None, required: tuple[str, ...] = ("name", "team")) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or any(not isinstance(record.get(k), str) for k in required):
            raise ValueError(f"needs {', '.join(required)}")
        for key in ("ended_at", "cost_usd", "billable_seconds", "training_seconds", "savings_percent"):
            _number(record.get(key))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if skipped is not None:
            skipped.append(f"{path}: not a job record ({exc}); skipped (move it away or delete it)")
        return None
    return record


def _number(value) -> float | None:
    """A finite number or None; anything else makes the record unreadable."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value in (
            float("inf"), float("-inf")):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)
