"""Did-you-mean hints for names the user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Characters people type for one another ('us-east-l', 'n0de').
_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "O": "0", "o": "0"})


def close_match(value: str, choices: Iterable[str]) -> bool:
    return did_you_mean(value, choices) != "."


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest choice, or "." when nothing is close.

    Callers write the sentence without its full stop: ``f"'{v}' is not a region{did_you_mean(v, names)}"``.
    """
    choices = list(choices)
    lookalike = value.translate(_LOOKALIKES)
    if lookalike != value and lookalike in choices:
        return f"; did you mean '{lookalike}'?"
    lowered = {c.lower(): c for c in choices}
    if value.lower() in lowered and lowered[value.lower()] != value:
        return f"; did you mean '{lowered[value.lower()]}'?"
    prefixed = [c for c in choices if len(value) >= 4 and c.startswith(value)]
    if len(prefixed) == 1:  # a name cut short: 'max_wait' for 'max_wait_hours'
        return f"; did you mean '{prefixed[0]}'?"
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.75)
    if not close:
        close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.75)
        close = [lowered[c] for c in close]
    return f"; did you mean '{close[0]}'?" if close else "."


def one_of(choices: Iterable[str], limit: int = 12) -> str:
    """A short 'allowed: a, b, c' list (long lists are cut, with a count)."""
    items = sorted(set(choices))
    shown = ", ".join(f"'{c}'" for c in items[:limit])
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return shown + more
