"""defaults.kubernetes_version against the EKS version table (eks_versions.csv): 1.33's standard support ended
2026-07-29 (extended until 2027-07-29); 1.36 is in standard support until 2027-08-02. Fees: $0.10 standard,
$0.60 extended per cluster-hour (fixed_fees.csv)."""

from __future__ import annotations

from datetime import date

from terraml.catalog import load_catalog
from terraml.cloud import get
from terraml.spec.checks import Findings, check_platform


def warnings_for(version: str, today: date) -> list:
    findings = Findings(load_catalog())
    get("aws").check_kubernetes_version(version, findings, today=today)
    assert findings.errors == []
    return findings.warnings


def test_the_default_version_is_in_extended_support_on_2026_11_30(example_spec):
    assert example_spec.platform.defaults.kubernetes_version == "1.33"
    [w] = warnings_for("1.33", date(2026, 11, 30))
    assert w.path == "defaults.kubernetes_version"
    assert "'1.33' left EKS standard support on 2026-07-29" in w.message
    assert "extended support until 2027-07-29" in w.message
    assert "$0.6 per cluster-hour instead of $0.1" in w.message
    assert "Pin a version in standard support, e.g. '1.36' (standard support until 2027-08-02)" in w.message


def test_versions_in_standard_support_pass_and_unknown_ones_are_named():
    assert warnings_for("1.33", date(2026, 7, 28)) == []
    assert warnings_for("1.35", date(2026, 11, 30)) == []
    [past] = warnings_for("1.29", date(2026, 11, 30))
    assert "end of EKS extended support on 2026-03-23" in past.message
    [unknown] = warnings_for("1.27", date(2026, 11, 30))
    assert "not in terraml's EKS version table" in unknown.message and "1.29, 1.30" in unknown.message


def test_the_example_spec_still_validates(example_spec):
    errors, _ = check_platform(example_spec.platform)
    assert errors == []
