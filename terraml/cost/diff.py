"""What a change adds or removes, per resource and per team: two estimates in, a diff out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from terraml.cost.model import PRICED, Estimate, Line


@dataclass(frozen=True)
class Change:
    team: str
    stack: str
    address: str
    component: str
    change: str  # added | removed | changed
    old_min: Decimal
    old_max: Decimal
    new_min: Decimal
    new_max: Decimal
    explain: str

    @property
    def delta_min(self) -> Decimal:
        return self.new_min - self.old_min

    @property
    def delta_max(self) -> Decimal:
        return self.new_max - self.old_max


def _key(line: Line) -> tuple[str, str, str]:
    return line.stack, line.address, line.component


def diff(old: Estimate, new: Estimate) -> list[Change]:
    before = {_key(x): x for x in old.lines if x.status == PRICED}
    after = {_key(x): x for x in new.lines if x.status == PRICED}
    zero = Decimal(0)
    changes = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a and b and (a.monthly_min, a.monthly_max) == (b.monthly_min, b.monthly_max):
            continue
        kind = "added" if a is None else "removed" if b is None else "changed"
        ref = b or a
        changes.append(Change(ref.team, ref.stack, ref.address, ref.component, kind,
                              a.monthly_min if a else zero, a.monthly_max if a else zero,
                              b.monthly_min if b else zero, b.monthly_max if b else zero, ref.explain()))
    return changes


def per_team(changes: list[Change]) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for c in changes:
        low, high = out.get(c.team, (Decimal(0), Decimal(0)))
        out[c.team] = (low + c.delta_min, high + c.delta_max)
    return out


def signed(value: Decimal) -> str:
    cents = value.quantize(Decimal("0.01"))
    return f"+${cents:,}" if cents >= 0 else f"-${-cents:,}"


def to_markdown(changes: list[Change]) -> str:
    if not changes:
        return "### terraml cost diff\n\nNo change to the monthly estimate.\n"
    out = ["### terraml cost diff", "", "| team | monthly min | monthly max |", "|---|---:|---:|"]
    for team, (low, high) in sorted(per_team(changes).items()):
        out.append(f"| {team} | {signed(low)} | {signed(high)} |")
    out += ["", "| change | team | resource | component | min/month | max/month |", "|---|---|---|---|---:|---:|"]
    for c in changes:
        out.append(f"| {c.change} | {c.team} | `{c.stack}:{c.address}` | {c.component} | {signed(c.delta_min)} | "
                   f"{signed(c.delta_max)} |")
    return "\n".join(out) + "\n"


def to_dicts(changes: list[Change]) -> list[dict]:
    return [{"team": c.team, "stack": c.stack, "address": c.address, "component": c.component,
             "change": c.change, "delta_min": float(c.delta_min), "delta_max": float(c.delta_max),
             "old_max": float(c.old_max), "new_max": float(c.new_max), "explain": c.explain} for c in changes]
