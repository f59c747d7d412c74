"""Rebuild VM prices from the clouds' own price APIs (online) and merge them into vm_prices.csv.

Only rows already in the catalog are refreshed (the catalog decides what terraml offers); each
refreshed row gets the API as its source and today's date. Each cloud's fetcher is in its folder
(``providers/<cloud>/prices.py``, reached through ``Cloud.fetch_prices``); fetchers take their
clients/URLs from the caller, so tests feed them responses in the documented shapes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from terraml.catalog import VM_COLUMNS
from terraml.cloud import get
from terraml.errors import UserError
from terraml.fsutil import write_text_atomic


@dataclass(frozen=True)
class Price:
    cloud: str
    region: str
    instance_type: str
    on_demand: float | None
    spot: float | None
    source: str


def get_json(url: str, opener=urllib.request.urlopen) -> dict:
    with opener(url, timeout=60) as resp:
        return json.loads(resp.read())


def gpu_key(accelerator: str, count: float) -> str:
    """How attached-GPU rows (instance_type 'gpu-only') are told apart when merging."""
    return f"gpu-only:{accelerator}:{count:g}"


# ---------------------------------------------------------------- merge
def merge(rows: list[dict], prices: list[Price], today: str) -> tuple[list[dict], int]:
    """New prices replace old ones on matching rows; rows without a new figure are kept as they were."""
    index = {(p.cloud, p.region, p.instance_type): p for p in prices}
    changed = 0
    out = []
    for row in rows:
        key = (row["cloud"], row["region"], row["instance_type"])
        if row["instance_type"] == "gpu-only":
            key = (row["cloud"], row["region"], gpu_key(row["accelerator"], float(row["accelerator_count"])))
        price = index.get(key)
        if price is None or (price.on_demand is None and price.spot is None):
            out.append(row)
            continue
        new = dict(row)
        if price.on_demand is not None:
            new["on_demand_usd_per_hour"] = f"{price.on_demand:g}"
        if price.spot is not None:
            new["spot_usd_per_hour"] = f"{price.spot:g}"
        new["source"], new["as_of"] = price.source, today
        changed += new != row
        out.append(new)
    return out, changed


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(VM_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def refresh(cloud: str, data_dir: Path, *, fetch: Callable[[list[dict]], list[Price]] | None = None) -> int:
    """Fetch, merge and write; returns how many rows changed."""
    path = data_dir / "vm_prices.csv"
    rows = read_rows(path)
    mine = [r for r in rows if r["cloud"] == cloud]
    if not mine:
        have = sorted({r["cloud"] for r in rows})
        raise UserError(f"--cloud: no {cloud} rows in {path}; allowed: {', '.join(have)}.")
    prices = (fetch or get(cloud).fetch_prices)(mine)
    merged, changed = merge(rows, prices, dt.date.today().isoformat())
    staged = path.with_name(f".{path.name}.new")
    write_rows(staged, merged)
    try:
        from terraml.catalog import _load_vms

        _load_vms(staged)  # a bad figure fails here, and the catalog in use stays as it was
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    os.replace(staged, path)
    from terraml.catalog import load_catalog

    load_catalog.cache_clear()
    return changed
