"""The price catalog: VM and managed-ML prices per cloud and region, shipped as data files.

Rows keep the source and date they were transcribed from (see data/pricing/SOURCES.md).
Loading is lazy and cached; lookups are dictionary hits, never scans of the whole catalog.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from terraml.errors import CatalogError

DATA_DIR = Path(__file__).parent / "data" / "pricing"

VM_COLUMNS = (
    "cloud", "region", "instance_type", "accelerator", "accelerator_count", "vcpus", "memory_gib",
    "on_demand_usd_per_hour", "spot_usd_per_hour", "source", "as_of",
)
MANAGED_COLUMNS = ("cloud", "service", "region", "instance_type", "usage", "usd_per_hour", "source", "as_of")
FIXED_COLUMNS = ("key", "cloud", "item", "unit", "usd", "region", "source", "as_of")
EKS_VERSION_COLUMNS = ("version", "standard_support_end", "extended_support_end", "source", "as_of")
# Catalog rows that price a component, not something a user can ask for by name.
_NOT_ORDERABLE = {"gpu-only"}

DOUBT_MARKERS = ("SUSPECT", "doubtful", "unverified")
"""Words a row's source cell uses to say its figure is in doubt (case-insensitive)."""
STALE_AFTER_MONTHS = 12
"""A row whose newest date (as_of) is older than this many months before today says how old it is."""
_DATED = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_PART = re.compile(r";\s*(?![^()]*\))")  # as_of parts: "2026-06-18 (on-demand); ~2024-08-18 (spot)"


def _months_between(then: date, today: date) -> int:
    return (today.year - then.year) * 12 + today.month - then.month - (today.day < then.day)


def _as_of_parts(as_of: str) -> list[tuple[date, str, str | None]]:
    """(date, text, kind) per dated part of an as_of cell; kind is 'spot' or 'on-demand' for a part labelled so
    ('~2024-08-18 (spot)'), None for a part that dates the whole row. A year or month without a day counts from
    its first day."""
    found = []
    for part in _PART.split(as_of):
        label = part[part.find("(") + 1:].lower() if "(" in part else ""
        kind = "spot" if label.startswith("spot") else "on-demand" if label.startswith("on-demand") else None
        match = _DATED.search(part)
        if match is None:
            continue
        year, month, day = (int(g) if g else 1 for g in match.groups())
        try:
            found.append((date(year, month, day), (part.split("(")[0] if kind else part).strip(), kind))
        except ValueError:
            continue
    return found


def row_caveat(source: str, as_of: str, today: date | None = None, capacity: str | None = None) -> str:
    """What a price row's reader should doubt, in words; '' when nothing.

    Doubt: the source cell flags the figure (SUSPECT, doubtful, unverified), quoted up to the end of its clause.
    Age: the newest date of the row's ``as_of`` is more than :data:`STALE_AFTER_MONTHS` months before ``today``.
    Parts labelled '(spot)' or '(on-demand ...)' date only that price: ``capacity`` ('spot' or 'on-demand') says
    which price is used; without it each labelled price is checked on its own. The same rule for every cloud."""
    notes = []
    lowered = source.lower()
    for marker in DOUBT_MARKERS:
        at = lowered.find(marker.lower())
        if at >= 0:
            clause = re.split(r"[;)\"]", source[at:], maxsplit=1)[0].strip().rstrip(",.")
            notes.append(f"doubtful price ({clause})")
            break
    parts = _as_of_parts(as_of)
    labelled = [k for k in ("on-demand", "spot") if any(kind == k for _, _, kind in parts)]
    for kind in [capacity] if capacity else labelled or [None]:
        dates = [(d, text) for d, text, k in parts if k is None or kind is None or k == kind]
        if not dates:
            continue
        newest, text = max(dates)
        months = _months_between(newest, today or date.today())
        if months > STALE_AFTER_MONTHS:
            which = f"{kind} price" if kind in labelled else "price"
            notes.append(f"{which} {months} months old (as of {text})")
    return "; ".join(notes)


class _Caveat:
    """``caveat``: the row's doubt and age, in words ('' when none); ``caveat_on(today, capacity)`` for a given
    day and for the spot or on-demand price of the row."""

    source: str
    as_of: str

    @property
    def caveat(self) -> str:
        return row_caveat(self.source, self.as_of)

    def caveat_on(self, today: date | None = None, capacity: str | None = None) -> str:
        return row_caveat(self.source, self.as_of, today, capacity)


@dataclass(frozen=True)
class VmRow(_Caveat):
    cloud: str
    region: str
    instance_type: str
    accelerator: str | None
    accelerator_count: float | None  # fractional for vGPU slices (g6f, NV*ads_A10_v5)
    vcpus: int | None
    memory_gib: float | None
    on_demand_usd_per_hour: float | None
    spot_usd_per_hour: float | None
    source: str
    as_of: str


@dataclass(frozen=True)
class ManagedRow(_Caveat):
    cloud: str
    service: str
    region: str
    instance_type: str
    usage: str
    usd_per_hour: float
    source: str
    as_of: str


def _number(path: Path, line: int, column: str, text: str, kind=float):
    if text.strip() == "":
        return None
    try:
        value = kind(text)
    except ValueError:
        raise CatalogError(f"{path.name}:{line}: column '{column}' must be a number, got {text!r}") from None
    if value < 0:
        raise CatalogError(f"{path.name}:{line}: column '{column}' is negative ({text}); prices must be >= 0")
    return value


def _rows(path: Path, columns: tuple[str, ...]):
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read price file {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogError(
                f"{path.name}: missing column(s) {', '.join(missing)}; the header must be {','.join(columns)}"
            )
        yield from enumerate(reader, start=2)


@dataclass(frozen=True)
class FixedFee(_Caveat):
    key: str
    cloud: str
    item: str
    unit: str
    usd: float
    region: str
    source: str
    as_of: str


@dataclass(frozen=True)
class EksVersion:
    """An EKS Kubernetes version's support dates (eks_versions.csv). The standard control plane fee applies
    before ``standard_support_end``; the extended-support fee from 00:00 UTC on that day until
    ``extended_support_end``, after which AWS upgrades the control plane itself."""

    version: str
    standard_support_end: date
    extended_support_end: date
    source: str
    as_of: str

    def tier(self, today: date) -> str:
        """'standard', 'extended' or 'ended' (past extended support) on ``today``."""
        if today < self.standard_support_end:
            return "standard"
        return "extended" if today < self.extended_support_end else "ended"


class Catalog:
    """Indexed price rows. Build it with :func:`load_catalog`."""

    def __init__(self, vms: list[VmRow], managed: list[ManagedRow], fees: list[FixedFee] | None = None,
                 eks_versions: list[EksVersion] | None = None):
        self.vms = vms
        self.managed = managed
        self.fees = {f.key: f for f in fees or []}
        self.eks_versions = {v.version: v for v in eks_versions or []}
        self._vm = {(r.cloud, r.region, r.instance_type): r for r in vms}
        self._by_accel: dict[tuple[str, str, str], list[VmRow]] = defaultdict(list)
        self._types: dict[str, set[str]] = defaultdict(set)
        self._regions: dict[str, set[str]] = defaultdict(set)
        self._accels: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._attached: dict[tuple[str, str, str, float], VmRow] = {}
        for r in vms:
            self._regions[r.cloud].add(r.region)
            if r.instance_type in _NOT_ORDERABLE:
                if r.accelerator and r.accelerator_count:
                    self._attached[(r.cloud, r.region, r.accelerator, r.accelerator_count)] = r
                continue
            self._types[r.cloud].add(r.instance_type)
            if r.accelerator:
                self._by_accel[(r.cloud, r.region, r.accelerator)].append(r)
                self._accels[(r.cloud, r.region)].add(r.accelerator)
                self._accels[(r.cloud, "*")].add(r.accelerator)
        self._managed: dict[tuple[str, str, str], list[ManagedRow]] = defaultdict(list)
        for r in managed:
            self._managed[(r.cloud, r.region, r.instance_type)].append(r)
        self._managed_types: dict[str, set[str]] = defaultdict(set)
        for r in managed:
            self._managed_types[r.cloud].add(r.instance_type)

    def vm(self, cloud: str, region: str, instance_type: str) -> VmRow | None:
        return self._vm.get((cloud, region, instance_type))

    def instance_types(self, cloud: str) -> set[str]:
        return self._types[cloud]

    def regions(self, cloud: str) -> set[str]:
        return self._regions[cloud]

    def accelerators(self, cloud: str, region: str | None = None) -> set[str]:
        return self._accels[(cloud, region or "*")]

    def offers(self, cloud: str, region: str, accelerator: str) -> list[VmRow]:
        """Instance types in a region carrying this accelerator (any count)."""
        return self._by_accel.get((cloud, region, accelerator), [])

    def attached_gpus(self, cloud: str, region: str, accelerator: str, count: float) -> VmRow | None:
        """The price of GPUs attached to a host VM (GCP N1 + T4/V100/P100/P4), without the host."""
        return self._attached.get((cloud, region, accelerator, count))

    def cheapest(self, cloud: str, region: str, accelerator: str, count: int,
                 allowed: Callable[[str], bool] | None = None) -> VmRow | None:
        """The cheapest on-demand type with exactly ``count`` of ``accelerator`` per node (among the
        ``allowed`` type names, when given)."""
        fits = [
            r for r in self.offers(cloud, region, accelerator)
            if r.accelerator_count == count and r.on_demand_usd_per_hour is not None
            and (allowed is None or allowed(r.instance_type))
        ]
        return min(fits, key=lambda r: (r.on_demand_usd_per_hour, r.vcpus or 0, r.instance_type), default=None)

    def managed_row(self, cloud: str, region: str, instance_type: str, usage: str) -> ManagedRow | None:
        """The managed-ML price whose usage starts with ``usage`` (e.g. 'real-time inference endpoint')."""
        rows = self._managed.get((cloud, region, instance_type), [])
        return next((r for r in rows if r.usage.startswith(usage)), None)

    def managed_types(self, cloud: str) -> set[str]:
        return self._managed_types[cloud]

    def fee(self, key: str) -> FixedFee | None:
        return self.fees.get(key)

    def eks_version(self, version: str) -> EksVersion | None:
        return self.eks_versions.get(version)

    def eks_newest_standard(self, today: date) -> EksVersion | None:
        """The newest version in eks_versions.csv that is in EKS standard support on ``today``."""
        rows = [v for v in self.eks_versions.values() if v.tier(today) == "standard"]
        return max(rows, key=lambda v: tuple(int(x) for x in v.version.split(".")), default=None)


def _load_vms(path: Path) -> list[VmRow]:
    from terraml.cloud import environment_names

    clouds = environment_names()
    rows = []
    for line, r in _rows(path, VM_COLUMNS):
        if r["cloud"] not in clouds:
            raise CatalogError(f"{path.name}:{line}: column 'cloud' is {r['cloud']!r}; allowed: {', '.join(clouds)}")
        count = _number(path, line, "accelerator_count", r["accelerator_count"])
        rows.append(VmRow(
            cloud=r["cloud"], region=r["region"], instance_type=r["instance_type"],
            accelerator=r["accelerator"] or None, accelerator_count=count,
            vcpus=_number(path, line, "vcpus", r["vcpus"], int),
            memory_gib=_number(path, line, "memory_gib", r["memory_gib"]),
            on_demand_usd_per_hour=_number(path, line, "on_demand_usd_per_hour", r["on_demand_usd_per_hour"]),
            spot_usd_per_hour=_number(path, line, "spot_usd_per_hour", r["spot_usd_per_hour"]),
            source=r["source"], as_of=r["as_of"],
        ))
    return rows


def _load_managed(path: Path) -> list[ManagedRow]:
    rows = []
    for line, r in _rows(path, MANAGED_COLUMNS):
        price = _number(path, line, "usd_per_hour", r["usd_per_hour"])
        if price is None:
            continue
        rows.append(ManagedRow(
            cloud=r["cloud"], service=r["service"], region=r["region"], instance_type=r["instance_type"],
            usage=r["usage"], usd_per_hour=price, source=r["source"], as_of=r["as_of"],
        ))
    return rows


def _load_fees(path: Path) -> list[FixedFee]:
    """Keyed rows are prices the estimator uses; rows without a key are reference notes."""
    fees = []
    for line, r in _rows(path, FIXED_COLUMNS):
        if not r["key"]:
            continue
        try:
            usd = float(r["usd"])
        except ValueError:
            raise CatalogError(f"{path.name}:{line}: column 'usd' must be a number for key {r['key']!r}, "
                               f"got {r['usd']!r}") from None
        if usd < 0 and not r["key"].endswith(".credit"):
            raise CatalogError(f"{path.name}:{line}: column 'usd' is negative ({r['usd']}) for {r['key']!r}; "
                               "only keys ending in '.credit' may be negative")
        fees.append(FixedFee(r["key"], r["cloud"], r["item"], r["unit"], usd, r["region"], r["source"], r["as_of"]))
    return fees


_VERSION = re.compile(r"1\.\d{2}")


def _date(path: Path, line: int, column: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CatalogError(f"{path.name}:{line}: column '{column}' must be a date YYYY-MM-DD, got {text!r}") from None


def _load_eks_versions(path: Path) -> list[EksVersion]:
    """One row per Kubernetes version: its EKS standard- and extended-support end dates."""
    rows: dict[str, int] = {}
    out = []
    for line, r in _rows(path, EKS_VERSION_COLUMNS):
        version = r["version"].strip()
        if not _VERSION.fullmatch(version):
            raise CatalogError(f"{path.name}:{line}: column 'version' must look like 1.33, got {r['version']!r}")
        if version in rows:
            raise CatalogError(f"{path.name}:{line}: column 'version' repeats {version} (also on line "
                               f"{rows[version]}); keep one row per version")
        rows[version] = line
        standard = _date(path, line, "standard_support_end", r["standard_support_end"])
        extended = _date(path, line, "extended_support_end", r["extended_support_end"])
        if extended < standard:
            raise CatalogError(f"{path.name}:{line}: column 'extended_support_end' ({extended}) is before "
                               f"standard_support_end ({standard}); extended support follows standard support")
        if not r["source"].strip():
            raise CatalogError(f"{path.name}:{line}: column 'source' is empty; every row names where its dates "
                               "come from")
        out.append(EksVersion(version, standard, extended, r["source"], r["as_of"]))
    return out


@cache
def load_catalog(data_dir: Path = DATA_DIR) -> Catalog:
    return Catalog(_load_vms(data_dir / "vm_prices.csv"), _load_managed(data_dir / "managed_ml_prices.csv"),
                   _load_fees(data_dir / "fixed_fees.csv"), _load_eks_versions(data_dir / "eks_versions.csv"))
