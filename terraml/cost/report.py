"""Per team, per cloud, per resource: monthly min/max, jobs this month, budget used. One data model,
rendered as a table, JSON, CSV, Markdown or a self-contained HTML page with charts.

Every figure is in USD (the report's ``currency``). Totals and budget percentages are of the priced lines
only; what they leave out is the "not priced" total of every format: the count of unpriced lines and their
reasons, grouped. A priced line whose price row is in doubt or old carries the row's caveat
(terraml.catalog.row_caveat), shown next to its figure in every format."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date
from decimal import Decimal

from terraml.catalog import STALE_AFTER_MONTHS
from terraml.cost.ledger import LedgerEntry
from terraml.cost.model import CURRENCY, UNPRICED, Estimate, not_priced


def cents(value: Decimal | float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01")))


def build(estimate: Estimate, *, budgets: dict[str, float] | None = None, jobs: list[LedgerEntry] | None = None,
          month: str, team: str | None = None, today: date | None = None) -> dict:
    """``today`` (default: the current date) is the day the price rows' ages are counted to. ``budgets`` None:
    no spec was read, so whether a team has a budget is unknown (not the same as having none)."""
    known = budgets is not None
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
                           "lines": [x.to_dict(today) for x in lines if x.cloud == cloud]})
        entry = {
            "team": name, "monthly_min": cents(low), "monthly_max": cents(high), "clouds": clouds,
            "unpriced": sum(1 for x in lines if x.status == UNPRICED), "not_priced": not_priced(lines),
            "jobs_this_month": [{"backend": j.backend, "name": j.name, "state": j.state, "cost_usd": j.cost_usd,
                                 "savings_percent": j.savings_percent, "capacity": j.capacity} for j in team_jobs],
            "jobs_usd": cents(jobs_usd), "budget_monthly_usd": budget, "budget_known": known,
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
    every = [x for x in estimate.lines if team is None or x.team == team]
    caveats = sum(1 for t in out_teams for c in t["clouds"] for x in c["lines"] if x.get("caveat"))
    return {"caveats": caveats, "month": month, "currency": CURRENCY, "stacks": estimate.stacks, "teams": out_teams,
            "totals": {"monthly_min": cents(low), "monthly_max": cents(high)}, "not_priced": not_priced(every),
            "compute_by_capacity": capacity}


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def amount(line: dict, field: str) -> str:
    """A line's money column: never '$0.00' for something that is charged but has no price."""
    return "unpriced" if line["status"] == "unpriced" else money(line[field])


def budget_text(t: dict) -> str:
    if not t.get("budget_known", True):
        return "unknown (no spec: pass --spec)"
    if not t.get("budget_monthly_usd"):
        return "no budget"
    count = t["not_priced"]["count"]
    left_out = f" (excludes {count} unpriced)" if count else ""
    return (f"{t['budget_used_min_percent']:g}%-{t['budget_used_max_percent']:g}% of "
            f"{money(t['budget_monthly_usd'])}{left_out}")


def not_priced_text(summary: dict) -> str:
    """'3 unpriced: 2 x reason; 1 x reason' (the reasons grouped, most frequent first)."""
    if not summary["count"]:
        return "none"
    groups = "; ".join(f"{g['count']} x {g['reason']}" for g in summary["reasons"])
    return f"{summary['count']} unpriced: {groups}"


def caveat_text(line: dict) -> str:
    """'' or ' CAVEAT: <doubt/age of the price row>' for a line's "how" column."""
    return f" CAVEAT: {line['caveat']}" if line.get("caveat") else ""


def caveat_note(report: dict) -> str:
    """The sentence under a report's summary that says how many figures rest on a doubtful or old price row."""
    count = report.get("caveats", 0)
    return (f"{count} priced line(s) use a price row in doubt or more than {STALE_AFTER_MONTHS} months old "
            "(marked CAVEAT)." if count else "")


def by_cost(lines: list[dict]) -> list[dict]:
    """Largest monthly max first (then min, then address); unpriced lines last, as they have no figure."""
    return sorted(lines, key=lambda x: (x["status"] == "unpriced", -x["monthly_max"], -x["monthly_min"],
                                        x["stack"], x["address"], x["component"]))


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def to_csv(report: dict) -> str:
    buf = io.StringIO()
    fields = ["team", "cloud", "stack", "address", "component", "status", "capacity", "currency", "monthly_min",
              "monthly_max", "unit_price", "price_ref", "explain", "caveat"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    currency = report["currency"]
    for t in report["teams"]:
        for c in t["clouds"]:
            for line in c["lines"]:
                writer.writerow({**line, "currency": currency, "monthly_min": f"{line['monthly_min']:.2f}",
                                 "monthly_max": f"{line['monthly_max']:.2f}"})
    # The totals leave the unpriced lines out: say how many and why, per team and overall (status 'not priced').
    for name, summary in [*((t["team"], t["not_priced"]) for t in report["teams"]), ("all", report["not_priced"])]:
        writer.writerow({"team": name, "component": f"not priced: {summary['count']}", "status": "not priced",
                         "currency": currency, "explain": not_priced_text(summary)})
    return buf.getvalue()


def to_markdown(report: dict, *, free: bool = False) -> str:
    cur = report["currency"]
    out = [f"## terraml cost estimate ({report['month']}, {cur} per month)", "",
           f"| team | monthly min ({cur}) | monthly max ({cur}) | jobs this month | budget used | not priced |",
           "|---|---:|---:|---:|---|---:|"]
    for t in report["teams"]:
        out.append(f"| {t['team']} | {money(t['monthly_min'])} | {money(t['monthly_max'])} | {money(t['jobs_usd'])} "
                   f"| {budget_text(t)} | {t['not_priced']['count']} |")
    out.append(f"| **all** | **{money(report['totals']['monthly_min'])}** | "
               f"**{money(report['totals']['monthly_max'])}** | | | {report['not_priced']['count']} |")
    out += ["", "Totals and budget percentages are of the priced lines only. "
                f"**Not priced:** {not_priced_text(report['not_priced']).replace('|', '/')}"]
    if caveat_note(report):
        out += ["", f"**Price caveats:** {caveat_note(report)}"]
    for t in report["teams"]:
        out += ["", f"### {t['team']}", "", f"| cloud | resource | component | min/month ({cur}) | max/month ({cur}) "
                "| how |", "|---|---|---|---:|---:|---|"]
        for c in t["clouds"]:
            for line in c["lines"]:
                if line["status"] == "free" and not free:
                    continue
                how = line["explain"] + caveat_text(line).replace("CAVEAT:", "**CAVEAT:**")
                out.append(f"| {c['cloud']} | `{line['address']}` | {line['component']} | "
                           f"{amount(line, 'monthly_min')} | {amount(line, 'monthly_max')} | {how.replace('|', '/')} |")
        out += ["", f"Not priced ({t['team']}): {not_priced_text(t['not_priced']).replace('|', '/')}"]
    return "\n".join(out) + "\n"


def to_table(report: dict, console) -> None:
    from rich.table import Table
    from rich.text import Text

    cur = report["currency"]
    summary = Table("team", f"monthly min ({cur})", f"monthly max ({cur})", "jobs this month", "budget used",
                    "not priced", title=f"terraml cost estimate, {report['month']} ({cur} per month)")
    for t in report["teams"]:
        summary.add_row(t["team"], money(t["monthly_min"]), money(t["monthly_max"]), money(t["jobs_usd"]),
                        budget_text(t), str(t["not_priced"]["count"]))
    summary.add_row("[bold]all[/bold]", money(report["totals"]["monthly_min"]),
                    money(report["totals"]["monthly_max"]), "", "", str(report["not_priced"]["count"]))
    console.print(summary)
    console.print(f"Totals and budget percentages are of the priced lines only. Not priced: "
                  f"{not_priced_text(report['not_priced'])}", highlight=False, markup=False)
    if caveat_note(report):
        console.print(f"Price caveats: {caveat_note(report)}", style="yellow", highlight=False, markup=False)
    for t in report["teams"]:
        detail = Table("cloud", "resource", "component", f"min/month ({cur})", f"max/month ({cur})", "how",
                       title=t["team"])
        for c in t["clouds"]:
            for line in c["lines"]:
                if line["status"] == "free":
                    continue
                how = Text(line["explain"])
                if line.get("caveat"):
                    how.append(caveat_text(line), style="yellow")
                detail.add_row(c["cloud"], line["address"], line["component"], amount(line, "monthly_min"),
                               amount(line, "monthly_max"), how)
        console.print(detail)


HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>terraml cost estimate {month}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }}
table {{ border-collapse: collapse; margin: 1rem 0; max-width: 100%; }}
td, th {{ border: 1px solid #ccd; padding: .3rem .6rem; vertical-align: top; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.address {{ max-width: 28rem; }} td.address code {{ overflow-wrap: anywhere; word-break: break-all; }}
tr.total td, tr.subtotal td {{ font-weight: bold; background: #f3f5f8; }} .muted {{ color: #667; font-size: .85rem; }}
.caveat {{ color: #9a4d00; font-weight: 600; }}
.charts {{ display: flex; gap: 3rem; flex-wrap: wrap; }} svg text {{ font-size: 12px; }}
</style></head><body>
<h1>terraml cost estimate <span class="muted">{month}</span></h1>
<p id="currency" data-currency="{currency}">All figures are monthly, in {currency}. Totals and budget percentages are
of the priced lines only; unpriced resources are counted under "not priced", with the reasons.</p>
<p class="muted">Stacks: {stacks}. Every line names its price row.</p>
<p id="caveats" data-count="{caveat_count}">{caveat_note}</p>
<div class="charts">
  <figure><figcaption>Monthly cost per team (min and max, {currency})</figcaption><svg id="chart-teams" width="520">
  </svg></figure>
  <figure><figcaption>Compute: spot vs on-demand (max per month, {currency})</figcaption><svg id="chart-capacity"
   width="420" height="140"></svg></figure>
</div>
<h2>Teams</h2>
<table id="teams"><thead><tr><th>team</th><th>monthly min ({currency})</th><th>monthly max ({currency})</th>
<th>jobs this month</th><th>budget used</th><th>not priced</th></tr></thead><tbody>{team_rows}</tbody></table>
<p id="grand-total">Grand total: <span data-field="grand_min">{grand_min}</span> to
<span data-field="grand_max">{grand_max}</span> {currency} per month, plus
<span data-field="grand_not_priced">{grand_count}</span> unpriced resource(s).</p>
<section id="not-priced"><h2>Not priced</h2>{not_priced}</section>
{diff}
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
// Addresses wrap inside their cells; count any that would still be cut (wider than the cell).
document.body.setAttribute("data-addresses-cut", [...document.querySelectorAll("td.address")]
  .filter(td => td.scrollWidth > td.clientWidth + 1).length);
document.body.setAttribute("data-rendered", "true");
</script></body></html>
"""


def _caveat_attr(line: dict) -> str:
    return f' data-caveat="{html.escape(line["caveat"])}"' if line.get("caveat") else ""


def _caveat_html(line: dict) -> str:
    return f' <span class="caveat">CAVEAT: {html.escape(line["caveat"])}</span>' if line.get("caveat") else ""


def _not_priced_html(summary: dict, scope: str) -> str:
    esc = html.escape
    if not summary["count"]:
        return f'<p data-not-priced="{esc(scope)}" data-count="0">Nothing unpriced.</p>'
    items = "".join(f'<li data-count="{g["count"]}">{g["count"]} x {esc(g["reason"])}</li>'
                    for g in summary["reasons"])
    return (f'<p data-not-priced="{esc(scope)}" data-count="{summary["count"]}">{summary["count"]} unpriced '
            f'resource line(s), left out of the totals:</p><ul>{items}</ul>')


def _diff_html(diff: dict) -> str:
    """The diff view: before/after/change per team and overall, then every change (terraml.cost.diff.to_dict)."""
    from terraml.cost.diff import pct

    esc = html.escape

    def row(name: str, t: dict) -> str:
        unpriced = (f"{t['now_unpriced']} now unpriced (were {money(t['now_unpriced_was_min'])}-"
                    f"{money(t['now_unpriced_was_max'])}, not counted); " if t["now_unpriced"] else "")
        unpriced += f"{t['added_unpriced']} new unpriced" if t["added_unpriced"] else ""
        cls = ' class="total"' if name == "all" else ""
        return (f'<tr data-team="diff:{esc(name)}"{cls}><td>{esc(name)}</td>'
                + "".join(f'<td class="num" data-field="{f}">{money(t[f])}</td>'
                          for f in ("before_min", "before_max", "after_min", "after_max"))
                + f'<td class="num" data-field="delta_max">{signed_money(t["delta_max"])}</td>'
                + f'<td class="num" data-field="percent_max">{pct(t["percent_max"])}</td>'
                + f'<td>{esc(unpriced.strip("; ") or "-")}</td></tr>')

    rows = "".join(row(t["team"], t) for t in diff["teams"]) + row("all", diff["totals"])
    changes = []
    for c in diff["changes"]:
        if c["counted"]:
            low, high = signed_money(c["delta_min"]), signed_money(c["delta_max"])
            note = f"was unpriced: {c['reason']}" if c["change"] == "now priced" else ""
        else:
            low = high = "now unpriced" if c["change"] == "now unpriced" else "unpriced"
            note = c["reason"] + (f"; was {money(c['old_min'])}-{money(c['old_max'])}, not counted as a saving"
                                  if c["change"] == "now unpriced" else "")
        changes.append(f'<tr data-change="{esc(c["change"])}"><td>{esc(c["change"])}</td><td>{esc(c["team"])}</td>'
                       f'<td class="address"><code>{esc(c["stack"])}:{esc(c["address"])}</code></td>'
                       f'<td>{esc(c["component"])}</td><td class="num">{low}</td><td class="num">{high}</td>'
                       f'<td class="muted">{esc(note)}</td></tr>')
    cur = esc(diff["currency"])
    return (f'<section id="diff"><h2>Changes ({cur} per month)</h2><table id="diff-teams"><thead><tr><th>team</th>'
            f'<th>before min</th><th>before max</th><th>after min</th><th>after max</th><th>change max</th>'
            f'<th>change max %</th><th>not priced</th></tr></thead><tbody>{rows}</tbody></table>'
            f'<table id="diff-changes"><thead><tr><th>change</th><th>team</th><th>resource</th><th>component</th>'
            f'<th>min/month</th><th>max/month</th><th>note</th></tr></thead><tbody>{"".join(changes)}</tbody>'
            f'</table></section>')


def signed_money(value: float) -> str:
    return f"+${value:,.2f}" if round(value, 2) >= 0 else f"-${-value:,.2f}"


def to_html(report: dict, diff: dict | None = None) -> str:
    """The report as one self-contained page; with ``diff`` (terraml.cost.diff.to_dict) it adds the diff view."""
    esc = html.escape
    cur = esc(report["currency"])
    team_rows = "".join(
        f'<tr data-team="{esc(t["team"])}"><td>{esc(t["team"])}</td>'
        f'<td class="num" data-field="monthly_min">{money(t["monthly_min"])}</td>'
        f'<td class="num" data-field="monthly_max">{money(t["monthly_max"])}</td>'
        f'<td class="num" data-field="jobs_usd">{money(t["jobs_usd"])}</td><td>{esc(budget_text(t))}</td>'
        f'<td class="num" data-field="not_priced">{t["not_priced"]["count"]}</td></tr>' for t in report["teams"])
    team_rows += (f'<tr data-team="all" class="total"><td>all teams</td>'
                  f'<td class="num" data-field="monthly_min">{money(report["totals"]["monthly_min"])}</td>'
                  f'<td class="num" data-field="monthly_max">{money(report["totals"]["monthly_max"])}</td>'
                  f'<td></td><td></td><td class="num" data-field="not_priced">{report["not_priced"]["count"]}</td>'
                  '</tr>')
    details = []
    for t in report["teams"]:
        name = esc(t["team"])
        lines = by_cost([{**line, "cloud": c["cloud"]} for c in t["clouds"] for line in c["lines"]
                         if line["status"] != "free"])
        rows = "".join(
            f'<tr class="line" data-team="{name}" data-status="{line["status"]}" data-max="{line["monthly_max"]:.2f}"'
            f'{_caveat_attr(line)}>'
            f'<td>{esc(line["cloud"])}</td>'
            f'<td class="address"><code>{esc(line["stack"])}:{esc(line["address"])}</code></td>'
            f'<td>{esc(line["component"])}</td><td class="num">{amount(line, "monthly_min")}</td>'
            f'<td class="num">{amount(line, "monthly_max")}</td><td class="muted">{esc(line["explain"])}'
            f'{_caveat_html(line)}</td></tr>'
            for line in lines)
        rows += (f'<tr class="subtotal" data-team="{name}"><td colspan="3">{name} subtotal (priced lines; '
                 f'{t["not_priced"]["count"]} unpriced)</td>'
                 f'<td class="num" data-field="subtotal_min">{money(t["monthly_min"])}</td>'
                 f'<td class="num" data-field="subtotal_max">{money(t["monthly_max"])}</td><td></td></tr>')
        details.append(f'<h2>{name}</h2><table class="lines"><thead><tr><th>cloud</th><th>resource</th>'
                       f'<th>component</th><th>min/month ({cur})</th><th>max/month ({cur})</th><th>how</th></tr>'
                       f'</thead><tbody>{rows}</tbody></table>{_not_priced_html(t["not_priced"], t["team"])}')
    data = json.dumps({**report, "diff": diff} if diff else report, sort_keys=True).replace("</", "<\\/")
    return HTML.format(month=esc(report["month"]), currency=cur, stacks=esc(", ".join(report["stacks"])),
                       team_rows=team_rows, details="".join(details), data=data,
                       grand_min=money(report["totals"]["monthly_min"]),
                       grand_max=money(report["totals"]["monthly_max"]), grand_count=report["not_priced"]["count"],
                       not_priced=_not_priced_html(report["not_priced"], "all"),
                       diff=_diff_html(diff) if diff else "", caveat_count=report.get("caveats", 0),
                       caveat_note=esc(caveat_note(report) or "No price row in doubt or out of date."))
