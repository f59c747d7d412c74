"""One reviewed snapshot per example stack of this cloud: any change to the synthesized JSON shows in review."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import assert_matches_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("stack", ["nlp-gcp"])
def test_stack_matches_reviewed_snapshot(stacks, stack):
    assert_matches_snapshot(stacks[stack], SNAPSHOTS / f"{stack}.json")
