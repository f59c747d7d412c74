"""Reports, diffs and job estimates, as a user gets them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from terraml.catalog import load_catalog
from terraml.cost import diff as d
from terraml.cost import report as rep
from terraml.cost.estimate import estimate
from terraml.cost.job_estimate import job_estimate
from terraml.cost.tfjson import read_stacks

from ..conftest import EXAMPLE, H, tool_env


@pytest.fixture(scope="module")
def report(synth_dir, example_spec):
    est = estimate(read_stacks(synth_dir), load_catalog())
    budgets = {t.name: t.budget.monthly_usd for t in example_spec.platform.teams if t.budget}
    return rep.build(est, budgets=budgets, jobs=[], month="2026-11")


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


def test_csv_and_markdown_carry_every_priced_line(report):
    rows = list(csv.DictReader(io.StringIO(rep.to_csv(report))))
    priced = [r for r in rows if r["status"] == "priced"]
    assert len(priced) == sum(1 for t in report["teams"] for c in t["clouds"] for x in c["lines"]
                              if x["status"] == "priced")
    assert all(r["price_ref"] for r in priced)
    md = rep.to_markdown(report)
    assert "| recsys | $481.87 |" in md and "unpriced" in md  # unpriced lines never show as $0.00


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
    changes = d.diff(estimate(read_stacks(synth_dir), load_catalog()),
                     estimate(read_stacks(tmp_path / "new"), load_catalog()))
    [added] = changes  # launch template and helm values change too, but they carry no cost
    g4dn = load_catalog().vm("aws", "us-west-2", "g4dn.xlarge").on_demand_usd_per_hour
    assert (added.change, added.team, added.component) == ("added", "recsys", "nodes")
    assert "pool-infer-on-demand" in added.address
    assert (float(added.delta_min), float(added.delta_max)) == (round(1 * H * g4dn, 4), round(2 * H * g4dn, 4))
    md = d.to_markdown(changes)
    assert f"| recsys | +${1 * H * g4dn:,.2f} | +${2 * H * g4dn:,.2f} |" in md
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
