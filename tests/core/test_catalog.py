"""The price catalog loads the shipped data, indexes it, and rejects malformed files clearly."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from terraml.catalog import DATA_DIR, load_catalog, row_caveat
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


DAY = date(2026, 11, 30)


def test_a_row_in_doubt_says_so_from_its_source_cell():
    row = load_catalog().vm("gcp", "europe-west4", "a3-ultragpu-8g")
    assert row.caveat_on(DAY) == "doubtful price (SUSPECT: catalog GPU on-demand < GPU spot)"
    assert row.caveat_on(DAY) == row.caveat_on(DAY, "spot") == row.caveat_on(DAY, "on-demand")
    assert load_catalog().vm("gcp", "us-central1", "a2-ultragpu-8g").caveat_on(DAY) == ""  # corrected, no doubt


def test_an_old_spot_price_says_its_age_for_the_spot_price_only():
    """Azure spot rows: as_of '2026-06-18 (on-demand); ~2024-08-18 (spot)'. 2024-08-18 -> 2026-11-30 is
    (2026 - 2024) x 12 + (11 - 8) = 27 whole months; the on-demand figure (5 months old) has no caveat."""
    row = next(r for r in load_catalog().vms if r.cloud == "azure" and r.as_of.endswith("~2024-08-18 (spot)"))
    assert row.caveat_on(DAY, "spot") == "spot price 27 months old (as of ~2024-08-18)"
    assert row.caveat_on(DAY, "on-demand") == ""
    assert row.caveat_on(DAY) == "spot price 27 months old (as of ~2024-08-18)"  # catalog gpus shows both prices


@pytest.mark.parametrize("as_of,expected", [
    ("2025-11-30", ""),                                                  # exactly 12 months: not over the threshold
    ("2025-10-29", "price 13 months old (as of 2025-10-29)"),
    ("2024", "price 34 months old (as of 2024)"),                        # a bare year counts from 2024-01-01
    ("2023-12", "price 35 months old (as of 2023-12)"),
    ("2024-04-01 (effective); re-confirmed 2026-06-13", ""),             # the newest date counts
    ("page undated", ""),
    ("2026-09-01 (us-west-2 price list; region and usage inferred)", ""),
])
def test_age_caveat_is_the_same_rule_for_every_cloud(as_of, expected):
    assert row_caveat("any source", as_of, DAY) == expected


def test_fixed_fee_rows_carry_the_same_caveat():
    """aws.vpc.public_ipv4 as_of '2024-02-01 (effective)': 2024-02-01 -> 2026-11-30 = 33 months."""
    fee = load_catalog().fee("aws.vpc.public_ipv4")
    assert fee.caveat_on(DAY) == "price 33 months old (as of 2024-02-01 (effective))"


def test_catalog_gpus_shows_each_rows_caveat():
    """`terraml catalog gpus` prints the caveat column: the H200 europe-west4 row is SUSPECT in its source cell."""
    from typer.testing import CliRunner

    from terraml.cli import app

    result = CliRunner().invoke(app, ["catalog", "gpus", "--cloud", "gcp", "--region", "europe-west4"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    [h200] = [x for x in result.output.splitlines() if "a3-ultragpu-8g" in x]
    assert "doubtful price (SUSPECT:" in h200  # the cell wraps at the terminal's width
    assert "caveat" in result.output and "1 row(s) carry a caveat" in result.output
