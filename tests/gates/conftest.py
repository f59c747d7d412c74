"""Every test in this folder is a slow gate: `pytest -m "not gate"` is the quick loop."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gate)


def example_stack_names() -> list[str]:
    """Every stack the example spec synthesizes, of every cloud that builds stacks: a new cloud's stacks
    join the gates (typed bindings, checkov, cdktn CLI) without a change here."""
    from terraml.inventory import planned_stacks
    from terraml.spec import load_platform

    from ..conftest import EXAMPLE

    return sorted(p.name for p in planned_stacks(load_platform(EXAMPLE).platform) if not p.skipped)
