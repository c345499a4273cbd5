"""Alert rules (SPEC.md defaults) and the alert lifecycle.

Each rule is a small named function over columns of facts and scores (numpy arrays, one
element per account: the full rescore passes the whole book, the single-account rescore
1-element columns) returning where its condition holds and a `why` in words naming the values
and the rule, e.g. "MAU 412 → 260, −37 % in 30 days; rule: MAU down ≥ 30 %":

| rule              | severity | condition (thresholds in the config's [alerts.*])               |
|-------------------|----------|------------------------------------------------------------------|
| score_drop        | medium   | score fell ≥ `points` since the snapshot ~7 days ago             |
| band_worsened     | high     | green → yellow/red or yellow → red since the snapshot ~7 days ago|
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

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from csm_tui.scoring.config import AlertRule, ScoringConfig
from csm_tui.scoring.results import AlertRecord

if TYPE_CHECKING:
    import pandas as pd

Columns = dict[str, np.ndarray]  # facts + score, band, prev_score, prev_band (text "" = none)
#: A rule: (columns, rule, as_of) → (mask of accounts where it holds, why(i) for one of them).
RuleFn = Callable[[Columns, AlertRule, date], tuple[np.ndarray, Callable[[int], str]]]
BAND_RANK = {"red": 0, "yellow": 1, "green": 2}


def _rank(bands: np.ndarray) -> np.ndarray:
    """red 0, yellow 1, green 2; −1 for insufficient or none."""
    return np.select([bands == b for b in BAND_RANK], list(BAND_RANK.values()), -1)


def _n(value: float, digits: int = 0) -> str:
    """A number in words: 412, 4.5; "–" when missing."""
    return "–" if value is None or np.isnan(value) else f"{value:,.{digits}f}"


def _iso(as_of: date, days: float) -> str:
    return (as_of + timedelta(days=int(days))).isoformat()


def _score_drop(c: Columns, rule: AlertRule, as_of: date):
    p = rule.params
    with np.errstate(invalid="ignore"):
        hit = (c["prev_score"] - c["score"]) >= p["points"]

    def why(i: int) -> str:
        before, now = c["prev_score"][i], c["score"][i]
        return (
            f"Health {_n(before)} → {_n(now)}, −{_n(before - now)} in 7 days; "
            f"rule: drop ≥ {p['points']:g} points"
        )

    return hit, why


def _band_worsened(c: Columns, rule: AlertRule, as_of: date):
    before, now = _rank(c["prev_band"]), _rank(c["band"])
    hit = (now >= 0) & (now < before)

    def why(i: int) -> str:
        return (
            f"Band {c['prev_band'][i]} → {c['band'][i]} in 7 days "
            f"(health {_n(c['prev_score'][i])} → {_n(c['score'][i])}); rule: band worsens"
        )

    return hit, why


def _mau_drop(c: Columns, rule: AlertRule, as_of: date):
    with np.errstate(invalid="ignore", divide="ignore"):
        prev = np.where(c["mau_prev"] > 0, c["mau_prev"], np.nan)
        change = 100.0 * (c["mau"] - prev) / prev
        hit = -change >= rule.params["drop_pct"]

    def why(i: int) -> str:
        days = (
            date.fromisoformat(c["usage_date"][i]) - date.fromisoformat(c["mau_prev_date"][i])
        ).days
        return (
            f"MAU {_n(c['mau_prev'][i])} → {_n(c['mau'][i])}, −{_n(-change[i])} % in {days} "
            f"days; rule: MAU down ≥ {rule.params['drop_pct']:g} %"
        )

    return hit, why


def _ticket_spike(c: Columns, rule: AlertRule, as_of: date):
    p = rule.params
    bar = np.maximum(p["min_tickets"], p["ratio"] * c["tickets_trailing"])
    sev1 = (c["open_sev1"] >= p["open_sev1"]) & (p["open_sev1"] > 0)
    hit = (c["tickets_recent"] >= bar) | sev1

    def why(i: int) -> str:
        found = []
        if c["tickets_recent"][i] >= bar[i]:
            found.append(
                f"{_n(c['tickets_recent'][i])} tickets in 14 days vs "
                f"{_n(c['tickets_trailing'][i], 1)} per 14 days before"
            )
        if sev1[i]:
            found.append(f"{_n(c['open_sev1'][i])} open sev-1 ticket(s)")
        return (
            f"{'; '.join(found)}; rule: ≥ {p['ratio']:g}× the trailing average "
            f"(at least {p['min_tickets']:g}) or any open sev-1"
        )

    return hit, why


def _detractor(c: Columns, rule: AlertRule, as_of: date):
    p = rule.params
    with np.errstate(invalid="ignore"):
        hit = (c["nps"] <= p["max_score"]) & (c["nps_date"] >= _iso(as_of, -p["max_age_days"]))

    def why(i: int) -> str:
        return (
            f"Latest NPS {_n(c['nps'][i])} on {c['nps_date'][i]}; "
            f"rule: NPS 0–{p['max_score']:g} (detractor)"
        )

    return hit, why


def _stakeholder_left(c: Columns, rule: AlertRule, as_of: date):
    days = rule.params["days"]
    hit = (c["left_on"] != "") & (c["left_on"] >= _iso(as_of, -days))

    def why(i: int) -> str:
        role = "executive sponsor" if c["left_role"][i] == "sponsor" else c["left_role"][i]
        return (
            f"The {role} {c['left_name'][i]} left on {c['left_on'][i]}; "
            f"rule: champion or sponsor left in the last {days:g} days"
        )

    return hit, why


def _renewal_not_green(c: Columns, rule: AlertRule, as_of: date):
    days = rule.params["days"]
    due = c["renewal_date"]
    hit = (due >= as_of.isoformat()) & (due <= _iso(as_of, days)) & (c["band"] != "green")

    def why(i: int) -> str:
        left = (date.fromisoformat(due[i][:10]) - as_of).days
        band = c["band"][i]
        health = "insufficient data" if band == "insufficient" else f"{_n(c['score'][i])} ({band})"
        return (
            f"Renewal on {due[i]} (in {left} days), health {health}; "
            f"rule: renewal within {days:g} days and not green"
        )

    return hit, why


def _not_activated(c: Columns, rule: AlertRule, as_of: date):
    p = rule.params
    start = c["start_date"]
    hit = (start != "") & (c["activated_on"] == "") & (start <= _iso(as_of, -p["days"]))
    hit &= start >= _iso(as_of, -p["max_age_days"])

    def why(i: int) -> str:
        age = (as_of - date.fromisoformat(start[i][:10])).days
        return (
            f"Started {start[i]} ({age} days ago), not activated yet; "
            f"rule: activated by day {p['days']:g}"
        )

    return hit, why


def _expansion(c: Columns, rule: AlertRule, as_of: date):
    p = rule.params
    with np.errstate(invalid="ignore"):
        hit = (c["band"] == "green") & (c["seat_utilisation"] >= p["seat_utilisation_pct"])
        hit &= c["nps"] >= p["min_nps"]

    def why(i: int) -> str:
        return (
            f"Health {_n(c['score'][i])} (green), seats {_n(c['seat_utilisation'][i])} % used, "
            f"NPS {_n(c['nps'][i])}; rule: green, seats ≥ {p['seat_utilisation_pct']:g} %, "
            f"NPS ≥ {p['min_nps']:g}"
        )

    return hit, why


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

Fired = tuple[str, str, str, str, str]  # account_id, rule, severity, reason, detail JSON


def evaluate(
    c: Columns, cfg: ScoringConfig, as_of: date, blocked: set[tuple[str, str]] | None = None
) -> list[Fired]:
    """The alerts whose condition holds, one per (account, enabled rule); churned never fire.

    Conditions are vectorised over the columns; only the rows that fire get a sentence, and
    not even those in `blocked` (see `blocked_pairs`: they cannot open, so their reason is "").
    """
    live = c["status"] != "churned"
    blocked = blocked or set()
    fired: list[Fired] = []
    for rule in cfg.rules:
        if not rule.enabled:
            continue
        hit, why = RULES[rule.key](c, rule, as_of)
        for i in np.flatnonzero(np.asarray(hit, dtype=bool) & live):
            account_id = c["account_id"][i]
            if (account_id, rule.key) in blocked:
                fired.append((account_id, rule.key, rule.severity, "", "{}"))
                continue
            detail = {k: _json_value(c[k][i]) for k in DETAIL_COLUMNS[rule.key]}
            fired.append((account_id, rule.key, rule.severity, why(i), json.dumps(detail)))
    return fired


_BLOCKED_SQL = """
SELECT account_id, rule FROM alerts WHERE status != 'done'
UNION ALL
SELECT account_id, rule FROM (
    SELECT account_id, rule, condition_cleared, max(id) FROM alerts WHERE status = 'done'
    GROUP BY account_id, rule
) WHERE condition_cleared = 0
"""


def blocked_pairs(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(account, rule) pairs that cannot open an alert now: one is live, or the latest closed
    one has not seen its condition clear (the same test as `apply_alerts`)."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain (account, rule) tuples, straight into the set
    return set(cursor.execute(_BLOCKED_SQL))


def _json_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if np.isnan(value) else round(value, 2)
    return value or None


# -- lifecycle --------------------------------------------------------------------------------------
_MATCH = "f.account_id = alerts.account_id AND f.rule = alerts.rule"
_OPEN_NEW = """
INSERT INTO alerts (account_id, rule, severity, status, fired_at, reason, detail)
SELECT f.account_id, f.rule, f.severity, 'open', :now, f.reason, f.detail FROM _fired f
WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.account_id = f.account_id AND a.rule = f.rule
                  AND a.status IN ('open', 'snoozed'))
  AND coalesce((SELECT a.condition_cleared FROM alerts a WHERE a.account_id = f.account_id
                AND a.rule = f.rule AND a.status = 'done' ORDER BY a.id DESC LIMIT 1), 1) = 1
  AND f.reason != ''
RETURNING account_id, rule, severity, reason
"""


def apply_alerts(
    conn: sqlite3.Connection, fired: list[Fired], scope: str, params: dict, now: str, today: str
) -> tuple[list[AlertRecord], list[AlertRecord], int]:
    """Apply fired conditions to the alerts table for the accounts in `scope`.

    `scope` is an SQL condition on `alerts.account_id` (with `params`). Returns the alerts
    opened, the live alerts whose condition newly cleared, and how many snoozes expired.
    """
    _load_fired(conn, fired)
    p = params | {"now": now, "today": today}
    reopened, opened = _reopen_and_open(conn, scope, p)
    absent = f"NOT EXISTS (SELECT 1 FROM _fired f WHERE {_MATCH})"
    conn.execute(
        "UPDATE alerts SET detail = json_remove(detail, '$.condition_cleared_on') "
        "WHERE status IN ('open', 'snoozed') AND json_extract(detail, '$.condition_cleared_on') "
        f"IS NOT NULL AND {scope} AND EXISTS (SELECT 1 FROM _fired f WHERE {_MATCH})",
        p,
    )
    cleared = conn.execute(
        "UPDATE alerts SET detail = json_set(detail, '$.condition_cleared_on', :today) "
        "WHERE status IN ('open', 'snoozed') AND json_extract(detail, '$.condition_cleared_on') "
        f"IS NULL AND {scope} AND {absent} RETURNING rule, severity, reason",
        p,
    ).fetchall()
    conn.execute(
        "UPDATE alerts SET condition_cleared = 1 WHERE status = 'done' AND condition_cleared = 0 "
        f"AND {scope} AND {absent}",
        p,
    )
    return opened, [AlertRecord(*r) for r in cleared], reopened


def _load_fired(conn: sqlite3.Connection, fired: list[Fired]) -> None:
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _fired (account_id TEXT, rule TEXT, severity TEXT, "
        "reason TEXT, detail TEXT, PRIMARY KEY (account_id, rule))"
    )
    conn.execute("DELETE FROM _fired")
    conn.executemany("INSERT OR IGNORE INTO _fired VALUES (?, ?, ?, ?, ?)", fired)


def _reopen_and_open(conn: sqlite3.Connection, scope: str, p: dict) -> tuple[int, list]:
    """Expired snoozes back to open, then new alerts for the fired rows that may open."""
    reopened = conn.execute(
        f"UPDATE alerts SET status = 'open' WHERE status = 'snoozed' AND snoozed_until <= :today "
        f"AND {scope}",
        p,
    ).rowcount
    opened = [AlertRecord(r[1], r[2], r[3]) for r in conn.execute(_OPEN_NEW, p).fetchall()]
    return reopened, opened


#: The full rescore's updates, driven by `_absent` (the pairs whose condition is gone); each
#: looks pairs up by key (tests check the plans: a scan here is a scan per live alert).
#: Live alerts noted as cleared whose condition is back: from the few `_refired` pairs.
BOOK_REFIRED = (
    "UPDATE alerts SET detail = json_remove(detail, '$.condition_cleared_on') "
    "WHERE id IN (SELECT a.id FROM _refired x CROSS JOIN alerts a "
    "ON a.account_id = x.account_id AND a.rule = x.rule WHERE a.status != 'done' "
    "AND json_extract(a.detail, '$.condition_cleared_on') IS NOT NULL) AND {scope}"
)
#: Live alerts already noted as cleared (the partial index `alerts_cleared_live`): nobody
#: closes them in a big book, so they pile up (~290k of 930k after 20 days at 1M).
_CLEARED_LIVE = (
    "SELECT account_id, rule FROM alerts WHERE status != 'done' "
    "AND json_extract(detail, '$.condition_cleared_on') IS NOT NULL"
)
#: From the few absent pairs to their alerts (CROSS JOIN keeps `_absent` outside: the planner,
#: with no statistics on it, otherwise walked every live or every closed alert by status).
_ABSENT_IDS = (
    "SELECT a.id FROM _absent x CROSS JOIN alerts a "
    "ON a.account_id = x.account_id AND a.rule = x.rule"
)
BOOK_CLEARED = (
    "UPDATE alerts SET detail = json_set(detail, '$.condition_cleared_on', :today) "
    f"WHERE id IN ({_ABSENT_IDS} WHERE a.status IN ('open', 'snoozed') AND "
    "json_extract(a.detail, '$.condition_cleared_on') IS NULL) AND {scope} "
    "RETURNING rule, severity, reason"
)
BOOK_DONE_CLEARED = (
    "UPDATE alerts SET condition_cleared = 1 "
    f"WHERE id IN ({_ABSENT_IDS} WHERE a.status = 'done' AND a.condition_cleared = 0) "
    "AND {scope}"
)
_UNCLEARED_DONE = (
    "SELECT account_id, rule FROM alerts WHERE status = 'done' AND condition_cleared = 0"
)


def known_pairs(conn: sqlite3.Connection) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(blocked, known): `blocked_pairs`, and every pair with a live alert or any closed one
    whose condition has not cleared (the pairs a full rescore may have to update)."""
    blocked = blocked_pairs(conn)
    cursor = conn.cursor()
    cursor.row_factory = None
    return blocked, blocked | set(cursor.execute(_UNCLEARED_DONE))


def apply_book_alerts(
    conn: sqlite3.Connection,
    fired: list[Fired],
    known: set[tuple[str, str]],
    scope: str,
    now: str,
    today: str,
) -> tuple[list[AlertRecord], list[AlertRecord], int]:
    """`apply_alerts` for the whole book, with the same result: the rows that cannot open
    (reason "") stay out of `_fired`, and the few pairs whose condition is gone (`known` minus
    the fired ones) drive the updates, instead of a test of every live alert against every
    fired row."""
    fired_pairs = {(f[0], f[1]) for f in fired}
    cleared, uncleared = _pair_set(conn, _CLEARED_LIVE), _pair_set(conn, _UNCLEARED_DONE)
    absent = known - fired_pairs - (cleared - uncleared)
    opening = [f for f in fired if f[3]]
    return apply_book_changes(conn, opening, absent, cleared & fired_pairs, scope, now, today)


def _pair_set(conn: sqlite3.Connection, sql: str) -> set[tuple[str, str]]:
    cursor = conn.cursor()
    cursor.row_factory = None
    return set(cursor.execute(sql))


#: Pairs by rule: [(rule, rowids of their accounts, ids of those not in the book), …] (see
#: `book_pairs`).
RulePairs = list[tuple[str, np.ndarray, list[str]]]


def book_pairs(conn: sqlite3.Connection) -> dict[str, RulePairs]:
    """The alert pairs `book_changes` starts from: "blocked" (a live alert, or a closed one
    whose condition never cleared), "uncleared" (closed, condition not cleared) and "cleared"
    (live, its condition noted as cleared), each as its accounts' rowids per rule (one JSON
    list of integers, decoded in C), and the ids of any account no longer in the book. A full
    rescore reads them ahead on a reader of its own (`read_ahead`): it writes no alert before
    `book_changes`. Rowids, not ids: the rescore finds ~800k of them among a million accounts
    by a binary search of integers, where ids took ~0.6 s of hashing and merging a day."""
    return {
        "blocked": _rule_pairs(conn, _BLOCKED_SQL),
        "uncleared": _rule_pairs(conn, _UNCLEARED_DONE),
        "cleared": _rule_pairs(conn, _CLEARED_LIVE),
    }


def _rule_pairs(conn: sqlite3.Connection, sql: str) -> RulePairs:
    grouped = (
        "SELECT p.rule, json_group_array(a.rowid) FILTER (WHERE a.rowid IS NOT NULL), "
        "json_group_array(p.account_id) FILTER (WHERE a.rowid IS NULL) "
        f"FROM ({sql}) AS p LEFT JOIN accounts a ON a.id = p.account_id GROUP BY p.rule"  # noqa: S608
    )
    return [
        (rule, np.array(json.loads(rowids), dtype=np.int64), json.loads(outside))
        for rule, rowids, outside in conn.execute(grouped).fetchall()
    ]


@dataclass
class PairStates:
    """The known (account, rule) pairs as masks over the book's accounts, per state (see
    `book_pairs`), and the pairs whose account is not among them."""

    blocked: dict[str, np.ndarray]
    uncleared: dict[str, np.ndarray]
    cleared: dict[str, np.ndarray]
    blocked_out: list[tuple[str, str]]
    uncleared_out: list[tuple[str, str]]
    cleared_out: list[tuple[str, str]]


def book_changes(
    conn: sqlite3.Connection,
    c: Columns,
    cfg: ScoringConfig,
    as_of: date,
    pairs: dict[str, RulePairs] | None = None,
) -> tuple[list[Fired], list[tuple[str, str]], list[tuple[str, str]]]:
    """The whole book's rules, for `apply_book_changes`: (the fired rows that may open an
    alert, with their sentence; the known pairs whose condition is gone, but for live alerts
    already noted as cleared; those noted as cleared whose condition is back). The same as
    `evaluate` with `known_pairs` and `apply_book_alerts`' difference, with the pair states as
    masks over the book's accounts: only the few pairs that may open get a sentence, and the
    ~700k live pairs of a million accounts are never Python tuples. `pairs`: `book_pairs` as
    read ahead (else read here); `c["rowid"]`: the accounts' rowids (else looked up)."""
    return changes_from_states(c, cfg, as_of, pair_states(conn, c, pairs))


def pair_states(
    conn: sqlite3.Connection, c: Columns, pairs: dict[str, RulePairs] | None = None
) -> PairStates:
    """What `book_changes` reads from the book: the pair masks over the accounts of `c`."""
    rowids = c["rowid"] if "rowid" in c else rowids_of(conn, c["account_id"])
    book = _RowidIndex(rowids)
    pairs = pairs if pairs is not None else book_pairs(conn)
    blocked, blocked_out = pair_masks(conn, pairs["blocked"], book)
    uncleared, uncleared_out = pair_masks(conn, pairs["uncleared"], book)
    cleared, cleared_out = pair_masks(conn, pairs["cleared"], book)
    return PairStates(blocked, uncleared, cleared, blocked_out, uncleared_out, cleared_out)


def changes_from_states(
    c: Columns, cfg: ScoringConfig, as_of: date, states: PairStates
) -> tuple[list[Fired], list[tuple[str, str]], list[tuple[str, str]]]:
    """`book_changes` from the pair states: no database, so the full rescore can work it out
    while its writes run."""
    accounts = c["account_id"]
    blocked, uncleared, cleared = states.blocked, states.uncleared, states.cleared
    live = c["status"] != "churned"
    hits: dict[str, np.ndarray] = {}
    new: list[Fired] = []
    for rule in cfg.rules:
        if not rule.enabled:
            continue
        hit, why = RULES[rule.key](c, rule, as_of)
        hits[rule.key] = hit = np.asarray(hit, dtype=bool) & live
        may_open = hit & ~blocked[rule.key] if rule.key in blocked else hit
        for i in np.flatnonzero(may_open):
            detail = {k: _json_value(c[k][i]) for k in DETAIL_COLUMNS[rule.key]}
            new.append((accounts[i], rule.key, rule.severity, why(i), json.dumps(detail)))
    # accounts outside the book never fire; live alerts already noted as cleared need nothing
    # while their condition stays gone (unless a closed one of theirs still waits for it)
    cleared_out, uncleared_out = set(states.cleared_out), set(states.uncleared_out)
    absent = set(states.blocked_out) - (cleared_out - uncleared_out) | uncleared_out
    nothing = np.zeros(len(accounts), dtype=bool)
    for masks in (blocked, uncleared):
        for key, known in masks.items():
            gone = known & ~hits[key] if key in hits else known
            if masks is blocked and key in cleared:
                gone &= ~(cleared[key] & ~uncleared.get(key, nothing))
            absent.update((accounts[i], key) for i in np.flatnonzero(gone).tolist())
    refired = [
        (accounts[i], key)
        for key, mask in cleared.items()
        for i in np.flatnonzero(mask & hits.get(key, nothing)).tolist()
    ]
    return new, sorted(absent), refired


def positions(index: pd.Index, ids) -> np.ndarray:
    """Where each of `ids` (unique) sits in `index` (unique; -1: not there). Snapshots and
    alert pairs list accounts in id order, the book is in rowid order: where both are sorted
    (ids assigned in order) a merge of the two replaces hashing a million ids (0.3 s -> 0.1 s),
    and where they are the same, one comparison does."""
    import pandas as pd

    ids = np.asarray(ids, dtype=object)
    if len(ids) == len(index) and bool((ids == index.to_numpy(dtype=object)).all()):
        return np.arange(len(ids))  # (the book as objects only when the lengths agree)
    target = pd.Index(ids)
    same_kind = target.dtype == index.dtype  # text with text (not a blob id behind csm)
    if same_kind and target.is_monotonic_increasing and index.is_monotonic_increasing:
        _, left, right = target.join(index, how="left", return_indexers=True)
        if left is None and right is not None:
            return right
    return index.get_indexer(target)


def rowids_of(conn: sqlite3.Connection, ids: np.ndarray) -> np.ndarray:
    """Each account id's rowid in `accounts` (-1 where there is none): a lookup per id, for
    callers whose columns carry no rowids (the full rescore's do)."""
    sql = "SELECT rowid FROM accounts WHERE id = ?"
    rows = (conn.execute(sql, (account,)).fetchone() for account in ids.tolist())
    return np.array([row[0] if row else -1 for row in rows], dtype=np.int64)


class _RowidIndex:
    """Finds accounts by rowid among the book's columns: rowids sorted once (the full
    rescore's are already in order), then binary-searched in C."""

    def __init__(self, rowids: np.ndarray) -> None:
        rowids = np.asarray(rowids, dtype=np.int64)
        self.size = len(rowids)
        ordered = self.size < 2 or bool((rowids[1:] > rowids[:-1]).all())
        self.order = None if ordered else np.argsort(rowids, kind="stable")
        self.sorted = rowids if self.order is None else rowids[self.order]

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Where each rowid sits in the book's columns (-1: not there)."""
        if self.size == 0:
            return np.full(len(rowids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted, rowids), self.size - 1)
        at[self.sorted[at] != rowids] = -1
        if self.order is not None:
            at = np.where(at >= 0, self.order[at], -1)
        return at


def pair_masks(
    conn: sqlite3.Connection, pairs: RulePairs, book: _RowidIndex
) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """The (account, rule) pairs as one mask over the accounts of `book` per rule, and the
    pairs whose account is not among them."""
    masks: dict[str, np.ndarray] = {}
    outside: list[tuple[str, str]] = []
    for rule, rowids, gone in pairs:
        at = book.positions(rowids)
        mask = np.zeros(book.size, dtype=bool)
        mask[at[at >= 0]] = True
        masks[rule] = mask
        missing = rowids[at < 0].tolist()  # in the book's table, not among its columns
        outside.extend((account, rule) for account in [*gone, *_ids_of(conn, missing)])
    return masks, outside


def _ids_of(conn: sqlite3.Connection, rowids: list[int]) -> list[str]:
    if not rowids:
        return []
    sql = "SELECT a.id FROM json_each(?) AS j JOIN accounts a ON a.rowid = j.value"
    return [row[0] for row in conn.execute(sql, (json.dumps(rowids),))]


def apply_book_changes(
    conn: sqlite3.Connection,
    new: list[Fired],
    absent: set[tuple[str, str]] | list[tuple[str, str]],
    refired: set[tuple[str, str]] | list[tuple[str, str]],
    scope: str,
    now: str,
    today: str,
) -> tuple[list[AlertRecord], list[AlertRecord], int]:
    """Open the `new` rows that may open, note and mark the `absent` pairs (their condition
    is gone), unmark the `refired` ones (noted as cleared, their condition back), reopen due
    snoozes: what `apply_alerts` does, driven by these few rows."""
    _load_fired(conn, new)
    for table, pairs in (("_absent", absent), ("_refired", refired)):
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} (account_id TEXT, rule TEXT, "
            "PRIMARY KEY (account_id, rule)) WITHOUT ROWID"
        )
        conn.execute(f"DELETE FROM {table}")  # noqa: S608
        conn.executemany(f"INSERT INTO {table} VALUES (?, ?)", pairs)  # noqa: S608
    p = {"now": now, "today": today}
    reopened, opened = _reopen_and_open(conn, scope, p)
    conn.execute(BOOK_REFIRED.format(scope=scope), p)
    cleared = conn.execute(BOOK_CLEARED.format(scope=scope), p).fetchall()
    conn.execute(BOOK_DONE_CLEARED.format(scope=scope), p)
    return opened, [AlertRecord(*r) for r in cleared], reopened
