"""Refreshing the price catalog: a fetch result the catalog cannot load is refused and nothing is written."""

from __future__ import annotations

import shutil

import pytest

from terraml.catalog import DATA_DIR
from terraml.cost.prices import read_rows, refresh
from terraml.errors import CatalogError


def test_refresh_refuses_a_result_the_catalog_cannot_load(tmp_path):
    from terraml.cost.prices import Price

    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    before = (data / "vm_prices.csv").read_bytes()
    with pytest.raises(CatalogError, match="negative"):
        refresh("aws", data, fetch=lambda rows: [Price("aws", "us-east-1", "g5.2xlarge", -1.0, None, "bad")])
    assert (data / "vm_prices.csv").read_bytes() == before  # nothing half-written
    assert sorted(p.name for p in data.iterdir()) == sorted(p.name for p in DATA_DIR.iterdir())
    assert len(read_rows(data / "vm_prices.csv")) == len(read_rows(DATA_DIR / "vm_prices.csv"))
