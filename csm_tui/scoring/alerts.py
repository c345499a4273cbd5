"""Alert rules (SPEC.md defaults) and the alert lifecycle.

Each rule is a small named function over a frame of facts and scores (one row per account,
vectorised; the single-account rescore passes a 1-row frame) returning the rows where its
condition holds, with a `why` in words naming the values and the rule:

| rule              | severity | condition (thresholds in the config's [alerts.*])               |
|-------------------|----------|------------------------------------------------------------------|
| score_drop        | medium   | score fell ≥ `points` since the snapshot `days` ago              |
| band_worsened     | high     | green → yellow/red or yellow → red since the snapshot `days` ago |
| mau_drop          | high     | MAU down ≥ `drop_pct` % month on month                           |
| ticket_spike      | high     | tickets in 14 d ≥ max(`min_tickets`, `ratio` × trailing average) |
|                   |          | or ≥ `open_sev1` open sev-1 tickets                              |
| detractor_nps     | medium   | latest NPS ≤ `max_score`, answered within `max_age_days`         |
| stakeholder_left  | high     | a champion or sponsor left within `days`                         |
| renewal_not_green | high     | renewal within `days` and the band is not green                  |
| not_activated     | medium   | started ≥ `days` ago (and ≤ `max_age_days`), not activated       |
| expansion_signal  | low      | green, seats used ≥ `seat_utilisation_pct` %, NPS ≥ `min_nps`    |

Lifecycle (`apply_alerts`): one live (open or snoozed) alert per rule and account. A firing
condition opens an alert unless one is live, or the latest closed one has not seen its
condition clear yet (a closed alert re-fires only after the condition cleared and came back).
A condition that stops holding marks the latest closed alert `condition_cleared = 1`, and
notes `condition_cleared_on` in a live alert's detail (the user still triages it). Snoozed
alerts whose date has come are opened again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from csm_tui.scoring.config import AlertRule, ScoringConfig
from csm_tui.scoring.results import AlertRecord

#: Columns of the frame of fired alerts.
FIRED_COLUMNS = ["account_id", "rule", "severity", "reason", "detail"]
BAND_RANK = {"red": 0, "yellow": 1, "green": 2}


def _num(s: pd.Series, digits: int = 0) -> pd.Series:
    """Numbers as text, vectorised: 412, 4.5 (NaN → "–")."""
    s = pd.to_numeric(s, errors="coerce").astype("float64").round(digits)
    text = s.astype("Int64").astype(str) if digits == 0 else s.astype(str)
    return text.where(s.notna(), "–")


def _score_drop(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    drop = df["prev_score"] - df["score"]
    hit = drop >= rule.params["points"]
    why = (
        "Health " + _num(df["prev_score"]) + " → " + _num(df["score"]) + ", −" + _num(drop)
        + f" in {rule.params['days']:g} days; rule: drop ≥ {rule.params['points']:g} points"
    )
    return hit, why


def _band_worsened(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    before = df["prev_band"].map(BAND_RANK)
    now = df["band"].map(BAND_RANK)
    hit = (now < before).fillna(False).astype(bool)
    why = (
        "Band " + df["prev_band"].astype(str) + " → " + df["band"].astype(str)
        + f" in {rule.params['days']:g} days (health " + _num(df["prev_score"]) + " → "
        + _num(df["score"]) + "); rule: band worsens"
    )
    return hit, why


def _mau_drop(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    prev = df["mau_prev"].where(df["mau_prev"] > 0)
    change = 100.0 * (df["mau"] - prev) / prev
    hit = (-change) >= rule.params["drop_pct"]
    days = (pd.to_datetime(df["usage_date"], errors="coerce")
            - pd.to_datetime(df["mau_prev_date"], errors="coerce")).dt.days
    why = (
        "MAU " + _num(df["mau_prev"]) + " → " + _num(df["mau"]) + ", −" + _num(-change)
        + " % in " + _num(days) + f" days; rule: MAU down ≥ {rule.params['drop_pct']:g} %"
    )
    return hit, why


def _ticket_spike(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    p = rule.params
    bar = np.maximum(p["min_tickets"], p["ratio"] * df["tickets_trailing"])
    spike = df["tickets_recent"] >= bar
    sev1 = (df["open_sev1"] >= p["open_sev1"]) & (p["open_sev1"] > 0)
    why = (
        _num(df["tickets_recent"]) + " tickets in 14 days vs " + _num(df["tickets_trailing"], 1)
        + " per 14 days before; " + _num(df["open_sev1"]) + " open sev-1"
        + f"; rule: ≥ {p['ratio']:g}× the trailing average (at least {p['min_tickets']:g})"
        + " or any open sev-1"
    )
    return spike | sev1, why


def _detractor(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    since = (as_of - timedelta(days=int(rule.params["max_age_days"]))).isoformat()
    hit = (df["nps"] <= rule.params["max_score"]) & (df["nps_date"].astype(str) >= since)
    why = (
        "Latest NPS " + _num(df["nps"]) + " on " + df["nps_date"].astype(str)
        + f"; rule: NPS 0–{rule.params['max_score']:g} (detractor)"
    )
    return hit, why


def _stakeholder_left(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    since = (as_of - timedelta(days=int(rule.params["days"]))).isoformat()
    left_on = df["left_on"].astype(object)
    hit = left_on.notna() & (left_on.astype(str) >= since)
    role = df["left_role"].astype(str).replace({"sponsor": "executive sponsor"})
    why = (
        "The " + role + " " + df["left_name"].astype(str) + " left on " + left_on.astype(str)
        + f"; rule: champion or sponsor left in the last {rule.params['days']:g} days"
    )
    return hit, why


def _renewal_not_green(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    until = (as_of + timedelta(days=int(rule.params["days"]))).isoformat()
    due = df["renewal_date"].astype(object)
    hit = due.notna() & (due.astype(str) >= as_of.isoformat()) & (due.astype(str) <= until)
    hit &= df["band"] != "green"
    days = (pd.to_datetime(due, errors="coerce") - pd.Timestamp(as_of)).dt.days
    health = ("health " + _num(df["score"]) + " (" + df["band"].astype(str) + ")").where(
        df["band"] != "insufficient", "health: insufficient data"
    )
    why = (
        "Renewal on " + due.astype(str) + " (in " + _num(days) + " days), " + health
        + f"; rule: renewal within {rule.params['days']:g} days and not green"
    )
    return hit, why


def _not_activated(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    start = df["start_date"].astype(object)
    latest = (as_of - timedelta(days=int(rule.params["days"]))).isoformat()
    earliest = (as_of - timedelta(days=int(rule.params["max_age_days"]))).isoformat()
    s = start.astype(str)
    hit = start.notna() & df["activated_on"].isna() & (s <= latest) & (s >= earliest)
    days = (pd.Timestamp(as_of) - pd.to_datetime(start, errors="coerce")).dt.days
    why = (
        "Started " + s + " (" + _num(days) + " days ago), not activated yet"
        + f"; rule: activated by day {rule.params['days']:g}"
    )
    return hit, why


def _expansion(df: pd.DataFrame, rule: AlertRule, as_of: date) -> tuple[pd.Series, pd.Series]:
    p = rule.params
    hit = (df["band"] == "green") & (df["seat_utilisation"] >= p["seat_utilisation_pct"])
    hit &= df["nps"] >= p["min_nps"]
    why = (
        "Health " + _num(df["score"]) + " (green), seats " + _num(df["seat_utilisation"])
        + " % used, NPS " + _num(df["nps"])
        + f"; rule: green, seats ≥ {p['seat_utilisation_pct']:g} %, NPS ≥ {p['min_nps']:g}"
    )
    return hit, why


RuleFn = Callable[[pd.DataFrame, AlertRule, date], tuple[pd.Series, pd.Series]]
RULES: dict[str, RuleFn] = {
    "score_drop": _score_drop,
    "band_worsened": _band_worsened,
    "mau_drop": _mau_drop,
    "ticket_spike": _ticket_spike,
    "detractor_nps": _detractor,
    "stakeholder_left": _stakeholder_left,
    "renewal_not_green": _renewal_not_green,
    "not_activated": _not_activated,
    "expansion_signal": _expansion,
}
#: The facts each rule's detail JSON records (the values that triggered it).
DETAIL_COLUMNS = {
    "score_drop": ["prev_score", "score"],
    "band_worsened": ["prev_band", "band"],
    "mau_drop": ["mau_prev", "mau", "mau_prev_date", "usage_date"],
    "ticket_spike": ["tickets_recent", "tickets_trailing", "open_sev1"],
    "detractor_nps": ["nps", "nps_date"],
    "stakeholder_left": ["left_role", "left_name", "left_on"],
    "renewal_not_green": ["renewal_date", "score", "band"],
    "not_activated": ["start_date", "activated_on"],
    "expansion_signal": ["score", "seat_utilisation", "nps"],
}


def evaluate(df: pd.DataFrame, cfg: ScoringConfig, as_of: date) -> pd.DataFrame:
    """Fired alerts for the rows of `df` (facts + score, band, prev_score, prev_band).

    Churned accounts never fire. Returns a frame with `FIRED_COLUMNS`.
    """
    live = df[df["status"].astype(str) != "churned"]
    out = []
    for rule in cfg.rules:
        if not rule.enabled or live.empty:
            continue
        hit, why = RULES[rule.key](live, rule, as_of)
        mask = hit.fillna(False).astype(bool).to_numpy()
        if not mask.any():
            continue
        fired = live.loc[mask]
        detail = fired[DETAIL_COLUMNS[rule.key]].to_json(orient="records", lines=True, double_precision=3)
        out.append(pd.DataFrame({
            "account_id": fired["account_id"].to_numpy(),
            "rule": rule.key,
            "severity": rule.severity,
            "reason": why[mask].to_numpy(),
            "detail": detail.rstrip("\n").split("\n"),
        }))  # fmt: skip
    if not out:
        return pd.DataFrame(columns=FIRED_COLUMNS)
    return pd.concat(out, ignore_index=True)[FIRED_COLUMNS]


# -- lifecycle --------------------------------------------------------------------------------------
_MATCH = "f.account_id = alerts.account_id AND f.rule = alerts.rule"
_OPEN_NEW = """
INSERT INTO alerts (account_id, rule, severity, status, fired_at, reason, detail)
SELECT f.account_id, f.rule, f.severity, 'open', :now, f.reason, f.detail FROM _fired f
WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.account_id = f.account_id AND a.rule = f.rule
                  AND a.status IN ('open', 'snoozed'))
  AND coalesce((SELECT a.condition_cleared FROM alerts a WHERE a.account_id = f.account_id
                AND a.rule = f.rule AND a.status = 'done' ORDER BY a.id DESC LIMIT 1), 1) = 1
RETURNING account_id, rule, severity, reason
"""


def apply_alerts(
    conn: sqlite3.Connection, fired: pd.DataFrame, scope: str, params: dict, now: str, today: str
) -> tuple[list[AlertRecord], list[AlertRecord], int]:
    """Apply fired conditions to the alerts table for the accounts in `scope`.

    `scope` is an SQL condition on `alerts.account_id` (with `params`). Returns the alerts
    opened, the live alerts whose condition newly cleared, and how many snoozes expired.
    """
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _fired (account_id TEXT, rule TEXT, severity TEXT, "
        "reason TEXT, detail TEXT, PRIMARY KEY (account_id, rule))"
    )
    conn.execute("DELETE FROM _fired")
    conn.executemany("INSERT INTO _fired VALUES (?, ?, ?, ?, ?)", fired[FIRED_COLUMNS].itertuples(index=False, name=None))
    p = params | {"now": now, "today": today}
    reopened = conn.execute(
        f"UPDATE alerts SET status = 'open' WHERE status = 'snoozed' AND snoozed_until <= :today "
        f"AND {scope}", p
    ).rowcount
    opened = [AlertRecord(r[1], r[2], r[3]) for r in conn.execute(_OPEN_NEW, p).fetchall()]
    absent = f"NOT EXISTS (SELECT 1 FROM _fired f WHERE {_MATCH})"
    conn.execute(
        "UPDATE alerts SET detail = json_remove(detail, '$.condition_cleared_on') "
        "WHERE status IN ('open', 'snoozed') AND json_extract(detail, '$.condition_cleared_on') "
        f"IS NOT NULL AND EXISTS (SELECT 1 FROM _fired f WHERE {_MATCH})", p
    )
    cleared = conn.execute(
        "UPDATE alerts SET detail = json_set(detail, '$.condition_cleared_on', :today) "
        "WHERE status IN ('open', 'snoozed') AND json_extract(detail, '$.condition_cleared_on') "
        f"IS NULL AND {scope} AND {absent} RETURNING rule, severity, reason", p
    ).fetchall()
    conn.execute(
        "UPDATE alerts SET condition_cleared = 1 WHERE status = 'done' AND condition_cleared = 0 "
        f"AND {scope} AND {absent}", p
    )
    return opened, [AlertRecord(*r) for r in cleared], reopened
