"""One reviewed snapshot per example stack: any change to the synthesized JSON shows up in review.

After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 make test`, read the diff, commit it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("stack", ["nlp-gcp"])
def test_stack_matches_reviewed_snapshot(stacks, stack):
    path = SNAPSHOTS / f"{stack}.json"
    current = json.dumps(stacks[stack], indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(current)
    assert path.exists(), f"no snapshot for {stack}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert current == path.read_text(), f"{stack} changed; review the diff, then UPDATE_SNAPSHOTS=1"
