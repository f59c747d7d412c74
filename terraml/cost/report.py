"""Per team, per cloud, per resource: monthly min/max, jobs this month, budget used. One data model,
rendered as a table, JSON, CSV, Markdown or a self-contained HTML page with charts."""

from __future__ import annotations

import csv
import html
import io
import json
from decimal import Decimal

from terraml.cost.ledger import LedgerEntry
from terraml.cost.model import UNPRICED, Estimate


def cents(value: Decimal | float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01")))


def build(estimate: Estimate, *, budgets: dict[str, float] | None = None, jobs: list[LedgerEntry] | None = None,
          month: str, team: str | None = None) -> dict:
    budgets = budgets or {}
    teams = [t for t in estimate.teams() if team is None or t == team]
    if team and team not in teams:
        teams = [team]
    out_teams = []
    for name in teams:
        lines = [line for line in estimate.lines if line.team == name]
        low, high = estimate.total(name)
        team_jobs = [j for j in (jobs or []) if j.team == name and j.month() == month]
        jobs_usd = sum((Decimal(str(j.cost_usd)) for j in team_jobs if j.cost_usd is not None), Decimal(0))
        budget = budgets.get(name)
        clouds = []
        for cloud in sorted({line.cloud for line in lines}):
            cloud_min, cloud_max = estimate.total(name, cloud)
            clouds.append({"cloud": cloud, "monthly_min": cents(cloud_min), "monthly_max": cents(cloud_max),
                           "lines": [x.to_dict() for x in lines if x.cloud == cloud]})
        entry = {
            "team": name, "monthly_min": cents(low), "monthly_max": cents(high), "clouds": clouds,
            "unpriced": sum(1 for x in lines if x.status == UNPRICED),
            "jobs_this_month": [{"backend": j.backend, "name": j.name, "state": j.state, "cost_usd": j.cost_usd,
                                 "savings_percent": j.savings_percent, "capacity": j.capacity} for j in team_jobs],
            "jobs_usd": cents(jobs_usd), "budget_monthly_usd": budget,
        }
        if budget:
            entry["budget_used_min_percent"] = round(float((low + jobs_usd) / Decimal(str(budget)) * 100), 1)
            entry["budget_used_max_percent"] = round(float((high + jobs_usd) / Decimal(str(budget)) * 100), 1)
        out_teams.append(entry)
    capacity = {}
    for cap in ("spot", "on-demand"):
        rows = [x for x in estimate.priced() if x.capacity == cap and (team is None or x.team == team)]
        capacity[cap] = {"monthly_min": cents(sum((x.monthly_min for x in rows), Decimal(0))),
                         "monthly_max": cents(sum((x.monthly_max for x in rows), Decimal(0)))}
    low = sum((Decimal(str(t["monthly_min"])) for t in out_teams), Decimal(0))
    high = sum((Decimal(str(t["monthly_max"])) for t in out_teams), Decimal(0))
    return {"month": month, "stacks": estimate.stacks, "teams": out_teams,
            "totals": {"monthly_min": cents(low), "monthly_max": cents(high)}, "compute_by_capacity": capacity}


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def amount(line: dict, field: str) -> str:
    """A line's money column: never '$0.00' for something that is charged but has no price."""
    return "unpriced" if line["status"] == "unpriced" else money(line[field])


def budget_text(t: dict) -> str:
    if not t.get("budget_monthly_usd"):
        return "no budget"
    return (f"{t['budget_used_min_percent']:g}%-{t['budget_used_max_percent']:g}% of "
            f"{money(t['budget_monthly_usd'])}")


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def to_csv(report: dict) -> str:
    buf = io.StringIO()
    fields = ["team", "cloud", "stack", "address", "component", "status", "capacity", "monthly_min", "monthly_max",
              "unit_price", "price_ref", "explain"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for t in report["teams"]:
        for c in t["clouds"]:
            for line in c["lines"]:
                writer.writerow({**line, "monthly_min": f"{line['monthly_min']:.2f}",
                                 "monthly_max": f"{line['monthly_max']:.2f}"})
    return buf.getvalue()


def to_markdown(report: dict, *, free: bool = False) -> str:
    out = [f"## terraml cost estimate ({report['month']})", "",
           "| team | monthly min | monthly max | jobs this month | budget used |", "|---|---:|---:|---:|---|"]
    for t in report["teams"]:
        out.append(f"| {t['team']} | {money(t['monthly_min'])} | {money(t['monthly_max'])} | {money(t['jobs_usd'])} "
                   f"| {budget_text(t)} |")
    out.append(f"| **all** | **{money(report['totals']['monthly_min'])}** | "
               f"**{money(report['totals']['monthly_max'])}** | | |")
    for t in report["teams"]:
        out += ["", f"### {t['team']}", "", "| cloud | resource | component | min/month | max/month | how |",
                "|---|---|---|---:|---:|---|"]
        for c in t["clouds"]:
            for line in c["lines"]:
                if line["status"] == "free" and not free:
                    continue
                out.append(f"| {c['cloud']} | `{line['address']}` | {line['component']} | "
                           f"{amount(line, 'monthly_min')} | {amount(line, 'monthly_max')} | "
                           f"{line['explain'].replace('|', '/')} |")
    return "\n".join(out) + "\n"


def to_table(report: dict, console) -> None:
    from rich.table import Table

    summary = Table("team", "monthly min", "monthly max", "jobs this month", "budget used", "unpriced",
                    title=f"terraml cost estimate, {report['month']}")
    for t in report["teams"]:
        summary.add_row(t["team"], money(t["monthly_min"]), money(t["monthly_max"]), money(t["jobs_usd"]),
                        budget_text(t), str(t["unpriced"]))
    summary.add_row("[bold]all[/bold]", money(report["totals"]["monthly_min"]),
                    money(report["totals"]["monthly_max"]), "", "", "")
    console.print(summary)
    for t in report["teams"]:
        detail = Table("cloud", "resource", "component", "min/month", "max/month", "how", title=t["team"])
        for c in t["clouds"]:
            for line in c["lines"]:
                if line["status"] == "free":
                    continue
                detail.add_row(c["cloud"], line["address"], line["component"], amount(line, "monthly_min"),
                               amount(line, "monthly_max"), line["explain"])
        console.print(detail)


HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>terraml cost estimate {month}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} td, th {{ border: 1px solid #ccd; padding: .3rem .6rem; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }} .muted {{ color: #667; font-size: .85rem; }}
.charts {{ display: flex; gap: 3rem; flex-wrap: wrap; }} svg text {{ font-size: 12px; }}
</style></head><body>
<h1>terraml cost estimate <span class="muted">{month}</span></h1>
<p class="muted">Stacks: {stacks}. Every line names its price row; unpriced resources are listed with the reason.</p>
<div class="charts">
  <figure><figcaption>Monthly cost per team (min and max)</figcaption><svg id="chart-teams" width="520"></svg></figure>
  <figure><figcaption>Compute: spot vs on-demand (max per month)</figcaption><svg id="chart-capacity" width="420"
   height="140"></svg></figure>
</div>
<h2>Teams</h2>
<table id="teams"><thead><tr><th>team</th><th>monthly min</th><th>monthly max</th><th>jobs this month</th>
<th>budget used</th><th>unpriced</th></tr></thead><tbody>{team_rows}</tbody></table>
{details}
<script type="application/json" id="report-data">{data}</script>
<script>
const report = JSON.parse(document.getElementById("report-data").textContent);
const fmt = v => "$" + v.toLocaleString("en-US", {{minimumFractionDigits: 2, maximumFractionDigits: 2}});
function bars(svg, rows, width) {{
  const max = Math.max(1, ...rows.map(r => r.value));
  const ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("height", rows.length * 26 + 10);
  rows.forEach((r, i) => {{
    const y = 5 + i * 26;
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 0); label.setAttribute("y", y + 15); label.textContent = r.label;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", 150); rect.setAttribute("y", y); rect.setAttribute("height", 20);
    rect.setAttribute("width", Math.max(1, (width - 260) * r.value / max)); rect.setAttribute("fill", r.color);
    rect.setAttribute("data-value", r.value.toFixed(2)); rect.setAttribute("class", "bar");
    const value = document.createElementNS(ns, "text");
    value.setAttribute("x", 155 + (width - 260) * r.value / max); value.setAttribute("y", y + 15);
    value.setAttribute("class", "bar-value"); value.textContent = fmt(r.value);
    svg.append(label, rect, value);
  }});
}}
bars(document.getElementById("chart-teams"), report.teams.flatMap(t => [
  {{label: t.team + " min", value: t.monthly_min, color: "#7aa6d8"}},
  {{label: t.team + " max", value: t.monthly_max, color: "#2f6db3"}}]), 520);
bars(document.getElementById("chart-capacity"), [
  {{label: "spot", value: report.compute_by_capacity["spot"].monthly_max, color: "#3a9d5d"}},
  {{label: "on-demand", value: report.compute_by_capacity["on-demand"].monthly_max, color: "#c8553d"}}], 420);
document.body.setAttribute("data-rendered", "true");
</script></body></html>
"""


def to_html(report: dict) -> str:
    esc = html.escape
    team_rows = "".join(
        f'<tr data-team="{esc(t["team"])}"><td>{esc(t["team"])}</td>'
        f'<td class="num" data-field="monthly_min">{money(t["monthly_min"])}</td>'
        f'<td class="num" data-field="monthly_max">{money(t["monthly_max"])}</td>'
        f'<td class="num" data-field="jobs_usd">{money(t["jobs_usd"])}</td><td>{esc(budget_text(t))}</td>'
        f'<td class="num">{t["unpriced"]}</td></tr>' for t in report["teams"])
    details = []
    for t in report["teams"]:
        rows = "".join(
            f'<tr><td>{esc(c["cloud"])}</td><td><code>{esc(line["address"])}</code></td><td>{esc(line["component"])}'
            f'</td><td class="num">{amount(line, "monthly_min")}</td><td class="num">{amount(line, "monthly_max")}</td>'
            f'<td class="muted">{esc(line["explain"])}</td></tr>'
            for c in t["clouds"] for line in c["lines"] if line["status"] != "free")
        details.append(f'<h2>{esc(t["team"])}</h2><table><thead><tr><th>cloud</th><th>resource</th>'
                       f'<th>component</th><th>min/month</th><th>max/month</th><th>how</th></tr></thead>'
                       f'<tbody>{rows}</tbody></table>')
    data = json.dumps(report, sort_keys=True).replace("</", "<\\/")
    return HTML.format(month=esc(report["month"]), stacks=esc(", ".join(report["stacks"])), team_rows=team_rows,
                       details="".join(details), data=data)
