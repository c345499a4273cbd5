"""The portfolio summary: the metrics with how they were made, risks, renewals, save plans."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

from csm_tui import clock
from csm_tui.reports.markdown import money, nice_date, number, percent, table, text, write_private
from csm_tui.scoring.lists import open_list
from csm_tui.scoring.metrics import PortfolioMetrics, compute_metrics, load_metric_data, nps_by
from csm_tui.scoring.periods import Period, parse_period

#: The order metrics appear in the report and in `--json`.
METRIC_ORDER = (
    "grr", "nrr", "logo_churn", "retention", "expansion_rate", "renewal_success",
    "health_at_renewal", "nps", "csat", "csat_satisfied", "health_distribution",
    "time_to_value", "activated_30", "save_rate",
)  # fmt: skip
TOP_RISKS = 10
NPS_BREAKDOWNS = ("segment", "tier", "owner")


def portfolio_json(book, period: Period | None = None, today: date | None = None) -> dict:
    """The metrics as a JSON-ready dict: `period`, then one object per metric key with
    value, numerator, denominator, unit, target, status, definition and detail, and
    `nps_by` (segment, tier, owner)."""
    period = period or parse_period(None, today)
    result = compute_metrics(book, period, today)
    out: dict = {"period": {"label": period.label, "start": period.start.isoformat(),
                            "end": period.end.isoformat()}}  # fmt: skip
    for key in METRIC_ORDER:
        out[key] = result[key].to_dict()
    data = load_metric_data(book, period.start, period.end, today)
    out["nps_by"] = {by: [asdict(g) for g in nps_by(data, period, by)] for by in NPS_BREAKDOWNS}
    return out


def write_portfolio(book, path: Path, period: Period | None = None,
                    today: date | None = None) -> Path:  # fmt: skip
    """Write the portfolio summary as Markdown to `path` (0600); return the path."""
    return write_private(Path(path), portfolio_markdown(book, period, today))


def portfolio_markdown(book, period: Period | None = None, today: date | None = None) -> str:
    """The portfolio summary for `period` (default: the current quarter) as Markdown."""
    today = today or clock.today()
    period = period or parse_period(None, today)
    result = compute_metrics(book, period, today)
    name = book.scalar("SELECT value FROM meta WHERE key = 'book_name'") or "csm book"
    totals = book.query(
        "SELECT count(*), coalesce(sum(arr), 0) FROM accounts WHERE status = 'active'"
    )[0]
    sections = [
        [f"# Portfolio Summary: {name} - {period.label}", "",
         f"*Prepared {today.isoformat()} from the csm book for {period.start.isoformat()} to "
         f"{period.end.isoformat()}. {totals[0]:,} active accounts, {money(totals[1])} ARR.*"],
        _summary(result), _metric_table(result), _health_table(result),
        _nps_table(book, period, today), _risks(book), _renewals(book, today),
        _save_plans(book, period), _definitions(result),
    ]  # fmt: skip
    return "\n\n".join("\n".join(part) for part in sections) + "\n"


def _versus(metric) -> str:
    if metric.value is None:
        return "no data in the period"
    target = f" against a target of {metric.target.text}" if metric.target else ""
    status = f" ({metric.status})" if metric.target else ""
    return f"{metric.display}{target}{status}"


def _summary(result: PortfolioMetrics) -> list[str]:
    grr, nrr, churn = result["grr"], result["nrr"], result["logo_churn"]
    lines = ["## Executive Summary", ""]
    if grr.value is not None:
        lines.append(f"Of {money(grr.denominator)} ARR up for renewal, {money(grr.numerator)} "
                     f"was kept: GRR {_versus(grr)}; NRR {_versus(nrr)}.")  # fmt: skip
    else:
        lines.append("No renewal with a recorded outcome was due in the period, so GRR and "
                     "NRR have no data.")  # fmt: skip
    lines.append(f"Logo churn {_versus(churn)}: {number(churn.numerator, missing='0')} of "
                 f"{number(churn.denominator, missing='0')} accounts; retention "
                 f"{_versus(result['retention'])}.")  # fmt: skip
    nps = result["nps"]
    responses = nps.detail.get("responses", 0)
    lines.append(f"NPS {_versus(nps)} from {responses} respondents; renewal success "
                 f"{_versus(result['renewal_success'])}.")  # fmt: skip
    health = result["health_distribution"].detail
    lines.append(f"Health now: {health['green']} green, {health['yellow']} yellow, "
                 f"{health['red']} red ({money(health['red_arr'])} ARR in red), "
                 f"{health['insufficient']} without enough data.")  # fmt: skip
    return [lines[0], "", " ".join(lines[2:])]


def _metric_table(result: PortfolioMetrics) -> list[str]:
    rows = []
    for key in METRIC_ORDER:
        metric = result[key]
        rows.append((metric.label, metric.display, number(metric.numerator, 2, "0").removesuffix(
            ".00"), number(metric.denominator, 2, "0").removesuffix(".00"),
            metric.target.text if metric.target else "none", metric.status))  # fmt: skip
    return ["## Metrics", "",
            table(("Metric", "Value", "Numerator", "Denominator", "Target", "Status"), rows)]  # fmt: skip


def _health_table(result: PortfolioMetrics) -> list[str]:
    detail = result["health_distribution"].detail
    total = sum(detail[band] for band in ("green", "yellow", "red", "insufficient")) or 1
    rows = [(band, detail[band], percent(detail[band] / total), money(detail[f"{band}_arr"]))
            for band in ("green", "yellow", "red", "insufficient")]  # fmt: skip
    return ["## Health Distribution", "", table(("Band", "Accounts", "Share", "ARR"), rows)]


def _nps_table(book, period: Period, today: date) -> list[str]:
    data = load_metric_data(book, period.start, period.end, today)
    lines = ["## NPS by Segment, Tier and Owner", ""]
    for by in NPS_BREAKDOWNS:
        groups = nps_by(data, period, by)
        if not groups:
            return lines + ["No NPS responses in the period."]
        rows = [(g.group, number(g.nps, 0, "no data"), g.promoters, g.passives, g.detractors,
                 g.responses) for g in groups]  # fmt: skip
        lines += [table((by.capitalize(), "NPS", "Promoters", "Passives", "Detractors",
                         "Respondents"), rows), ""]  # fmt: skip
    return lines[:-1]


def _risks(book) -> list[str]:
    rows = book.query(
        "SELECT id, name, health_score, health_band, churn_prob, arr, renewal_date "
        "FROM scored_accounts WHERE status = 'active' AND (churn_prob IS NOT NULL OR health_band = 'red') "
        "ORDER BY churn_prob IS NULL, churn_prob DESC, health_score LIMIT ?",
        (TOP_RISKS,),
    )
    lines = [f"## Top {TOP_RISKS} Risk Accounts", ""]
    if not rows:
        return lines + ["No account has a churn risk or a red health score yet."]
    cells = [(f"{r['name']} ({r['id']})", number(r["health_score"], 0, "insufficient data"),
              text(r["health_band"], "insufficient"), percent(r["churn_prob"], 0, "n/a"),
              money(r["arr"]), nice_date(r["renewal_date"])) for r in rows]  # fmt: skip
    return lines + [table(("Account", "Health", "Band", "Churn risk", "ARR", "Renewal"), cells)]


def _renewals(book, today: date) -> list[str]:
    listing = open_list(book, "renewals90", today=today)
    lines = ["## Renewals Due in the Next 90 Days", ""]
    if not listing.rows:
        return lines + ["No renewals are due in the next 90 days."]
    total = sum(r.arr for r in listing.rows)
    at_risk = sum(r.arr for r in listing.rows if r.health_band in ("red", "yellow"))
    lines.append(f"{len(listing.rows)} renewals, {money(total)} ARR; {money(at_risk)} of it "
                 "on red or yellow accounts.")  # fmt: skip
    cells = [(f"{r.name} ({r.account_id})", money(r.arr), number(r.health_score, 0, "n/a"),
              r.health_band, r.detail) for r in listing.rows[:25]]  # fmt: skip
    return lines + ["", table(("Account", "ARR", "Health", "Band", "Due"), cells)]


def _save_plans(book, period: Period) -> list[str]:
    end = (period.end + timedelta(days=1)).isoformat()
    closed = book.query(
        "SELECT p.id, a.name, p.status, substr(p.closed_at, 1, 10) AS closed_on, p.lessons "
        "FROM save_plans p JOIN accounts a ON a.id = p.account_id WHERE p.status != 'open' "
        "AND p.closed_at >= ? AND p.closed_at < ? ORDER BY p.closed_at",
        (period.start.isoformat(), end),
    )
    still_open = book.scalar("SELECT count(*) FROM save_plans WHERE status = 'open'")
    saved = sum(r["status"] == "saved" for r in closed)
    lines = ["## Save-Plan Outcomes", "",
             f"{len(closed)} save plans closed in the period: {saved} saved, "
             f"{len(closed) - saved} lost. {still_open} still open."]  # fmt: skip
    if closed:
        cells = [(r["id"], r["name"], r["status"], r["closed_on"], text(r["lessons"], "none"))
                 for r in closed[:25]]  # fmt: skip
        lines += ["", table(("Plan", "Account", "Outcome", "Closed", "Lessons"), cells)]
    return lines


def _definitions(result: PortfolioMetrics) -> list[str]:
    lines = ["## How These Figures Are Made", ""]
    lines += [f"- **{result[key].label}**: {result[key].definition}" for key in METRIC_ORDER]
    return lines
