"""The HTML report in a real headless Chromium: the page renders its charts, and the numbers in the
rendered page (team totals, per-team subtotals, the grand total, the not-priced counts, the diff view) match
the report's JSON; lines are sorted by cost and their full addresses wrap instead of being cut."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from html.parser import HTMLParser

import pytest

from terraml.catalog import load_catalog
from terraml.cost import diff as d
from terraml.cost import report as rep
from terraml.cost.estimate import estimate
from terraml.cost.tfjson import read_stacks

from ..conftest import need, tool_env

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


class Rendered(HTMLParser):
    """Collects what the tests check from the DOM Chromium dumps after running the page's script."""

    def __init__(self):
        super().__init__()
        self.body: dict = {}
        self.bars: list[float] = []
        self.cells: list[tuple[str, str]] = []
        self.labels: list[str] = []
        self.line_max: dict[str, list[tuple[str, float]]] = {}
        self.addresses: list[str] = []
        self.currency: str | None = None
        self._field: str | None = None
        self._team: str | None = None
        self._text_class: str | None = None
        self._address = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "p" and a.get("id") == "currency":
            self.currency = a.get("data-currency")
        if tag == "tr" and "line" in (a.get("class") or ""):
            self.line_max.setdefault(a["data-team"], []).append((a["data-status"], float(a["data-max"])))
        if tag == "td" and "address" in (a.get("class") or ""):
            self._address = True
        if tag == "rect" and "bar" in (a.get("class") or ""):
            self.bars.append(float(a["data-value"]))
        if tag == "tr" and "data-team" in a:
            self._team = a["data-team"]
        if tag == "td" and "data-field" in a:
            self._field = a["data-field"]
        if tag == "text":
            self._text_class = a.get("class") or "label"

    def handle_endtag(self, tag):
        if tag == "td":
            self._address = False

    def handle_data(self, data):
        if self._address and data.strip():
            self.addresses.append(data.strip())
        if self._field:
            self.cells.append((f"{self._team}.{self._field}", data.strip()))
            self._field = None
        if self._text_class == "bar-value":
            self.labels.append(data.strip())
            self._text_class = None


DAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def page(synth_dir, tmp_path_factory, example_spec):
    est = estimate(read_stacks(synth_dir), load_catalog(), today=DAY)
    budgets = {t.name: t.budget.monthly_usd for t in example_spec.platform.teams if t.budget}
    data = rep.build(est, budgets=budgets, jobs=[], month="2026-11")
    folder = tmp_path_factory.mktemp("html")
    path = folder / "report.html"
    path.write_text(rep.to_html(data))
    return data, path, folder


def render(path, folder) -> Rendered:
    run = chromium("--virtual-time-budget=5000", "--dump-dom", path.as_uri(), folder=folder)
    dom = Rendered()
    dom.feed(run.stdout)
    assert dom.body.get("data-rendered") == "true", run.stderr[-2000:]  # the page's script ran to the end
    return dom


def chromium(*args, folder) -> subprocess.CompletedProcess:
    binary = need("chromium")
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={folder / 'profile'}", *args], capture_output=True,
                          text=True, timeout=120, env=tool_env())


def test_numbers_in_the_rendered_page_match_the_json(page):
    data, path, folder = page
    dom = render(path, folder)
    expected_bars = [v for t in data["teams"] for v in (t["monthly_min"], t["monthly_max"])]
    expected_bars += [data["compute_by_capacity"]["spot"]["monthly_max"],
                      data["compute_by_capacity"]["on-demand"]["monthly_max"]]
    assert dom.bars == pytest.approx(expected_bars)
    assert dom.labels == [f"${v:,.2f}" for v in expected_bars]
    cells = dict(dom.cells)
    for team in data["teams"]:
        assert cells[f"{team['team']}.monthly_min"] == f"${team['monthly_min']:,.2f}"
        assert cells[f"{team['team']}.monthly_max"] == f"${team['monthly_max']:,.2f}"
        assert cells[f"{team['team']}.subtotal_min"] == f"${team['monthly_min']:,.2f}"  # per-team subtotal row
        assert cells[f"{team['team']}.subtotal_max"] == f"${team['monthly_max']:,.2f}"
        assert cells[f"{team['team']}.not_priced"] == str(team["not_priced"]["count"])
    # the grand total row: the sum of the team totals, and every unpriced line counted
    assert cells["all.monthly_min"] == f"${data['totals']['monthly_min']:,.2f}"
    assert cells["all.monthly_max"] == f"${data['totals']['monthly_max']:,.2f}"
    assert data["totals"]["monthly_max"] == round(sum(t["monthly_max"] for t in data["teams"]), 2)
    assert cells["all.not_priced"] == str(data["not_priced"]["count"])
    assert data["not_priced"]["count"] == sum(t["not_priced"]["count"] for t in data["teams"]) > 0
    assert dom.currency == data["currency"] == "USD"


def test_lines_sorted_by_cost_with_full_addresses_that_wrap(page):
    data, path, folder = page
    dom = render(path, folder)
    for team in data["teams"]:
        rows = dom.line_max[team["team"]]
        shown = [high for status, high in rows if status == "priced"]
        assert shown == sorted(shown, reverse=True)
        assert shown[0] == round(max(x["monthly_max"] for c in team["clouds"] for x in c["lines"]), 2)
        assert rows[len(shown):] == [("unpriced", 0.0)] * team["not_priced"]["count"]  # no figure: listed last
    expected = sorted(f"{x['stack']}:{x['address']}" for t in data["teams"] for c in t["clouds"] for x in c["lines"]
                      if x["status"] != "free")
    assert sorted(dom.addresses) == expected  # every address whole, none shortened
    assert dom.body.get("data-addresses-cut") == "0"  # measured in Chromium's layout


def test_diff_view(page, synth_dir, tmp_path_factory):
    data, _, folder = page
    before = estimate(read_stacks(synth_dir), load_catalog(), today=date(2026, 7, 28))  # 1.33 in standard support
    after = estimate(read_stacks(synth_dir), load_catalog(), today=DAY)  # 1.33 in extended support
    diff = d.to_dict(d.diff(before, after))
    path = folder / "diff.html"
    path.write_text(rep.to_html(data, diff=diff))
    cells = dict(render(path, folder).cells)
    aws_teams = [t for t in diff["teams"] if t["delta_max"]]
    assert {t["team"] for t in aws_teams} == {"vision", "recsys"}
    for t in aws_teams:  # one EKS cluster each: 730 h x ($0.60 - $0.10) = +$365.00
        assert t["delta_max"] == 730 * (0.60 - 0.10) == 365.0
        assert cells[f"diff:{t['team']}.delta_max"] == "+$365.00"
        assert cells[f"diff:{t['team']}.before_max"] == f"${t['before_max']:,.2f}"
        assert cells[f"diff:{t['team']}.after_max"] == f"${t['after_max']:,.2f}"
        assert cells[f"diff:{t['team']}.percent_max"] == f"{t['delta_max'] / t['before_max'] * 100:+.1f}%"
    assert cells["diff:all.delta_max"] == "+$730.00"


def test_page_renders_to_a_screenshot(page):
    _, path, folder = page
    shot = folder / "report.png"
    run = chromium(f"--screenshot={shot}", "--window-size=1280,1400", "--virtual-time-budget=5000", path.as_uri(),
                   folder=folder)
    assert shot.exists(), run.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 1400)
    assert len(png) > 20_000  # a blank page compresses to a few KB
    assert re.search(rb"IDAT", png)
