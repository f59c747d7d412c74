"""What a change adds or removes, per resource and per team: two estimates in, a diff out.

A resource that goes from priced to unpriced is not a saving: it is listed as "now unpriced" with its
reason and what it cost before, and its disappearance is not counted in any change. New unpriced
resources are listed too. Per team and overall the diff carries the before and after totals (the priced
lines of each estimate), the counted change and the change in percent of the before total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from terraml.cost.model import CURRENCY, PRICED, UNPRICED, Estimate, Line

ZERO = Decimal(0)
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
NOW_UNPRICED, NOW_PRICED = "now unpriced", "now priced"
ADDED_UNPRICED, REMOVED_UNPRICED = "added, unpriced", "removed, was unpriced"


@dataclass(frozen=True)
class Change:
    team: str
    stack: str
    address: str
    component: str
    change: str  # added | removed | changed | now unpriced | now priced | added, unpriced | removed, was unpriced
    old_min: Decimal
    old_max: Decimal
    new_min: Decimal
    new_max: Decimal
    explain: str
    reason: str = ""
    """Why the line is unpriced (for the unpriced kinds of change)."""

    @property
    def counted(self) -> bool:
        """False when the change has no price on one side that matters: it is listed, never summed."""
        return self.change not in (NOW_UNPRICED, ADDED_UNPRICED, REMOVED_UNPRICED)

    @property
    def delta_min(self) -> Decimal:
        return self.new_min - self.old_min if self.counted else ZERO

    @property
    def delta_max(self) -> Decimal:
        return self.new_max - self.old_max if self.counted else ZERO


@dataclass
class Totals:
    before_min: Decimal = ZERO
    before_max: Decimal = ZERO
    after_min: Decimal = ZERO
    after_max: Decimal = ZERO
    delta_min: Decimal = ZERO
    delta_max: Decimal = ZERO
    now_unpriced: int = 0
    """Resources priced before and unpriced after: not in `after`, and not counted in the change."""
    now_unpriced_was_min: Decimal = ZERO
    now_unpriced_was_max: Decimal = ZERO
    added_unpriced: int = 0

    @property
    def percent_min(self) -> float | None:
        return percent(self.delta_min, self.before_min)

    @property
    def percent_max(self) -> float | None:
        return percent(self.delta_max, self.before_max)

    def add(self, c: Change) -> None:
        self.delta_min += c.delta_min
        self.delta_max += c.delta_max
        if c.change == NOW_UNPRICED:
            self.now_unpriced += 1
            self.now_unpriced_was_min += c.old_min
            self.now_unpriced_was_max += c.old_max
        elif c.change == ADDED_UNPRICED:
            self.added_unpriced += 1


@dataclass
class CostDiff:
    changes: list[Change] = field(default_factory=list)
    teams: dict[str, Totals] = field(default_factory=dict)
    overall: Totals = field(default_factory=Totals)


def percent(delta: Decimal, before: Decimal) -> float | None:
    """The change in percent of the before figure; None when there was nothing before."""
    return None if before == 0 else round(float(delta / before * 100), 1)


def _key(line: Line) -> tuple[str, str, str]:
    return line.stack, line.address, line.component


def _money(line: Line | None) -> tuple[Decimal, Decimal]:
    return (line.monthly_min, line.monthly_max) if line is not None and line.status == PRICED else (ZERO, ZERO)


def _kind(a: Line | None, b: Line | None) -> str | None:
    """The change from line a (before) to line b (after), or None when nothing to show changed."""
    a_un, b_un = a is not None and a.status == UNPRICED, b is not None and b.status == UNPRICED
    if a_un and b_un:
        return None
    if b_un:
        return NOW_UNPRICED if a is not None and a.status == PRICED else ADDED_UNPRICED
    if a_un:
        return NOW_PRICED if b is not None else REMOVED_UNPRICED
    if _money(a) == _money(b):
        return None  # free or unchanged lines, added or not, change no figure
    return ADDED if a is None else REMOVED if b is None else CHANGED


def diff(old: Estimate, new: Estimate) -> CostDiff:
    before = {_key(x): x for x in old.lines}
    after = {_key(x): x for x in new.lines}
    result = CostDiff()
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        kind = _kind(a, b)
        if kind is None:
            continue
        ref = b or a
        (old_min, old_max), (new_min, new_max) = _money(a), _money(b)
        reason = ref.reason if ref.status == UNPRICED else (a.reason if a is not None and a.status == UNPRICED
                                                            else "")
        result.changes.append(Change(ref.team, ref.stack, ref.address, ref.component, kind, old_min, old_max,
                                     new_min, new_max, ref.explain(), reason))
    teams = sorted({x.team for x in old.lines} | {x.team for x in new.lines})
    for team in teams:
        t = result.teams[team] = Totals()
        (t.before_min, t.before_max), (t.after_min, t.after_max) = old.total(team), new.total(team)
    o = result.overall
    (o.before_min, o.before_max), (o.after_min, o.after_max) = old.total(), new.total()
    for c in result.changes:
        result.teams[c.team].add(c)
        o.add(c)
    return result


def signed(value: Decimal) -> str:
    cents = value.quantize(Decimal("0.01"))
    return f"+${cents:,}" if cents >= 0 else f"-${-cents:,}"


def plain(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}"


def pct(value: float | None) -> str:
    return "new" if value is None else f"{value:+.1f}%"


def change_text(delta: Decimal, percent_value: float | None) -> str:
    return f"{signed(delta)} ({pct(percent_value)})"


def unpriced_text(t: Totals) -> str:
    parts = []
    if t.now_unpriced:
        parts.append(f"{t.now_unpriced} now unpriced (were {plain(t.now_unpriced_was_min)}-"
                     f"{plain(t.now_unpriced_was_max)}, not counted)")
    if t.added_unpriced:
        parts.append(f"{t.added_unpriced} new unpriced")
    return "; ".join(parts) or "-"


def summary_rows(result: CostDiff) -> list[tuple[str, Totals]]:
    return [*sorted(result.teams.items()), ("all", result.overall)]


SUMMARY_HEADER = ("team", "before min", "before max", "after min", "after max", "change min", "change max",
                  "not priced")


def summary_cells(t: Totals) -> list[str]:
    return [plain(t.before_min), plain(t.before_max), plain(t.after_min), plain(t.after_max),
            change_text(t.delta_min, t.percent_min), change_text(t.delta_max, t.percent_max), unpriced_text(t)]


def change_cells(c: Change) -> list[str]:
    """min/month, max/month and the note of one change, as every format shows them."""
    if c.change == NOW_UNPRICED:
        return ["now unpriced", "now unpriced", f"{c.reason}; was {plain(c.old_min)}-{plain(c.old_max)} a month, "
                                                "not counted as a saving"]
    if c.change in (ADDED_UNPRICED, REMOVED_UNPRICED):
        return ["unpriced", "unpriced", c.reason]
    note = f"was unpriced: {c.reason}" if c.change == NOW_PRICED else ""
    return [signed(c.delta_min), signed(c.delta_max), note]


def to_markdown(result: CostDiff) -> str:
    out = [f"### terraml cost diff ({CURRENCY} per month)", ""]
    if not result.changes:
        return "\n".join(out + ["No change to the monthly estimate."]) + "\n"
    out += ["| " + " | ".join(SUMMARY_HEADER) + " |", "|---|" + "---:|" * 6 + "---|"]
    for name, t in summary_rows(result):
        label = "**all**" if name == "all" else name
        out.append(f"| {label} | " + " | ".join(summary_cells(t)) + " |")
    out += ["", "Change % is of the before figure. Unpriced resources are in neither total.", "",
            "| change | team | resource | component | min/month | max/month | note |",
            "|---|---|---|---|---:|---:|---|"]
    for c in result.changes:
        low, high, note = change_cells(c)
        out.append(f"| {c.change} | {c.team} | `{c.stack}:{c.address}` | {c.component} | {low} | {high} | "
                   f"{note.replace('|', '/')} |")
    return "\n".join(out) + "\n"


def totals_dict(t: Totals) -> dict:
    money = {name: float(getattr(t, name)) for name in ("before_min", "before_max", "after_min", "after_max",
                                                        "delta_min", "delta_max", "now_unpriced_was_min",
                                                        "now_unpriced_was_max")}
    return {**money, "percent_min": t.percent_min, "percent_max": t.percent_max, "now_unpriced": t.now_unpriced,
            "added_unpriced": t.added_unpriced}


def to_dict(result: CostDiff) -> dict:
    return {
        "currency": CURRENCY,
        "teams": [{"team": name, **totals_dict(t)} for name, t in sorted(result.teams.items())],
        "totals": totals_dict(result.overall),
        "changes": [{"team": c.team, "stack": c.stack, "address": c.address, "component": c.component,
                     "change": c.change, "counted": c.counted, "delta_min": float(c.delta_min),
                     "delta_max": float(c.delta_max), "old_min": float(c.old_min), "old_max": float(c.old_max),
                     "new_min": float(c.new_min), "new_max": float(c.new_max), "reason": c.reason,
                     "explain": c.explain} for c in result.changes],
    }
