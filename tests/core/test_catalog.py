"""The price catalog loads the shipped data, indexes it, and rejects malformed files clearly."""

from __future__ import annotations

import shutil

import pytest

from terraml.catalog import DATA_DIR, load_catalog
from terraml.errors import CatalogError
from terraml.policy.capacity import capacity_plan
from terraml.policy.machines import Unresolvable, resolve_machine


def test_shipped_catalog_keeps_sources_and_dates():
    catalog = load_catalog()
    row = catalog.vm("aws", "us-east-1", "g5.2xlarge")
    assert (row.accelerator, row.accelerator_count, row.on_demand_usd_per_hour, row.spot_usd_per_hour) == \
        ("A10G", 1, 1.212, 0.4896)
    assert row.source and row.as_of
    assert (DATA_DIR / "SOURCES.md").exists()


def test_cheapest_fitting_type():
    catalog = load_catalog()
    assert catalog.cheapest("aws", "us-east-1", "L4", 1).instance_type == "g6.xlarge"
    assert catalog.cheapest("aws", "us-west-2", "T4", 1).instance_type == "g4dn.xlarge"
    assert catalog.cheapest("aws", "us-east-1", "L4", 3) is None


def _copy(tmp_path):
    target = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, target)
    return target


def test_missing_column_names_the_file_and_column(tmp_path):
    data = _copy(tmp_path)
    path = data / "vm_prices.csv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace(",spot_usd_per_hour", "")
    path.write_text("\n".join(lines))
    with pytest.raises(CatalogError, match=r"vm_prices.csv: missing column\(s\) spot_usd_per_hour"):
        load_catalog.__wrapped__(data)


def test_negative_price_names_the_line(tmp_path):
    data = _copy(tmp_path)
    path = data / "vm_prices.csv"
    lines = path.read_text().splitlines()
    fields = lines[1].split(",")
    fields[7] = "-1.0"
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines))
    with pytest.raises(CatalogError, match=r"vm_prices.csv:2: column 'on_demand_usd_per_hour' is negative"):
        load_catalog.__wrapped__(data)


def test_resolve_named_and_by_accelerator():
    catalog = load_catalog()
    named = resolve_machine("aws", "us-east-1", "g5.2xlarge", None, None, catalog)
    assert (named.instance_type, named.gpus) == ("g5.2xlarge", 1)
    picked = resolve_machine("gcp", "us-central1", None, "A100-80GB", 8, catalog)
    assert picked.instance_type == "a2-ultragpu-8g" and "cheapest with 8 x A100-80GB" in picked.why
    with pytest.raises(Unresolvable, match="counts offered there"):
        resolve_machine("aws", "us-east-1", None, "L4", 3, catalog)


def _row(spot, on_demand=1.0):
    return load_catalog().vm("aws", "us-east-1", "g5.2xlarge").__class__(
        "aws", "r", "t", "A10G", 1, 8, 32, on_demand, spot, "s", "d")


@pytest.mark.parametrize("mode,ratio,spot,cloud_caps,expected", [
    ("on-demand", None, 0.4, False, [("on-demand", None)]),
    ("spot", None, 0.4, False, [("spot", None)]),
    ("auto", None, 0.4, False, [("spot", None), ("on-demand", None)]),
    ("auto", 0.6, 0.4, False, [("spot", None), ("on-demand", None)]),   # spot at 40% of on-demand: keep spot
    ("auto", 0.3, 0.4, False, [("on-demand", None)]),                    # spot above the cap: on-demand only
    ("auto", 0.6, 0.4, True, [("spot", 0.6), ("on-demand", None)]),      # the cloud enforces the cap itself
    ("spot", 0.5, 0.4, True, [("spot", 0.5)]),
])
def test_capacity_plan_table(mode, ratio, spot, cloud_caps, expected):
    plan = capacity_plan(mode, ratio, _row(spot), min_nodes=1, max_nodes=4, price_cap_enforced_by_cloud=cloud_caps)
    assert [(g.capacity, g.max_price_usd_per_hour) for g in plan.groups] == expected
    assert plan.groups[0].priority >= plan.groups[-1].priority
