"""eks_versions.csv is loaded as carefully as the other price files: a bad row names the file, line and column."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from terraml.catalog import DATA_DIR, load_catalog
from terraml.errors import CatalogError

HEADER = "version,standard_support_end,extended_support_end,source,as_of\n"


def test_shipped_table():
    row = load_catalog().eks_version("1.33")
    assert (row.standard_support_end, row.extended_support_end) == (date(2026, 7, 29), date(2027, 7, 29))
    assert [row.tier(date(2026, 7, 28)), row.tier(date(2026, 7, 29)), row.tier(date(2027, 7, 29))] == [
        "standard", "extended", "ended"]


@pytest.mark.parametrize("rows,message", [
    ("1.33,2026-07-29,2027-07-29,src,x\n1.34,2026-13-01,2027-12-02,src,x\n",
     "eks_versions.csv:3: column 'standard_support_end' must be a date YYYY-MM-DD, got '2026-13-01'"),
    ("133,2026-07-29,2027-07-29,src,x\n", "eks_versions.csv:2: column 'version' must look like 1.33, got '133'"),
    ("1.33,2026-07-29,2027-07-29,src,x\n1.33,2026-07-29,2027-07-29,src,x\n",
     "eks_versions.csv:3: column 'version' repeats 1.33 (also on line 2)"),
    ("1.33,2026-07-29,2025-07-29,src,x\n", "eks_versions.csv:2: column 'extended_support_end' (2025-07-29) is before"),
    ("1.33,2026-07-29,2027-07-29,,x\n", "eks_versions.csv:2: column 'source' is empty"),
])
def test_bad_rows_name_file_line_and_column(tmp_path, rows, message):
    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    (data / "eks_versions.csv").write_text(HEADER + rows)
    with pytest.raises(CatalogError) as info:
        load_catalog(data)
    assert message in str(info.value)


def test_missing_column(tmp_path):
    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    (data / "eks_versions.csv").write_text("version,standard_support_end,source,as_of\n")
    with pytest.raises(CatalogError, match="eks_versions.csv: missing column"):
        load_catalog(data)
