"""The scoring facts cache (`score_facts`): cached measures equal fresh ones on every day, the
triggers drop an account's row whenever its inputs change, and the full rescore's same-day skip
gives the same book as a rescore from scratch."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import count
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from csm_tui.scoring import facts_cache
from csm_tui.scoring import measures as m
from csm_tui.scoring.churn import train_book_model
from csm_tui.scoring.config import Bands, default_config
from csm_tui.scoring.engine import rescore_all
from csm_tui.scoring.facts_cache import SEP
from csm_tui.scoring.measures import CURRENT_COLUMNS, measures_frame
from csm_tui.storage.db import Book, open_book
from csm_tui.storage.history import SNAPSHOT_COLUMNS, all_snapshots
from csm_tui.storage.schema import ACCOUNT_INPUT_COLUMNS, HEALTH_COLUMNS
from tests.conftest import TEST_TODAY
from tests.model.synthbook import make_book
from tests.scoring.synth import TODAY
from tests.scoring.synth import build as build_synth

N_SYNTH = 300
_unique = count(1)


# -- helpers ------------------------------------------------------------------------------------
def _iso(offset: int, base: date = TODAY) -> str:
    """The ISO date `offset` days after `base` (negative: before)."""
    return (base + timedelta(days=offset)).isoformat()


def _same(conn: sqlite3.Connection, as_of: date) -> pd.Series:
    """Assert the cached frame equals the fresh one as of `as_of`; return the `reused` mask."""
    cached = measures_frame(conn, as_of, cache=True)
    fresh = measures_frame(conn, as_of)
    reused = cached.pop("reused")
    assert not fresh.pop("reused").any()
    if not (cached.equals(fresh) and list(cached.dtypes) == list(fresh.dtypes)):  # fast path
        pd.testing.assert_frame_equal(cached, fresh, check_exact=True, obj=f"facts on {as_of}")
    return reused


def _rows(conn: sqlite3.Connection) -> set[str]:
    """The account ids that have a cached row."""
    return {r[0] for r in conn.execute("SELECT account_id FROM score_facts")}


@pytest.fixture(scope="module")
def _env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module fixtures run before the autouse isolation: give them the tests' today and dirs."""
    home = tmp_path_factory.mktemp("module-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSM_TODAY", TEST_TODAY)
        mp.setenv("CSM_DATA_DIR", str(home / "data"))
        mp.setenv("CSM_CONFIG_DIR", str(home / "config"))
        yield


def _copy(src: Path, folder: Path) -> Book:
    """Open a copy of a closed book file (and of the churn model beside it, if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "book.db"
    shutil.copyfile(src, dst)
    model = src.with_name(src.stem + ".model.pkl")
    if model.exists():
        shutil.copyfile(model, folder / "book.model.pkl")
    return open_book(dst)


def _snapshot(book: Book, folder: Path) -> Book:
    """A copy of an open book (SQLite backup) with its churn model, opened."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "book.db"
    target = sqlite3.connect(dst)
    book.conn.backup(target)
    target.close()
    model = Path(book.path).with_name(Path(book.path).stem + ".model.pkl")
    if model.exists():
        shutil.copyfile(model, folder / "book.model.pkl")
    return open_book(dst)


# -- planted edge rows --------------------------------------------------------------------------
#: (account, column, last day with the old value, first day with the new one): the planted
#: edges, each changing one fact on a known day with no edit.
EDGE_CHANGES = (
    ("E-EVENT", "last_touch_at", 14, 15),  # a touch dated 15 days ahead comes into view
    ("E-TICKET", "tickets_recent", 3, 4),  # opened 10 days ago: leaves the 14-day window
    ("E-TICKET", "support_load", 4, 5),  # sev-2, resolved 5 days ahead: no longer open
    ("E-CHAMP", "champion", 19, 20),  # the champion leaves 20 days ahead
    ("E-SPONSOR", "left_role", 5, 6),  # left 360 days ago: leaves the 365-day window
    ("E-STALE", "usage_date", 1, 2),  # latest snapshot 94 days old: stale after 95
    ("E-FUTURE", "mau", 9, 10),  # a usage snapshot dated 10 days ahead
    ("E-FUTURE", "nps", 11, 12),  # an NPS answer dated 12 days ahead
    ("E-OLDOPEN", "tickets_trailing", 49, 50),  # opened 200 days ago, resolved 50 days ahead
    ("E-LATER", "tickets_recent", 29, 30),  # a ticket opened 30 days ahead
)


def _plant_edges(conn: sqlite3.Connection) -> None:
    """Accounts with one planted edge each (see EDGE_CHANGES), plus an account with no history."""
    accounts = ("E-EVENT", "E-TICKET", "E-SEV1", "E-CHAMP", "E-SPONSOR", "E-STALE", "E-FUTURE",
                "E-OLDOPEN", "E-LATER", "E-LONE")  # fmt: skip
    conn.executemany(
        "INSERT INTO accounts (id, name, segment, seats, start_date, activated_on, renewal_date, "
        "onboarding_pct, sponsor_engaged) VALUES (?, ?, 'SMB', 50, ?, ?, ?, 80, 1)",
        [(a, f"Edge {a}", _iso(-500), _iso(-480), _iso(200)) for a in accounts],
    )
    usage = "INSERT INTO usage VALUES (?, ?, 50, ?, ?, ?, ?, 4, 10)"
    for a in accounts[:-1]:
        if a != "E-STALE":
            conn.execute(usage, (a, _iso(-5), 30, 9.0, 30.0, 100))
    conn.execute(usage, ("E-STALE", _iso(-94), 20, 5.0, 20.0, 50))
    conn.execute(usage, ("E-STALE", _iso(-120), 25, 5.0, 25.0, 50))
    conn.execute(usage, ("E-FUTURE", _iso(10), 45, 20.0, 45.0, 300))
    events = "INSERT INTO events (id, account_id, at, kind) VALUES (?, ?, ?, ?)"
    conn.execute(events, ("EV-E1", "E-EVENT", _iso(-30) + "T10:00:00", "call"))
    conn.execute(events, ("EV-E2", "E-EVENT", _iso(15) + "T10:00:00", "meeting"))
    tickets = (
        "INSERT INTO tickets (id, account_id, opened_at, severity, status, resolved_at) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    conn.executemany(
        tickets,
        [
            ("TK-E1", "E-TICKET", _iso(-10) + "T09:00:00", 2, "solved", _iso(5) + "T12:00:00"),
            ("TK-E2", "E-SEV1", _iso(-3) + "T09:00:00", 1, "open", None),
            ("TK-E3", "E-OLDOPEN", _iso(-200) + "T09:00:00", 3, "pending", _iso(50)),
            ("TK-E4", "E-LATER", _iso(30) + "T09:00:00", 3, "open", None),
        ],
    )
    contacts = (
        "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    conn.executemany(
        contacts,
        [
            ("CT-E1", "E-CHAMP", "Cam Pion", "champion", 1, _iso(20)),
            ("CT-E2", "E-CHAMP", "Spo Nsor", "sponsor", 1, None),
            ("CT-E3", "E-SPONSOR", "Old Sponsor", "sponsor", 0, _iso(-360)),
            ("CT-E4", "E-SPONSOR", "Still Here", "champion", 1, None),
        ],
    )
    conn.execute(
        "INSERT INTO responses (id, account_id, date, kind, score) VALUES "
        "('R-E1', 'E-FUTURE', ?, 'nps', 9), ('R-E2', 'E-FUTURE', ?, 'nps', 2)",
        (_iso(-40), _iso(12)),
    )


def _plant_random(conn: sqlite3.Connection, rng: np.random.Generator, ids: list[str]) -> None:
    """Past, present and future-dated history on `ids`: tickets resolving later, touches, usage
    and answers dated ahead, stakeholders leaving on either side of today."""
    pick = lambda: ids[int(rng.integers(len(ids)))]  # noqa: E731
    for k in range(len(ids) * 2):
        opened = int(rng.integers(-140, 121))
        resolved = None if rng.random() < 0.4 else opened + int(rng.integers(0, 61))
        status = (
            rng.choice(["open", "pending"])
            if resolved is None
            else rng.choice(["solved", "closed", "open"])
        )
        conn.execute(
            "INSERT INTO tickets (id, account_id, opened_at, severity, status, resolved_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (f"RT-{k}", pick(), _iso(opened) + "T08:30:00", int(rng.integers(1, 5)), str(status),
             None if resolved is None else _iso(resolved) + "T16:00:00"),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO events (id, account_id, at, kind) VALUES (?, ?, ?, ?)",
            (f"RE-{k}", pick(), _iso(int(rng.integers(-10, 121))) + "T11:00:00",
             str(rng.choice(["call", "meeting", "email", "qbr", "note"]))),
        )  # fmt: skip
        conn.execute(
            "INSERT OR IGNORE INTO usage VALUES (?, ?, ?, ?, ?, ?, 1, ?, 10)",
            (pick(), _iso(int(rng.integers(1, 121))), int(rng.integers(10, 100)),
             int(rng.integers(1, 50)), float(rng.integers(1, 20)), float(rng.integers(20, 90)),
             int(rng.integers(1, 11))),
        )  # fmt: skip
        kind = str(rng.choice(["nps", "csat"]))
        score = int(rng.integers(0, 11)) if kind == "nps" else int(rng.integers(1, 6))
        conn.execute(
            "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?, ?, ?, ?, ?)",
            (f"RR-{k}", pick(), _iso(int(rng.integers(-5, 121))), kind, score),
        )
        left = None if rng.random() < 0.2 else int(rng.integers(-400, 121))
        conn.execute(
            "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (f"RC-{k}", pick(), f"Person {k}", str(rng.choice(["champion", "sponsor", "user"])),
             int(left is None or left > 0), None if left is None else _iso(left)),
        )  # fmt: skip


@pytest.fixture(scope="module")
def template(_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed book file: 300 synthetic accounts, random edge history, the planted edges and a
    few renewals (copied by each test)."""
    path = tmp_path_factory.mktemp("facts") / "template.db"
    book = open_book(path)
    try:
        ids = build_synth(book, N_SYNTH, seed=4)
        with book.write(durable=False) as conn:
            _plant_edges(conn)
            _plant_random(conn, np.random.default_rng(8), ids[:60])
            conn.executemany(
                "INSERT INTO renewals (id, account_id, due_date, arr_before) VALUES (?, ?, ?, 1000)",
                [(f"RN-{a}", a, _iso(-100)) for a in ids[:40]],
            )
    finally:
        book.close()
    return path


@pytest.fixture
def edge_book(template: Path, tmp_path: Path) -> Iterator[Book]:
    """A fresh copy of the template book (no cached rows yet)."""
    book = _copy(template, tmp_path / "edge")
    yield book
    book.close()


# -- 1. day by day ------------------------------------------------------------------------------
def test_cached_facts_equal_fresh_ones_every_day_for_four_months(edge_book: Book) -> None:
    """For every day TODAY..TODAY+120, the cached frame equals the fresh one exactly, while most
    accounts' cached facts are reused from one day to the next; the planted edges (future rows,
    tickets resolving later, departures, a snapshot going stale) do change facts in that span."""
    n = edge_book.scalar("SELECT count(*) FROM accounts")
    shares: list[float] = []
    seen: dict[tuple[str, str, int], object] = {}
    wanted = {(a, c, d) for a, c, *days in EDGE_CHANGES for d in days}
    with edge_book.write(durable=False) as conn:
        for k in range(121):
            reused = _same(conn, TODAY + timedelta(days=k))
            shares.append(float(reused.mean()))
            if k == 0:
                assert not reused.any()
                assert len(_rows(conn)) == n
            fresh = measures_frame(conn, TODAY + timedelta(days=k))
            for a, c, d in wanted:
                if d == k:
                    seen[(a, c, d)] = fresh.loc[a, c]
    assert shares[1] > 0.5
    assert sum(s > 0.5 for s in shares[1:]) >= 0.9 * 120
    for a, c, before, after in EDGE_CHANGES:
        old, new = seen[(a, c, before)], seen[(a, c, after)]
        assert not (old == new or (pd.isna(old) and pd.isna(new))), (a, c, old, new)


def test_an_expiry_re_runs_only_the_history_queries_it_concerns(edge_book: Book) -> None:
    """When cached facts expire with time, only the history queries whose own expiry came are
    run again (a ticket leaving a window re-runs the tickets query, not the other six), and the
    facts still equal fresh ones."""
    with edge_book.write(durable=False) as conn:
        _same(conn, TODAY)
        for k in range(1, 120):
            day = _iso(k)
            rows = conn.execute(
                "SELECT group_until FROM score_facts WHERE valid_until <= ?", (day,)
            ).fetchall()
            due = {
                g
                for r in rows
                for g, d in zip(facts_cache.GROUPS, r[0].split(SEP), strict=True)
                if d <= day
            }
            if due and len(due) < len(facts_cache.GROUPS) - 1:
                break
        else:
            pytest.fail("no day on which only some queries' facts expire")
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            measures_frame(conn, TODAY + timedelta(days=k), cache=True)
        finally:
            conn.set_trace_callback(None)
        ran = " ".join(" ".join(s.split()) for s in statements)
        for group, sql in m._queries().items():
            if group != "accounts":
                head = " ".join(sql.split()).split(":")[0][:60]  # the trace expands parameters
                assert (head in ran) == (group in due), (group, due)
        _same(conn, TODAY + timedelta(days=k))


# -- 2. jumps and going back --------------------------------------------------------------------
@pytest.mark.parametrize("k", [7, 30, 91, 97, 200, 400])
def test_a_jump_forward_and_back_equals_fresh_facts(edge_book: Book, k: int) -> None:
    """Cached at TODAY, then asked directly for TODAY+k: equal to fresh. The rows that only
    expired are refreshed in the frame and keep their `score_facts` row of TODAY (valid for
    TODAY, not for TODAY+k). Back at TODAY again: equal to fresh."""
    later = TODAY + timedelta(days=k)
    with edge_book.write(durable=False) as conn:
        _same(conn, TODAY)
        ahead = _same(conn, later)
        if k == 7:
            assert ahead.mean() > 0.5
        as_of = dict(conn.execute("SELECT account_id, as_of FROM score_facts").fetchall())
        recomputed = set(ahead.index[~ahead.to_numpy()])
        assert recomputed and all(as_of[a] == TODAY.isoformat() for a in recomputed)
        _same(conn, TODAY)


def test_going_back_in_time_recomputes_everything(edge_book: Book) -> None:
    """Facts cached at TODAY+30 are never reused for TODAY: all recomputed, equal to fresh."""
    with edge_book.write(durable=False) as conn:
        assert not _same(conn, TODAY + timedelta(days=30)).any()
        assert not _same(conn, TODAY).any()
        assert _same(conn, TODAY).all()


# -- 3. invalidation by writers -----------------------------------------------------------------
def _rich_accounts(conn: sqlite3.Connection) -> tuple[str, str]:
    """Two accounts with rows in every history table (usage today included)."""
    rows = conn.execute(
        "SELECT id FROM accounts a WHERE "
        "EXISTS (SELECT 1 FROM usage WHERE account_id = a.id AND date = :today) AND "
        + " AND ".join(
            f"EXISTS (SELECT 1 FROM {t} WHERE account_id = a.id)"
            for t in ("tickets", "events", "responses", "contacts", "objectives", "renewals")
        )
        + " ORDER BY id LIMIT 2",
        {"today": TODAY.isoformat()},
    ).fetchall()
    assert len(rows) == 2
    return rows[0][0], rows[1][0]


EDITS = [
    ("usage-insert", "INSERT INTO usage VALUES (:x, :yesterday, 10, 1, 1, 2, 3, 1, 10)", "x"),
    ("usage-update", "UPDATE usage SET mau = mau + 17, active_users = 1 "
                     "WHERE account_id = :x AND date = :today", "x"),
    ("usage-delete", "DELETE FROM usage WHERE account_id = :x AND date = :today", "x"),
    ("tickets-insert", "INSERT INTO tickets (id, account_id, opened_at, severity, status) "
                       "VALUES ('NEW-T', :x, :today || 'T08:00:00', 1, 'open')", "x"),
    ("tickets-update", "UPDATE tickets SET severity = 1, status = 'open', resolved_at = NULL, "
                       "opened_at = :today WHERE account_id = :x", "x"),
    ("tickets-move", "UPDATE tickets SET account_id = :y WHERE account_id = :x", "xy"),
    ("tickets-delete", "DELETE FROM tickets WHERE account_id = :x", "x"),
    ("events-insert", "INSERT INTO events (id, account_id, at, kind) "
                      "VALUES ('NEW-E', :x, :today || 'T08:00:00', 'qbr')", "x"),
    ("events-update", "UPDATE events SET at = :today || 'T07:00:00', kind = 'qbr' "
                      "WHERE account_id = :x", "x"),
    ("events-move", "UPDATE events SET account_id = :y WHERE account_id = :x", "xy"),
    ("events-delete", "DELETE FROM events WHERE account_id = :x", "x"),
    ("responses-insert", "INSERT INTO responses (id, account_id, date, kind, score) "
                         "VALUES ('NEW-R', :x, :today, 'nps', 0)", "x"),
    ("responses-update", "UPDATE responses SET date = :today, "
                         "score = CASE kind WHEN 'nps' THEN 10 - score ELSE 6 - score END "
                         "WHERE account_id = :x", "x"),
    ("responses-delete", "DELETE FROM responses WHERE account_id = :x", "x"),
    ("contacts-insert", "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
                        "VALUES ('NEW-C', :x, 'New Person', 'sponsor', 0, :today)", "x"),
    ("contacts-update", "UPDATE contacts SET active = 0, left_on = :today WHERE account_id = :x",
     "x"),
    ("contacts-delete", "DELETE FROM contacts WHERE account_id = :x", "x"),
    ("objectives-insert", "INSERT INTO objectives (id, account_id, title, status) "
                          "VALUES ('NEW-O', :x, 'Goal', 'off_track')", "x"),
    ("objectives-update", "UPDATE objectives SET status = CASE status WHEN 'done' "
                          "THEN 'off_track' ELSE 'done' END WHERE account_id = :x", "x"),
    ("objectives-delete", "DELETE FROM objectives WHERE account_id = :x", "x"),
    ("renewals-insert", "INSERT INTO renewals (id, account_id, due_date, arr_before) "
                        "VALUES ('NEW-RN', :x, :today, 100)", "x"),
    ("renewals-update", "UPDATE renewals SET outcome = 'churned' WHERE account_id = :x", "x"),
    ("renewals-delete", "DELETE FROM renewals WHERE account_id = :x", "x"),
    ("accounts-delete", "DELETE FROM accounts WHERE id = :x", "x"),
]  # fmt: skip
#: A new value (SQL expression) for every account input column but `id`.
NEW_INPUT = {
    "segment": "'Enterprise-X'", "tier": "'Scale-X'", "owner": "'Someone Else'",
    "industry": "'Mining'", "arr": "arr + 1.5", "plan": "'gold'", "stage": "'renewal'",
    "start_date": "'2020-01-01'", "renewal_date": "'2031-01-01'", "status": "'churned'",
    "seats": "seats + 3", "onboarding_pct": "1", "activated_on": "'2020-02-02'",
    "sponsor_engaged": "1 - ifnull(sponsor_engaged, 0)", "open_escalations": "open_escalations + 1",
    "custom": "json_set(custom, '$.pod', 'blue')",
}  # fmt: skip
#: Columns the engine writes (or names): changing them leaves the cached row in place.
NOT_INPUT = {
    "health_score": "-1", "health_band": "'red'", "health_delta_7": "3", "churn_prob": "0.9",
    "risk_segment": "'high'", "risk_top10": "1", "expansion_candidate": "1",
    "last_touch_at": "'2001-01-01'", "scored_at": "'x'", "name": "'Renamed'",
}  # fmt: skip
#: Those of them kept in `account_health` (schema v8), not on `accounts`.
IN_ACCOUNT_HEALTH = {*HEALTH_COLUMNS, "scored_at"}


def _edit_then_check(book: Book, sql: str, dropped_keys: str) -> None:
    """Cache every account, run `sql`, check exactly the named accounts' rows went, then that
    the next cached frame equals the fresh one and reuses every other row."""
    with book.write(durable=False) as conn:
        _same(conn, TODAY)
        x, y = _rich_accounts(conn)
        before = _rows(conn)
        params = {"x": x, "y": y, "today": TODAY.isoformat(), "yesterday": _iso(-1)}
        conn.execute(sql, params)
        dropped = {params[k] for k in dropped_keys}
        assert _rows(conn) == before - dropped
        reused = _same(conn, TODAY)
        assert set(reused.index[~reused.to_numpy()]) == dropped & set(reused.index)


@pytest.mark.parametrize(("sql", "dropped"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_history_edits_drop_the_accounts_cached_row(
    edge_book: Book, sql: str, dropped: str
) -> None:
    """An INSERT, UPDATE or DELETE through plain SQL on any history table (or deleting the
    account) drops that account's cached row (both accounts' when a row moves), and only it."""
    _edit_then_check(edge_book, sql, dropped)


@pytest.mark.parametrize("column", [c for c in ACCOUNT_INPUT_COLUMNS if c != "id"])
def test_account_input_columns_drop_the_cached_row(edge_book: Book, column: str) -> None:
    """Updating any input column of an account drops its cached row."""
    _edit_then_check(edge_book, f"UPDATE accounts SET {column} = {NEW_INPUT[column]} "
                     "WHERE id = :x", "x")  # fmt: skip


def test_renaming_an_account_id_drops_the_old_row(edge_book: Book) -> None:
    """Changing an account's id drops the cached row under the old id; the new id is computed."""
    with edge_book.write(durable=False) as conn:
        _same(conn, TODAY)
        conn.execute("UPDATE accounts SET id = 'E-LONE-2' WHERE id = 'E-LONE'")
        assert "E-LONE" not in _rows(conn)
        reused = _same(conn, TODAY)
        assert set(reused.index[~reused.to_numpy()]) == {"E-LONE-2"}


@pytest.mark.parametrize("column", list(NOT_INPUT))
def test_score_columns_keep_the_cached_row(edge_book: Book, column: str) -> None:
    """Writing a score column (what the engine writes) or the name keeps the cached row, and the
    next computation reuses it."""
    with edge_book.write(durable=False) as conn:
        _same(conn, TODAY)
        x, _ = _rich_accounts(conn)
        if column in IN_ACCOUNT_HEALTH:
            sql = (
                f"UPDATE account_health SET {column} = {NOT_INPUT[column]} "
                "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = ?)"
            )
        else:
            sql = f"UPDATE accounts SET {column} = {NOT_INPUT[column]} WHERE id = ?"
        assert conn.execute(sql, (x,)).rowcount == 1
        assert x in _rows(conn)
        assert _same(conn, TODAY).all()


@pytest.mark.parametrize(
    "name", ["Jo\x1fPark", "\x1e1\x1e0\x1e", "a\x1e\x1fb\x1f\x1e", "\x1f", "end\x00"]
)
def test_separator_characters_in_cached_text_round_trip(edge_book: Book, name: str) -> None:
    """Text facts read back from the cache equal the fresh ones even when they contain the
    cache's own field separator or escape characters (a departed sponsor's name, a touch's
    timestamp), or a trailing NUL."""
    with edge_book.write(durable=False) as conn:
        conn.execute(
            "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
            "VALUES ('SEP-1', 'E-LONE', ?, 'sponsor', 0, ?)",
            (name, _iso(-3)),
        )
        conn.execute(
            "INSERT INTO events (id, account_id, at, kind) VALUES ('SEP-2', 'E-LONE', ?, 'call')",
            (_iso(-2) + "T10:00:00" + name,),
        )
        _same(conn, TODAY)
        reused = _same(conn, TODAY + timedelta(days=1))
        assert reused["E-LONE"]


#: Rows with text that is not a date in a date column, as a tool writing the file behind the
#: importer (which validates dates) may leave them; the fresh facts read past them.
NOT_A_DATE = {
    "contacts.left_on": "UPDATE contacts SET left_on = 'n/a' WHERE account_id = 'E-CHAMP'",
    "tickets.resolved_at": "UPDATE tickets SET resolved_at = 'unknown' WHERE id = 'TK-E1'",
    "tickets.opened_at": "UPDATE tickets SET opened_at = 'tbd' WHERE id = 'TK-E4'",
    "usage.date": "INSERT INTO usage (account_id, date, mau) VALUES ('E-LONE', 'n/a', 5)",
    "responses.date": "UPDATE responses SET date = 'soon' WHERE id = 'R-E2'",
    # a month with no day (a monthly snapshot): as text it sorts before the month's first day,
    # so it comes into view on the last day of the month before (TODAY + 7)
    "usage.date (year-month)": "INSERT INTO usage (account_id, date, mau) "
    "VALUES ('E-LONE', '2026-12', 5)",
    "contacts.left_on (year-month)": "UPDATE contacts SET left_on = '2026-12' WHERE id = 'CT-E1'",
}


@pytest.mark.parametrize("sql", list(NOT_A_DATE.values()), ids=list(NOT_A_DATE))
def test_odd_date_text_written_behind_the_importer_keeps_cached_equal_to_fresh(
    edge_book: Book, sql: str
) -> None:
    """A date column holding text that is not a full date (written behind the importer) leaves
    the cached frame equal to the fresh one, which reads past it, on each of the next days."""
    with edge_book.write(durable=False) as conn:
        conn.execute(sql)
        for k in (*range(11), 30):
            _same(conn, TODAY + timedelta(days=k))


# -- 4. random edits and days (hypothesis) ------------------------------------------------------
@pytest.fixture(scope="module")
def small_template(_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed book file: 30 synthetic accounts and 10 with no history (on which a random
    edit is the only thing that can change, so each expiry date shows on its own)."""
    path = tmp_path_factory.mktemp("small") / "small.db"
    book = open_book(path)
    try:
        build_synth(book, 30, seed=9)
        with book.write(durable=False) as conn:
            conn.executemany(
                "INSERT INTO accounts (id, name, seats, onboarding_pct) VALUES (?, ?, 40, 50)",
                [(f"H{i:02d}", f"Empty {i}") for i in range(10)],
            )
    finally:
        book.close()
    return path


_ACCOUNT = st.one_of(
    st.integers(0, 29).map(lambda i: f"A{i:07d}"), st.integers(0, 9).map(lambda i: f"H{i:02d}")
)
#: Offsets (days from the current day) are drawn both anywhere and just past a window's edge
#: (a ticket opened 14/90/98 days ago, a departure 366 days ago, a snapshot 96 days old), so
#: the days that follow cross the edges the cache must expire on.
_TICKET_OPENED = st.integers(-130, 60) | st.builds(
    lambda edge, ahead: ahead - edge, st.sampled_from([14, 90, 98]), st.integers(1, 30)
)
_STEPS = st.one_of(
    st.tuples(st.just("ticket"), _ACCOUNT, _TICKET_OPENED,
              st.none() | st.integers(-10, 40), st.sampled_from([1, 2, 3, 4]),
              st.sampled_from(["open", "pending", "solved"])),
    st.tuples(st.just("event"), _ACCOUNT, st.integers(-200, 60),
              st.sampled_from(["call", "meeting", "email", "qbr", "note"])),
    st.tuples(st.just("usage"), _ACCOUNT, st.integers(-150, 60) | st.integers(-96, -70),
              st.integers(1, 300)),
    st.tuples(st.just("leave"), _ACCOUNT, st.integers(-400, 60) | st.integers(-366, -340),
              st.sampled_from(["champion", "sponsor"])),
    st.tuples(st.just("nps"), _ACCOUNT, st.integers(-100, 60), st.integers(0, 10)),
    st.tuples(st.just("advance"), st.integers(0, 40)),
    st.tuples(st.just("advance"), st.integers(0, 40)),
)  # fmt: skip


def _apply(conn: sqlite3.Connection, step: tuple, day: date) -> date:
    """Apply one random step as of `day` (dates relative to it); return the new day."""
    kind, *args = step
    k = next(_unique)
    if kind == "advance":
        return day + timedelta(days=args[0])
    account, offset = args[0], args[1]
    when = _iso(offset, day)
    if kind == "ticket":
        resolved = None if args[2] is None else _iso(args[2], day) + "T15:00:00"
        conn.execute(
            "INSERT INTO tickets (id, account_id, opened_at, severity, status, resolved_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (f"HT-{k}", account, when + "T09:00:00", args[3], args[4], resolved),
        )
    elif kind == "event":
        conn.execute(
            "INSERT INTO events (id, account_id, at, kind) VALUES (?, ?, ?, ?)",
            (f"HE-{k}", account, when + "T10:00:00", args[2]),
        )
    elif kind == "usage":
        conn.execute(
            "INSERT OR REPLACE INTO usage VALUES (?, ?, 100, ?, ?, ?, 1, 5, 10)",
            (account, when, min(args[2], 100), args[2] / 4, float(args[2])),
        )
    elif kind == "leave":
        found = conn.execute(
            "SELECT id FROM contacts WHERE account_id = ? AND role = ? ORDER BY id LIMIT 1",
            (account, args[2]),
        ).fetchone()
        if found:
            conn.execute(
                "UPDATE contacts SET left_on = ?, active = 0 WHERE id = ?", (when, found[0])
            )
        else:
            conn.execute(
                "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
                "VALUES (?, ?, 'Leaver', ?, 0, ?)",
                (f"HC-{k}", account, args[2], when),
            )
    else:
        conn.execute(
            "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?, ?, ?, 'nps', ?)",
            (f"HR-{k}", account, when, args[2]),
        )
    return day


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure stays fast
)
@given(steps=st.lists(_STEPS, min_size=3, max_size=12))
def test_random_edits_and_days_keep_cached_equal_to_fresh(
    small_template: Path, tmp_path: Path, steps: list[tuple]
) -> None:
    """Random edits (tickets with past or future opened/resolved dates, touches, usage
    snapshots, departures, NPS answers) interleaved with days passing: after every step, and on
    every day passed, the cached frame equals the fresh one."""
    book = _copy(small_template, tmp_path / f"h{next(_unique)}")
    try:
        day = TODAY
        with book.write(durable=False) as conn:
            _same(conn, day)
            for step in steps:
                later = _apply(conn, step, day)
                while day < later:  # every day passed, not only the last one
                    day += timedelta(days=1)
                    _same(conn, day)
                _same(conn, day)
    finally:
        book.close()


# -- 5. cache version ---------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["older", None])
def test_a_different_cache_version_drops_every_row(edge_book: Book, version: str | None) -> None:
    """A stored `score_facts_version` other than `cache_version()` (or none) wipes the table: a
    corrupted row that was being reused is recomputed, nothing is reused, facts equal fresh."""
    x = "A0000001"
    junk = np.full(len(facts_cache.CACHED_NUMBERS), 12345.0, dtype="<f8").tobytes()
    with edge_book.write(durable=False) as conn:
        _same(conn, TODAY)
        conn.execute("UPDATE score_facts SET numbers = ? WHERE account_id = ?", (junk, x))
        read = measures_frame(conn, TODAY, cache=True)  # control: the stored row is what is read
        assert read.loc[x, "reused"] and read.loc[x, "mau"] == 12345.0
        if version is None:
            conn.execute("DELETE FROM meta WHERE key = 'score_facts_version'")
        else:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'score_facts_version'", (version,))
        assert not _same(conn, TODAY).any()
        stored = conn.execute("SELECT value FROM meta WHERE key = 'score_facts_version'")
        assert stored.fetchone()[0] == facts_cache.cache_version()
        assert _same(conn, TODAY).all()


# -- 6, 7. the engine's same-day skip -----------------------------------------------------------
@pytest.fixture(scope="module")
def model_template(_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed book file of 300 accounts with renewal history and its trained churn model."""
    path = tmp_path_factory.mktemp("model") / "book.db"
    book = open_book(path)
    try:
        make_book(book, n=300)
        train_book_model(book)
    finally:
        book.close()
    assert path.with_name("book.model.pkl").exists()
    return path


@pytest.fixture
def model_book(model_template: Path, tmp_path: Path) -> Iterator[Book]:
    """A copy of the model book (with its model), scored a week ago and today."""
    book = _copy(model_template, tmp_path / "inc")
    rescore_all(book, today=TODAY - timedelta(days=7))
    assert rescore_all(book, today=TODAY).churn_model == "model"
    yield book
    book.close()


SCORES = ", ".join(CURRENT_COLUMNS)


def _scores(book: Book) -> dict[str, tuple]:
    """Every account's score columns (not `scored_at`)."""
    return {r[0]: tuple(r[1:]) for r in book.query(f"SELECT id, {SCORES} FROM scored_accounts")}


def _health(book: Book, day: date) -> dict[str, tuple]:
    """The health snapshot of `day`, per account (explain parsed: rows and blocks alike)."""
    with book.read() as conn:
        snaps = [s for s in all_snapshots(conn) if s["date"] == day.isoformat()]
    return {
        s["account_id"]: (*(s[c] for c in SNAPSHOT_COLUMNS[2:-1]), json.loads(s["explain"]))
        for s in snaps
    }


def _alerts(book: Book) -> set[tuple]:
    """The alerts and their lifecycle state, without ids and timestamps."""
    rows = book.query(
        "SELECT account_id, rule, severity, status, reason, detail, snoozed_until, "
        "close_reason, condition_cleared FROM alerts"
    )
    return {tuple(r) for r in rows}


def _mark(book: Book, day: date) -> None:
    """Mark every snapshot of `day`, in rows and in blocks (a trailing space after the JSON of
    explain / ids): a snapshot the next rescore rewrites loses the mark."""
    with book.write() as conn:
        for table, column in (("health", "explain"), ("health_blocks", "ids")):
            conn.execute(
                f"UPDATE {table} SET {column} = {column} || ' ' WHERE date = ?", (day.isoformat(),)
            )


def _rewritten(book: Book, day: date) -> set[str]:
    """Accounts whose `day` snapshot was rewritten since `_mark`: in a new block, or in a row
    without the mark (a row overrides its account's block)."""
    with book.read() as conn:
        rows = dict(
            conn.execute(
                "SELECT account_id, explain FROM health WHERE date = ?", (day.isoformat(),)
            ).fetchall()
        )
        blocks = conn.execute("SELECT ids FROM health_blocks WHERE date = ?", (day.isoformat(),))
        fresh = {a for (ids,) in blocks if not ids.endswith(" ") for a in json.loads(ids)}
    return {a for a in fresh if a not in rows} | {a for a, e in rows.items() if not e.endswith(" ")}


def _edit_some(book: Book) -> set[str]:
    """Plain-SQL edits that change some active accounts' scores and churn features."""
    ids = [
        r[0]
        for r in book.query(
            "SELECT id FROM accounts a WHERE status = 'active' AND "
            "EXISTS (SELECT 1 FROM usage WHERE account_id = a.id) AND "
            "EXISTS (SELECT 1 FROM contacts WHERE account_id = a.id) ORDER BY id LIMIT 6"
        )
    ]
    assert len(ids) == 6
    today = TODAY.isoformat()
    with book.write() as conn:
        conn.execute(
            "INSERT INTO tickets (id, account_id, opened_at, severity, status) "
            "VALUES ('X-T', ?, ?, 1, 'open')",
            (ids[0], today + "T08:00:00"),
        )
        conn.execute(
            "UPDATE accounts SET onboarding_pct = 0, sponsor_engaged = 0, open_escalations = 4 "
            "WHERE id = ?",
            (ids[1],),
        )
        conn.execute(
            "DELETE FROM usage WHERE account_id = ? AND date = "
            "(SELECT max(date) FROM usage WHERE account_id = ?)",
            (ids[2], ids[2]),
        )
        conn.execute(
            "UPDATE contacts SET active = 0, left_on = ? WHERE account_id = ?", (today, ids[3])
        )
        conn.execute(
            "INSERT INTO responses (id, account_id, date, kind, score) VALUES ('X-R', ?, ?, 'nps', 0)",
            (ids[4], today),
        )
        conn.execute(
            "INSERT INTO events (id, account_id, at, kind) VALUES ('X-E', ?, ?, 'qbr')",
            (ids[5], today + "T09:00:00"),
        )
    return set(ids)


def _from_scratch(book: Book, folder: Path) -> Book:
    """A copy of `book` with no cached facts and no same-day stamp (a rescore from scratch)."""
    scratch = _snapshot(book, folder)
    with scratch.write() as conn:
        conn.execute("DELETE FROM score_facts")
        conn.execute("DELETE FROM meta WHERE key = 'full_rescore_stamp'")
    return scratch


def test_same_day_rescore_rewrites_only_edited_accounts_and_equals_a_scratch_rescore(
    model_book: Book, tmp_path: Path
) -> None:
    """A second full rescore on the same day rewrites today's health row of exactly the accounts
    edited through SQL (the other rows keep a mark the rescore would have erased), and leaves
    the accounts' scores, today's health rows and the alerts equal to a rescore from scratch of
    a copy made before it (no cached facts, no stamp)."""
    before = _health(model_book, TODAY)
    edited = _edit_some(model_book)
    _mark(model_book, TODAY)
    scratch = _from_scratch(model_book, tmp_path / "scratch")
    try:
        assert rescore_all(model_book).churn_model == "model"
        assert rescore_all(scratch).churn_model == "model"
        assert _rewritten(model_book, TODAY) == edited
        after = _health(model_book, TODAY)
        assert all(after[a] != before[a] for a in edited)
        assert after == _health(scratch, TODAY)
        assert _scores(model_book) == _scores(scratch)
        assert _alerts(model_book) == _alerts(scratch)
    finally:
        scratch.close()


def test_same_day_rescore_with_no_edit_rewrites_nothing(model_book: Book) -> None:
    """With no edit since, a second full rescore on the same day rewrites no health row and
    changes no score."""
    scores = _scores(model_book)
    _mark(model_book, TODAY)
    rescore_all(model_book)
    assert _rewritten(model_book, TODAY) == set()
    assert _scores(model_book) == scores


def test_next_day_rescore_writes_every_account_and_equals_a_scratch_rescore(
    model_book: Book, tmp_path: Path
) -> None:
    """The first full rescore of the next day writes a health row for every account, and its
    results equal a rescore from scratch of the same book."""
    _edit_some(model_book)
    rescore_all(model_book)
    tomorrow = TODAY + timedelta(days=1)
    scratch = _from_scratch(model_book, tmp_path / "scratch")
    try:
        rescore_all(model_book, today=tomorrow)
        rescore_all(scratch, today=tomorrow)
        n = model_book.scalar("SELECT count(*) FROM accounts")
        assert len(_health(model_book, tomorrow)) == n
        assert _health(model_book, tomorrow) == _health(scratch, tomorrow)
        assert _scores(model_book) == _scores(scratch)
    finally:
        scratch.close()


def test_a_changed_config_or_model_rewrites_every_row_the_same_day(model_book: Book) -> None:
    """The same-day skip holds only for the same config and model: a different config, then a
    retrained (touched) model file, makes the next same-day rescore rewrite every health row."""
    n = model_book.scalar("SELECT count(*) FROM accounts")
    other = dataclasses.replace(default_config(), bands=Bands(green=80.0, yellow=55.0))
    _mark(model_book, TODAY)
    rescore_all(model_book, config=other)
    assert len(_rewritten(model_book, TODAY)) == n
    rescore_all(model_book, config=other)
    _mark(model_book, TODAY)
    model = Path(model_book.path).with_name("book.model.pkl")
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    rescore_all(model_book, config=other)
    assert len(_rewritten(model_book, TODAY)) == n


def test_an_account_replaced_by_another_tool_is_rescored_the_same_day(model_book: Book) -> None:
    """Another program on the same file (plain sqlite3: no foreign keys, no recursive triggers)
    replaces an account row with INSERT OR REPLACE and new input values: the same-day rescore
    writes today's health row to match the account's new score."""
    target = model_book.scalar(
        "SELECT id FROM scored_accounts WHERE status = 'active' AND health_score IS NOT NULL "
        "AND onboarding_pct IS NULL ORDER BY id"
    )
    old = model_book.scalar("SELECT health_score FROM scored_accounts WHERE id = ?", (target,))
    columns = [r[1] for r in model_book.query("PRAGMA table_info(accounts)")]
    values = ", ".join(
        {"onboarding_pct": "0", "sponsor_engaged": "0", "open_escalations": "5"}.get(c, c)
        for c in columns
    )
    other = sqlite3.connect(model_book.path, isolation_level=None)
    try:
        other.execute(
            f"INSERT OR REPLACE INTO accounts ({', '.join(columns)}) "
            f"SELECT {values} FROM accounts WHERE id = ?",
            (target,),
        )
    finally:
        other.close()
    rescore_all(model_book)
    score, band = model_book.query(
        "SELECT health_score, health_band FROM scored_accounts WHERE id = ?", (target,)
    )[0]
    assert score != old
    assert _health(model_book, TODAY)[target][:2] == (score, band)
    # the replaced row's current-health row (left behind: no delete trigger ran) is gone
    assert model_book.scalar("SELECT count(*) FROM account_health") == model_book.scalar(
        "SELECT count(*) FROM accounts"
    )


def test_score_columns_edited_behind_csm_are_corrected_the_same_day(
    model_book: Book, tmp_path: Path
) -> None:
    """Score columns written behind csm's back on a clean account (a churn probability, its risk
    segment, the health score) are corrected by the next same-day full rescore: the accounts
    equal those of a rescore from scratch."""
    target = model_book.scalar(
        "SELECT id FROM accounts WHERE status = 'active' AND churn_prob < 0.5 ORDER BY id"
    )
    with model_book.write() as conn:
        conn.execute(
            "UPDATE accounts SET churn_prob = 0.99, risk_segment = 'high' WHERE id = ?", (target,)
        )
        conn.execute(
            "UPDATE account_health SET health_score = 1 "
            "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = ?)",
            (target,),
        )
    scratch = _from_scratch(model_book, tmp_path / "scratch")
    try:
        rescore_all(model_book)
        rescore_all(scratch)
        assert _scores(scratch)[target][CURRENT_COLUMNS.index("churn_prob")] != 0.99
        assert _scores(model_book)[target] == _scores(scratch)[target]
        assert _scores(model_book) == _scores(scratch)
    finally:
        scratch.close()


def test_alert_closed_after_its_condition_cleared_can_fire_again(
    book: Book, tmp_path: Path
) -> None:
    """An alert whose condition cleared at today's first full rescore and that the user then
    closes is marked `condition_cleared` by the second same-day rescore, as a rescore from
    scratch marks it; so when the condition comes back the next day, a new alert opens in both."""
    from csm_tui.service.triage import close_alerts

    build_synth(book, 120, seed=21)
    target = "A0000005"
    answer = "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?, ?, ?, 'nps', ?)"
    with book.write() as conn:
        conn.execute(answer, ("NPS-LOW", target, _iso(-2), 2))  # a detractor two days ago
        conn.execute(answer, ("NPS-HIGH", target, _iso(0), 10))  # a promoter today
        conn.execute(answer, ("NPS-AGAIN", target, _iso(1), 1))  # a detractor tomorrow
    rescore_all(book, today=TODAY - timedelta(days=1))
    alert = book.query(
        "SELECT id, status FROM alerts WHERE account_id = ? AND rule = 'detractor_nps'", (target,)
    )
    assert [tuple(a)[1:] for a in alert] == [("open",)]
    rescore_all(book)  # the promoter's answer clears the condition
    close_alerts(book, [alert[0][0]], "talked to them")
    scratch = _from_scratch(book, tmp_path / "scratch")
    try:
        rescore_all(book)
        rescore_all(scratch)
        same_day = _alerts(book) == _alerts(scratch)
        rescore_all(book, today=TODAY + timedelta(days=1))
        rescore_all(scratch, today=TODAY + timedelta(days=1))
        live = "SELECT count(*) FROM alerts WHERE account_id = ? AND rule = 'detractor_nps' "
        live += "AND status = 'open'"
        assert scratch.scalar(live, (target,)) == 1
        assert (same_day, book.scalar(live, (target,))) == (True, 1)
        assert _alerts(book) == _alerts(scratch)
    finally:
        scratch.close()
