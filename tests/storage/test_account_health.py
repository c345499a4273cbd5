"""Schema v8: the daily-moving scores in `account_health`, one row per account, kept in step
with `accounts` by triggers, shown together by the `scored_accounts` view, checked by
`csm check`."""

from __future__ import annotations

import sqlite3

from csm_tui.storage import schema
from csm_tui.storage.db import open_book
from csm_tui.storage.maintenance import check_book


def _v7_book(path) -> None:
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:7]:
        for statement in schema._statements(step):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 7")
    conn.executemany(
        "INSERT INTO accounts (id, name, status, health_score, health_band, health_delta_7, "
        "health_delta_30, churn_prob, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("A1", "Acme", "active", 81.5, "green", 2.5, -4.0, 0.1, "2026-11-20T06:00:00"),
            ("A2", "Globex", "churned", 30.0, "red", None, None, None, None),
            ("A3", "Initech", "active", None, "insufficient", None, None, None, None),
        ],
    )
    conn.commit()
    conn.close()


def test_the_upgrade_moves_each_accounts_scores_and_keeps_every_other_column(tmp_path) -> None:
    path = tmp_path / "v7.db"
    _v7_book(path)
    book = open_book(path)
    try:
        columns = {r["name"] for r in book.query("PRAGMA table_info(accounts)")}
        assert not columns & {"health_score", "health_delta_7", "health_delta_30", "scored_at"}
        assert {"health_band", "churn_prob", "status"} <= columns
        rows = book.query(
            "SELECT id, status, health_score, health_band, health_delta_7, health_delta_30, "
            "churn_prob, scored_at FROM scored_accounts ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [
            ("A1", "active", 81.5, "green", 2.5, -4.0, 0.1, "2026-11-20T06:00:00"),
            ("A2", "churned", 30.0, "red", None, None, None, None),
            ("A3", "active", None, "insufficient", None, None, None, None),
        ]
        copies = book.query(
            "SELECT a.id, h.sort_status, h.sort_band FROM account_health h "
            "JOIN accounts a ON a.rowid = h.account_rowid ORDER BY a.id"
        )
        assert [tuple(r) for r in copies] == [
            ("A1", "active", "green"),
            ("A2", "churned", "red"),
            ("A3", "active", "insufficient"),
        ]
    finally:
        book.close()


def _copies(book, account_id: str) -> tuple | None:
    row = book.query(
        "SELECT h.sort_status, h.sort_band, h.health_score FROM account_health h "
        "JOIN accounts a ON a.rowid = h.account_rowid WHERE a.id = ?",
        (account_id,),
    )
    return tuple(row[0]) if row else None


def test_triggers_keep_one_row_per_account_whoever_writes(book) -> None:
    with book.write() as conn:
        conn.execute("INSERT INTO accounts (id, name, health_band) VALUES ('B1', 'Beta', 'red')")
    assert _copies(book, "B1") == ("active", "red", None)
    with book.write() as conn:
        conn.execute(
            "UPDATE account_health SET health_score = 42 "
            "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = 'B1')"
        )
        conn.execute("UPDATE accounts SET status = 'churned', health_band = 'yellow'")
    assert _copies(book, "B1") == ("churned", "yellow", 42.0)
    # an import's upsert updates the row in place: the account keeps its scores
    with book.write() as conn:
        conn.execute(
            "INSERT INTO accounts (id, name, status) VALUES ('B1', 'Beta 2', 'active') "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, status = excluded.status"
        )
    assert _copies(book, "B1") == ("active", "yellow", 42.0)
    with book.write() as conn:
        conn.execute("DELETE FROM accounts WHERE id = 'B1'")
    assert book.scalar("SELECT count(*) FROM account_health") == 0


def test_check_reports_accounts_and_health_rows_out_of_step(db_path) -> None:
    book = open_book(db_path)
    with book.write() as conn:
        conn.executemany(
            "INSERT INTO accounts (id, name) VALUES (?, ?)", [("C1", "One"), ("C2", "Two")]
        )
    book.close()
    report = check_book(db_path)
    assert ("Current scores", "ok") in report.checks and report.ok
    conn = sqlite3.connect(db_path)
    # another tool, writing with the triggers dropped
    conn.execute("DROP TRIGGER accounts_health_au")
    conn.execute("UPDATE accounts SET health_band = 'red' WHERE id = 'C1'")
    conn.execute(
        "DELETE FROM account_health WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = 'C2')"
    )
    conn.execute("INSERT INTO account_health (account_rowid, sort_status) VALUES (999, 'active')")
    conn.commit()
    conn.close()
    report = check_book(db_path)
    assert not report.ok
    assert ("Current scores", "out of step with the accounts") in report.checks
    assert "current scores: 1 account(s) without a current health row" in report.problems
    assert "current scores: 1 current health row(s) of no account" in report.problems
    assert (
        "current scores: 1 current health row(s) whose status or band differ from the account's"
        in report.problems
    )
