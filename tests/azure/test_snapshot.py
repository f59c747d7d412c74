"""The reviewed snapshot of the example's Azure stack: any change to its synthesized JSON shows in review.

After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 make test`, read the diff, commit it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_stack_matches_reviewed_snapshot(stacks):
    path = SNAPSHOTS / "nlp-azure.json"
    current = json.dumps(stacks["nlp-azure"], indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(current)
    assert path.exists(), "no snapshot for nlp-azure; run with UPDATE_SNAPSHOTS=1 and review it"
    assert current == path.read_text(), "nlp-azure changed; review the diff, then UPDATE_SNAPSHOTS=1"
