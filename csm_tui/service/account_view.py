"""Everything the account screen shows, read in one snapshot: `load_account(book, id)`.

Scores come from the `accounts` columns and the `health` history the scoring engine writes
(its explain JSON keeps per-measure points, so the movers since ~7 days ago are computed
here). Churn drivers need the trained model (pandas + scikit-learn), so they are a separate
call, `churn_drivers`, that the screen runs in its own worker after the rest is on screen.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from csm_tui.clock import today
from csm_tui.errors import ConfigError, NotFound
from csm_tui.service.fields import FIELDS, format_value
from csm_tui.storage import history
from csm_tui.storage.db import Book

TREND_MONTHS = 12
TOP_MOVERS = 3
#: How far from "7 days ago" a health snapshot may be and still explain the weekly change.
MOVER_TOLERANCE_DAYS = 3


@dataclass
class Gauge:
    """The health gauge: score, band, changes, category parts with weights, top movers."""

    score: float | None
    band: str | None
    delta_7: float | None
    delta_30: float | None
    parts: list[tuple[str, float | None, float]] = field(default_factory=list)
    movers: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Series:
    """Monthly values for a small plot: labels ("Dec", …) and one list per series."""

    labels: list[str]
    values: dict[str, list[float | None]]


@dataclass
class AccountView:
    """One account, shaped for the account screen."""

    id: str
    name: str
    facts: dict[str, Any]  # the `accounts` row
    edit_values: dict[str, str]  # field key → current value as a user would type it
    days_left: int | None
    gauge: Gauge
    health_trend: Series
    usage_trend: Series
    churn_prob: float | None
    risk_segment: str | None
    renewals: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    open_tickets: int
    responses: list[dict[str, Any]]
    events: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    save_plans: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def load_account(book: Book, account_id: str) -> AccountView:
    """Read one account and everything around it (one consistent snapshot)."""
    with book.read() as conn:
        row = conn.execute("SELECT * FROM scored_accounts WHERE id = ?", (account_id,)).fetchone()
        if row is None:
            raise NotFound(f"no account has the id {account_id!r} (was it deleted?)")
        facts = dict(row)
        return AccountView(
            id=facts["id"],
            name=facts["name"],
            facts=facts,
            edit_values=_edit_values(facts),
            days_left=_days_until(facts["renewal_date"]),
            gauge=_gauge(conn, facts),
            health_trend=_health_trend(conn, account_id),
            usage_trend=_usage_trend(conn, account_id),
            churn_prob=facts["churn_prob"],
            risk_segment=facts["risk_segment"],
            renewals=_rows(conn, _RENEWALS, account_id),
            stakeholders=_rows(conn, _CONTACTS, account_id),
            tickets=_rows(conn, _TICKETS, account_id),
            open_tickets=int(conn.execute(_OPEN_TICKETS, (account_id,)).fetchone()[0]),
            responses=_rows(conn, _RESPONSES, account_id),
            events=_rows(conn, _EVENTS, account_id),
            tasks=_rows(conn, _TASKS, account_id),
            save_plans=_rows(conn, _PLANS, account_id),
            alerts=_rows(conn, _ALERTS, account_id),
        )


_RENEWALS = (
    "SELECT due_date, arr_before, arr_after, csm_call, outcome FROM renewals "
    "WHERE account_id = ? ORDER BY due_date DESC LIMIT 6"
)
_CONTACTS = (
    "SELECT name, title, role, sentiment, active, left_on FROM contacts WHERE account_id = ? "
    "ORDER BY CASE role WHEN 'champion' THEN 0 WHEN 'sponsor' THEN 1 ELSE 2 END, "
    "active DESC, name LIMIT 8"
)
_TICKETS = (
    "SELECT opened_at, severity, status, subject FROM tickets WHERE account_id = ? "
    "ORDER BY status IN ('solved', 'closed'), opened_at DESC LIMIT 5"
)
_OPEN_TICKETS = (
    "SELECT count(*) FROM tickets WHERE account_id = ? AND status NOT IN ('solved', 'closed')"
)
_RESPONSES = (
    "SELECT date, kind, score, comment FROM responses WHERE account_id = ? "
    "ORDER BY date DESC, id DESC LIMIT 4"
)
_EVENTS = (
    "SELECT at, kind, text FROM events WHERE account_id = ? ORDER BY at DESC, id DESC LIMIT 12"
)
_TASKS = (
    "SELECT id, title, due_date, done FROM tasks WHERE account_id = ? AND done = 0 "
    "ORDER BY due_date IS NULL, due_date LIMIT 10"
)
_PLANS = (
    "SELECT id, risk_level, reasons, target_date, status, created_at FROM save_plans "
    "WHERE account_id = ? AND status = 'open' ORDER BY created_at DESC"
)
_ALERTS = (
    "SELECT id, rule, severity, status, reason, fired_at, snoozed_until FROM alerts "
    "WHERE account_id = ? AND status != 'done' "
    "ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, fired_at DESC"
)


def _rows(conn: sqlite3.Connection, sql: str, account_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, (account_id,))]


def _edit_values(facts: dict[str, Any]) -> dict[str, str]:
    return {
        key: format_value(key, facts.get(key))
        for key, spec in FIELDS.items()
        if spec.kind == "column"
    }


def _days_until(day: str | None) -> int | None:
    try:
        return (date.fromisoformat(day[:10]) - today()).days if day else None
    except ValueError:
        return None


# -- health --------------------------------------------------------------------------------------
def _scoring_config():
    """The user's scoring configuration (labels, weights); the defaults if it is invalid."""
    from csm_tui.scoring.config import default_config, load_config

    try:
        return load_config()
    except ConfigError:
        return default_config()  # the CLI reports the broken file; the gauge still shows


def _gauge(conn: sqlite3.Connection, facts: dict[str, Any]) -> Gauge:
    cfg = _scoring_config()
    latest = history.latest_snapshot(conn, facts["id"])
    total = sum(c.weight for c in cfg.categories) or 1.0
    parts = [
        (c.label, latest[c.key] if latest and c.key in latest.keys() else None, c.weight / total)
        for c in cfg.categories
    ]
    movers = _movers(conn, facts["id"], latest, {m.key: m.label for m in cfg.measures})
    return Gauge(
        score=facts["health_score"],
        band=facts["health_band"],
        delta_7=facts["health_delta_7"],
        delta_30=facts["health_delta_30"],
        parts=parts,
        movers=movers,
    )


def _points(explain: str | None) -> dict[str, float]:
    try:
        points = json.loads(explain or "{}").get("points") or {}
    except (ValueError, AttributeError):
        return {}
    return {k: float(v) for k, v in points.items() if isinstance(v, int | float)}


def _movers(
    conn: sqlite3.Connection, account_id: str, latest, labels: dict[str, str]
) -> list[tuple[str, float]]:
    """The measures whose points changed most since the snapshot nearest 7 days before."""
    if latest is None:
        return []
    target = date.fromisoformat(latest["date"]) - timedelta(days=7)
    near = history.account_snapshots(
        conn,
        account_id,
        (target - timedelta(days=MOVER_TOLERANCE_DAYS)).isoformat(),
        (target + timedelta(days=MOVER_TOLERANCE_DAYS)).isoformat(),
    )
    if not near:
        return []
    before = min(near, key=lambda r: abs((date.fromisoformat(r["date"]) - target).days))
    now, then = _points(latest["explain"]), _points(before["explain"])
    change = {k: now.get(k, 0.0) - then.get(k, 0.0) for k in set(now) | set(then)}
    ranked = sorted(change.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    return [(labels.get(k, k), round(v, 1)) for k, v in ranked[:TOP_MOVERS] if abs(v) >= 0.1]


def _month_starts(months: int) -> list[date]:
    first = today().replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(date(year, month + 1, 1))
    return out


def _health_trend(conn: sqlite3.Connection, account_id: str) -> Series:
    """The last score of each of the past 12 months."""
    starts = _month_starts(TREND_MONTHS)
    rows = history.account_snapshots(conn, account_id, starts[0].isoformat())
    by_month = {r["date"][:7]: r["score"] for r in rows}  # later dates overwrite earlier ones
    keys = [d.strftime("%Y-%m") for d in starts]
    return Series([d.strftime("%b") for d in starts], {"Health": [by_month.get(k) for k in keys]})


def _usage_trend(conn: sqlite3.Connection, account_id: str) -> Series:
    """Monthly MAU and DAU (the latest snapshot of each month)."""
    starts = _month_starts(TREND_MONTHS)
    rows = conn.execute(
        "SELECT substr(date, 1, 7) AS month, mau, dau FROM usage WHERE account_id = ? "
        "AND date >= ? ORDER BY date",
        (account_id, starts[0].isoformat()),
    ).fetchall()
    mau = {r["month"]: r["mau"] for r in rows}
    dau = {r["month"]: r["dau"] for r in rows}
    keys = [d.strftime("%Y-%m") for d in starts]
    return Series(
        [d.strftime("%b") for d in starts],
        {"MAU": [mau.get(k) for k in keys], "DAU": [dau.get(k) for k in keys]},
    )


# -- churn ---------------------------------------------------------------------------------------
@dataclass
class ChurnExplanation:
    """The churn model's view of one account: its drivers in words, or why there are none."""

    drivers: list[str]
    note: str = ""


def churn_drivers(book: Book, account_id: str) -> ChurnExplanation:
    """The top drivers of the account's churn probability (loads pandas and scikit-learn)."""
    from csm_tui.paths import model_path_for
    from csm_tui.scoring.churn import load_model
    from csm_tui.scoring.churn_features import feature_frame

    model = load_model(model_path_for(book.path))
    if model is None:
        return ChurnExplanation(
            [],
            "No churn model yet: `csm model train` learns one from "
            "your renewal history. Risk follows the health band.",
        )
    custom = (getattr(model, "metadata", {}) or {}).get("custom")
    with book.read() as conn:
        frame = feature_frame(conn, account_ids=[account_id], custom=custom)
    drivers = model.drivers(frame.iloc[:1])
    if not drivers:
        return ChurnExplanation([], "No single signal stands out; the risk is near typical.")
    return ChurnExplanation([d.text() for d in drivers])
