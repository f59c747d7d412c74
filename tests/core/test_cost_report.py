"""Reports, diffs and job estimates, as a user gets them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from terraml.catalog import load_catalog
from terraml.cost import diff as d
from terraml.cost import report as rep
from terraml.cost.estimate import estimate
from terraml.cost.job_estimate import job_estimate
from terraml.cost.model import FREE, PRICED, UNPRICED, Estimate, Line
from terraml.cost.tfjson import read_stacks

from ..conftest import EXAMPLE, H, tool_env

DAY = date(2026, 11, 30)  # Kubernetes 1.33 is in EKS extended support on this day ($0.60/h)


@pytest.fixture(scope="module")
def report(synth_dir, example_spec):
    est = estimate(read_stacks(synth_dir), load_catalog(), today=DAY)
    budgets = {t.name: t.budget.monthly_usd for t in example_spec.platform.teams if t.budget}
    return rep.build(est, budgets=budgets, jobs=[], month="2026-11", today=DAY)


def test_team_totals_are_the_sum_of_their_priced_lines(report):
    for team in report["teams"]:
        lines = [x for c in team["clouds"] for x in c["lines"] if x["status"] == "priced"]
        assert team["monthly_min"] == round(sum(x["monthly_min"] for x in lines), 2)
        assert team["monthly_max"] == round(sum(x["monthly_max"] for x in lines), 2)
    assert report["totals"]["monthly_max"] == round(sum(t["monthly_max"] for t in report["teams"]), 2)


def test_budget_used(report):
    recsys = next(t for t in report["teams"] if t["team"] == "recsys")
    assert recsys["budget_monthly_usd"] == 8000
    assert recsys["budget_used_max_percent"] == round(recsys["monthly_max"] / 8000 * 100, 1)
    count = recsys["not_priced"]["count"]
    assert count > 0 and rep.budget_text(recsys).endswith(f"of $8,000.00 (excludes {count} unpriced)")


def test_without_a_spec_budgets_are_unknown_not_absent(synth_dir):
    """A report read without the spec cannot know the budgets: it must not say a team has none."""
    est = estimate(read_stacks(synth_dir), load_catalog(), today=DAY)
    unknown = rep.build(est, budgets=None, jobs=[], month="2026-11", today=DAY)
    assert {rep.budget_text(t) for t in unknown["teams"]} == {"unknown (no spec: pass --spec)"}
    nlp_without = rep.build(est, budgets={"vision": 20000}, jobs=[], month="2026-11", today=DAY)
    assert rep.budget_text(next(t for t in nlp_without["teams"] if t["team"] == "nlp")) == "no budget"


def test_not_priced_total_counts_and_groups_the_reasons(report):
    for team in report["teams"]:
        unpriced = [x for c in team["clouds"] for x in c["lines"] if x["status"] == "unpriced"]
        summary = team["not_priced"]
        assert summary["count"] == len(unpriced) == sum(g["count"] for g in summary["reasons"])
        for group in summary["reasons"]:
            assert group["count"] == sum(1 for x in unpriced if x["reason"] == group["reason"])
    assert report["not_priced"]["count"] == sum(t["not_priced"]["count"] for t in report["teams"])
    recsys = next(t for t in report["teams"] if t["team"] == "recsys")
    stored = next(g for g in recsys["not_priced"]["reasons"] if "aws.logs.storage" in g["reason"])
    assert stored["count"] == 2  # log storage of the EKS and the flow-log groups: no sourced row yet


def test_every_format_shows_the_currency_and_the_not_priced_total(report, tmp_path):
    total = report["not_priced"]["count"]
    assert report["currency"] == "USD" and json.loads(rep.to_json(report))["currency"] == "USD"
    md = rep.to_markdown(report)
    assert "USD per month" in md and f"**Not priced:** {total} unpriced: " in md
    rows = list(csv.DictReader(io.StringIO(rep.to_csv(report))))
    assert {r["currency"] for r in rows} == {"USD"}
    [overall] = [r for r in rows if r["status"] == "not priced" and r["team"] == "all"]
    assert overall["component"] == f"not priced: {total}" and overall["explain"].startswith(f"{total} unpriced: ")
    from rich.console import Console

    console = Console(record=True, width=200)
    rep.to_table(report, console)
    text = console.export_text()
    assert "monthly max (USD)" in text and f"Not priced: {total} unpriced: " in text


def test_csv_and_markdown_carry_every_priced_line(report):
    rows = list(csv.DictReader(io.StringIO(rep.to_csv(report))))
    priced = [r for r in rows if r["status"] == "priced"]
    assert len(priced) == sum(1 for t in report["teams"] for c in t["clouds"] for x in c["lines"]
                              if x["status"] == "priced")
    assert all(r["price_ref"] for r in priced)
    md = rep.to_markdown(report)
    # recsys min: control plane 730 h x $0.60 (1.33, extended support) + 2 system nodes x 730 h x $0.192
    # (m6i.xlarge us-west-2) + 3 NAT x (730 h x $0.045 + 100 GB x $0.045) + 500 GB x $0.023 + 50 GB x $0.10
    # + 3 public IPv4 (one per NAT) x 730 h x $0.005 + 1 KMS key x $1.00 + 2 log groups x 10 GB x $0.50 ingested
    recsys_min = (730 * 0.60 + 2 * 730 * 0.192 + 3 * (730 * 0.045 + 100 * 0.045) + 500 * 0.023 + 50 * 0.10
                  + 3 * 730 * 0.005 + 1.00 + 2 * 10 * 0.50)
    assert round(recsys_min, 2) == 868.82 and "| recsys | $868.82 |" in md
    assert "unpriced" in md  # unpriced lines never show as $0.00


def test_job_estimate_arithmetic():
    auto = job_estimate(mode="auto", first_capacity="spot", hours=4, instances=2, on_demand_usd_per_hour=1.5,
                        spot_usd_per_hour=0.5)
    assert (auto.expected_usd, auto.worst_usd) == (4 * 2 * 0.5, 4 * 2 * 0.5 + 4 * 2 * 1.5)
    spot = job_estimate(mode="spot", first_capacity="spot", hours=4, instances=1, on_demand_usd_per_hour=1.5,
                        spot_usd_per_hour=0.5)
    assert (spot.expected_usd, spot.worst_usd) == (2.0, 2.0)
    od = job_estimate(mode="on-demand", first_capacity="on-demand", hours=3, instances=1,
                      on_demand_usd_per_hour=1.5, spot_usd_per_hour=0.5)
    assert (od.expected_usd, od.worst_usd) == (4.5, 4.5)


def test_diff_on_a_change_that_adds_a_gpu_pool(tmp_path, synth_dir):
    text = EXAMPLE.read_text().replace("""            spot: {mode: spot}
        registry: {}""", """            spot: {mode: spot}
          - name: infer
            accelerator: T4
            min_nodes: 1
            max_nodes: 2
        registry: {}""")
    assert "name: infer" in text
    spec = tmp_path / "platform.yaml"
    spec.write_text(text)
    run = subprocess.run([sys.executable, "-m", "terraml.cli", "synth", str(spec), "--outdir", str(tmp_path / "new")],
                         capture_output=True, text=True, env=tool_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    result = d.diff(estimate(read_stacks(synth_dir), load_catalog()),
                    estimate(read_stacks(tmp_path / "new"), load_catalog()))
    # launch template and helm values change too, but they carry no cost; the new pool's disks have no price row
    disks, added = result.changes  # sorted by resource, then component
    g4dn = load_catalog().vm("aws", "us-west-2", "g4dn.xlarge").on_demand_usd_per_hour
    assert (added.change, added.team, added.component) == ("added", "recsys", "nodes")
    assert "pool-infer-on-demand" in added.address
    assert (float(added.delta_min), float(added.delta_max)) == (round(1 * H * g4dn, 4), round(2 * H * g4dn, 4))
    assert (disks.change, disks.address, disks.delta_max) == ("added, unpriced", added.address, 0)
    assert "no 'aws.ebs.gp3' row" in disks.reason
    recsys = result.teams["recsys"]
    assert recsys.after_max - recsys.before_max == recsys.delta_max == Decimal(str(2 * H * g4dn))
    md = d.to_markdown(result)
    assert f"+${1 * H * g4dn:,.2f} (+{1 * H * g4dn / float(recsys.before_min) * 100:.1f}%)" in md
    assert f"| added, unpriced | recsys | `recsys-aws:{disks.address}` |" in md
    cli = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "diff", str(synth_dir), str(tmp_path / "new"),
                          "--format", "markdown"], capture_output=True, text=True, env=tool_env(), timeout=120)
    assert cli.returncode == 0 and cli.stdout == md


def test_report_cli_formats(tmp_path, synth_dir):
    for fmt in ("json", "csv", "markdown", "html"):
        out = tmp_path / f"report.{fmt}"
        run = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "report", "--dir", str(synth_dir),
                              "--format", fmt, "--output", str(out), "--spec", str(EXAMPLE), "--home",
                              str(tmp_path / "home")], capture_output=True, text=True, env=tool_env(), timeout=120)
        assert run.returncode == 0, run.stderr
        assert out.stat().st_size > 1000
    data = json.loads((tmp_path / "report.json").read_text())
    assert {t["team"] for t in data["teams"]} == {"vision", "recsys", "nlp"}
    bad = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "report", "--dir", str(synth_dir),
                          "--format", "pdf"], capture_output=True, text=True, env=tool_env(), timeout=60)
    assert bad.returncode == 2 and "--format: 'pdf' is not a format" in bad.stderr


def test_jobs_this_month_come_from_job_records(tmp_path, synth_dir):
    from terraml.backend import JobStatus, State
    from terraml.cost.ledger import read_jobs, record_cloud_job

    record_cloud_job(tmp_path, "aws", "big-train", "vision",
                     JobStatus(State.COMPLETED, cost_usd=123.4, billable_seconds=100, training_seconds=500,
                               savings_percent=80.0, capacity="spot"))
    jobs = read_jobs(tmp_path)
    month = jobs[0].month()
    data = rep.build(estimate(read_stacks(synth_dir), load_catalog()), budgets={"vision": 20000}, jobs=jobs,
                     month=month)
    vision = next(t for t in data["teams"] if t["team"] == "vision")
    assert vision["jobs_usd"] == 123.4 and vision["jobs_this_month"][0]["savings_percent"] == 80.0
    assert vision["budget_used_min_percent"] == round((vision["monthly_min"] + 123.4) / 20000 * 100, 1)


def _line(address: str, status: str, low: float = 0, high: float = 0, team: str = "t", reason: str = "") -> Line:
    return Line(stack="t-aws", team=team, cloud="aws", region="us-east-1", address=address, resource_type="x",
                component="c", status=status, monthly_min=Decimal(str(low)), monthly_max=Decimal(str(high)),
                reason=reason, price_ref="r" if status == PRICED else "", unit_price=1.0 if status == PRICED else None,
                quantity_min=low, quantity_max=high)


def test_diff_never_counts_a_resource_that_lost_its_price_as_a_saving():
    old = Estimate([_line("a.kept", PRICED, 100, 200), _line("b.lost", PRICED, 50, 50),
                    _line("c.grew", PRICED, 10, 10), _line("e.gone", PRICED, 5, 5), _line("f.free", FREE),
                    _line("g.was_unpriced", UNPRICED, reason="no row")])
    new = Estimate([_line("a.kept", PRICED, 100, 200), _line("b.lost", UNPRICED, reason="no row for b"),
                    _line("c.grew", PRICED, 30, 40), _line("d.new", UNPRICED, reason="no row for d"),
                    _line("f.free", FREE), _line("g.was_unpriced", PRICED, 7, 7)])
    result = d.diff(old, new)
    kinds = {c.address: c.change for c in result.changes}
    assert kinds == {"b.lost": "now unpriced", "c.grew": "changed", "d.new": "added, unpriced",
                     "e.gone": "removed", "g.was_unpriced": "now priced"}
    t = result.teams["t"]
    assert (t.before_min, t.before_max) == (100 + 50 + 10 + 5, 200 + 50 + 10 + 5)  # 165, 265
    assert (t.after_min, t.after_max) == (100 + 30 + 7, 200 + 40 + 7)  # 137, 247
    # counted: c +20/+30, e -5/-5, g +7/+7; b's 50 is neither a saving nor in "after"
    assert (t.delta_min, t.delta_max) == (20 - 5 + 7, 30 - 5 + 7) == (22, 32)
    assert (t.percent_min, t.percent_max) == (round(22 / 165 * 100, 1), round(32 / 265 * 100, 1)) == (13.3, 12.1)
    assert (t.now_unpriced, t.now_unpriced_was_max, t.added_unpriced) == (1, 50, 1)
    md = d.to_markdown(result)
    assert ("| now unpriced | t | `t-aws:b.lost` | c | now unpriced | now unpriced | no row for b; was "
            "$50.00-$50.00") in md
    assert "| t | $165.00 | $265.00 | $137.00 | $247.00 | +$22.00 (+13.3%) | +$32.00 (+12.1%) |" in md
    assert "1 now unpriced (were $50.00-$50.00, not counted); 1 new unpriced" in md
    data = d.to_dict(result)
    assert data["currency"] == "USD" and data["totals"]["delta_max"] == 32.0 and data["totals"]["percent_max"] == 12.1
    lost = next(c for c in data["changes"] if c["address"] == "b.lost")
    assert (lost["counted"], lost["delta_min"], lost["old_max"], lost["reason"]) == (False, 0.0, 50.0, "no row for b")


def test_cost_usage_prints_a_usage_file_that_loads(tmp_path):
    run = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "usage"], capture_output=True, text=True,
                         env=tool_env(), timeout=60)
    assert run.returncode == 0, run.stderr
    assert "log_ingest_gb: 10" in run.stdout and "# Log data ingested" in run.stdout
    path = tmp_path / "usage.yaml"
    path.write_text(run.stdout)
    from terraml.cli.cost import load_usage
    from terraml.cost.model import Usage

    assert load_usage(str(path)) == Usage()
    helped = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "report", "--help"], capture_output=True,
                            text=True, env={**tool_env(), "COLUMNS": "200"}, timeout=60)
    assert "`terraml cost usage` prints every field with its default" in helped.stdout


def _caveat_report() -> dict:
    """Two priced lines: an Azure-style spot line whose spot price is dated ~2024-08-18 (27 months before DAY,
    (2026 - 2024) x 12 + (11 - 8)), and an on-demand line of the same row (dated 2026-06-18: no caveat)."""
    as_of = "2026-06-18 (on-demand); ~2024-08-18 (spot)"
    spot = Line(stack="t-azure", team="t", cloud="azure", region="eastus", address="pool.spot", resource_type="x",
                component="nodes", status=PRICED, monthly_min=Decimal("0"), monthly_max=Decimal("648.87"),
                quantity_min=0, quantity_max=1460, unit="node-hours", unit_price=0.444433, capacity="spot",
                price_ref="vm_prices.csv azure eastus Standard_NC24ads_A100_v4 spot", source="s", as_of=as_of)
    od = Line(stack="t-azure", team="t", cloud="azure", region="eastus", address="pool.od", resource_type="x",
              component="nodes", status=PRICED, monthly_min=Decimal("0"), monthly_max=Decimal("5362.58"),
              quantity_min=0, quantity_max=1460, unit="node-hours", unit_price=3.673, capacity="on-demand",
              price_ref="vm_prices.csv azure eastus Standard_NC24ads_A100_v4 ondemand", source="s", as_of=as_of)
    return rep.build(Estimate([spot, od], stacks=["t-azure"]), month="2026-11", today=DAY)


CAVEAT = "spot price 27 months old (as of ~2024-08-18)"


def test_a_price_row_caveat_shows_in_every_format():
    report = _caveat_report()
    lines = {x["address"]: x for x in report["teams"][0]["clouds"][0]["lines"]}
    assert (lines["pool.spot"]["caveat"], lines["pool.od"]["caveat"], report["caveats"]) == (CAVEAT, "", 1)
    assert json.loads(rep.to_json(report))["teams"][0]["clouds"][0]["lines"][0]["caveat"] == CAVEAT
    rows = {r["address"]: r for r in csv.DictReader(io.StringIO(rep.to_csv(report))) if r["address"]}
    assert (rows["pool.spot"]["caveat"], rows["pool.od"]["caveat"]) == (CAVEAT, "")
    md = rep.to_markdown(report)
    [spot_row] = [x for x in md.splitlines() if "`pool.spot`" in x]
    assert spot_row.endswith(f"**CAVEAT:** {CAVEAT} |") and "**Price caveats:** 1 priced line(s)" in md
    assert "CAVEAT" not in next(x for x in md.splitlines() if "`pool.od`" in x)
    page = rep.to_html(report)
    assert f'data-caveat="{CAVEAT}"' in page and f'<span class="caveat">CAVEAT: {CAVEAT}</span>' in page
    assert '<p id="caveats" data-count="1">' in page
    from rich.console import Console

    console = Console(record=True, width=400)
    rep.to_table(report, console)
    text = console.export_text()
    assert f"CAVEAT: {CAVEAT}" in text and text.count("CAVEAT:") == 1 and "Price caveats: 1 priced line(s)" in text


def test_the_example_report_marks_the_doubtful_and_old_rows(report):
    """On DAY: gcp.gke.cluster was last corroborated 2025-05-21 (18 months); the Azure spot pools' spot price is
    ~2024-08-18 (27 months); the AWS public IPv4 price is dated 2024-02-01 (33 months)."""
    caveats = {(x["resource_type"], x["caveat"]) for t in report["teams"] for c in t["clouds"] for x in c["lines"]
               if x["caveat"]}
    assert ("google_container_cluster", "price 18 months old (as of corroborated 2025-05-21)") in caveats
    assert ("aws_eip", "price 33 months old (as of 2024-02-01 (effective))") in caveats
    assert any(c == CAVEAT for _, c in caveats)
    assert report["caveats"] == sum(1 for t in report["teams"] for c in t["clouds"] for x in c["lines"] if x["caveat"])
