"""The HTML report in a real headless Chromium: the page renders its charts, and the numbers in the
rendered page match the report's JSON."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import pytest

from terraml.catalog import load_catalog
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
        self._field: str | None = None
        self._team: str | None = None
        self._text_class: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "rect" and "bar" in (a.get("class") or ""):
            self.bars.append(float(a["data-value"]))
        if tag == "tr" and "data-team" in a:
            self._team = a["data-team"]
        if tag == "td" and "data-field" in a:
            self._field = a["data-field"]
        if tag == "text":
            self._text_class = a.get("class") or "label"

    def handle_data(self, data):
        if self._field:
            self.cells.append((f"{self._team}.{self._field}", data.strip()))
            self._field = None
        if self._text_class == "bar-value":
            self.labels.append(data.strip())
            self._text_class = None


@pytest.fixture(scope="module")
def page(synth_dir, tmp_path_factory, example_spec):
    est = estimate(read_stacks(synth_dir), load_catalog())
    budgets = {t.name: t.budget.monthly_usd for t in example_spec.platform.teams if t.budget}
    data = rep.build(est, budgets=budgets, jobs=[], month="2026-11")
    folder = tmp_path_factory.mktemp("html")
    path = folder / "report.html"
    path.write_text(rep.to_html(data))
    return data, path, folder


def chromium(*args, folder) -> subprocess.CompletedProcess:
    binary = need("chromium")
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={folder / 'profile'}", *args], capture_output=True,
                          text=True, timeout=120, env=tool_env())


def test_numbers_in_the_rendered_page_match_the_json(page):
    data, path, folder = page
    run = chromium("--virtual-time-budget=5000", "--dump-dom", path.as_uri(), folder=folder)
    dom = Rendered()
    dom.feed(run.stdout)
    assert dom.body.get("data-rendered") == "true", run.stderr[-2000:]  # the page's script ran to the end
    expected_bars = [v for t in data["teams"] for v in (t["monthly_min"], t["monthly_max"])]
    expected_bars += [data["compute_by_capacity"]["spot"]["monthly_max"],
                      data["compute_by_capacity"]["on-demand"]["monthly_max"]]
    assert dom.bars == pytest.approx(expected_bars)
    assert dom.labels == [f"${v:,.2f}" for v in expected_bars]
    cells = dict(dom.cells)
    for team in data["teams"]:
        assert cells[f"{team['team']}.monthly_min"] == f"${team['monthly_min']:,.2f}"
        assert cells[f"{team['team']}.monthly_max"] == f"${team['monthly_max']:,.2f}"


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
