"""The durability knobs: user edits commit with synchronous=FULL, bulk work with NORMAL, in WAL.

(What FULL costs per edit is measured by bench/bench_edit.py, never asserted here.)
"""

from __future__ import annotations

import sqlite3

import pytest

from csm_tui.service import edits
from csm_tui.storage.db import BUSY_TIMEOUT_MS
from tests.reliability.books import account_id, seed_accounts

FULL, NORMAL = 2, 1


def _synchronous(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA synchronous").fetchone()[0]


def test_the_book_is_in_wal_mode_with_a_busy_timeout_of_seconds(book):
    assert book.scalar("PRAGMA journal_mode") == "wal"
    assert book.scalar("PRAGMA busy_timeout") == BUSY_TIMEOUT_MS >= 5000


def test_durable_writes_run_at_full_and_bulk_writes_at_normal(book):
    with book.write(durable=True) as conn:
        assert conn.in_transaction and _synchronous(conn) == FULL
    with book.write(durable=False) as conn:
        assert _synchronous(conn) == NORMAL


def test_every_kind_of_user_edit_commits_at_full(book, monkeypatch):
    seed_accounts(book, 2)
    seen: list[tuple[bool, int]] = []
    real = edits._rescore

    def spy(conn, aid):
        seen.append((conn.in_transaction, _synchronous(conn)))
        return real(conn, aid)

    monkeypatch.setattr(edits, "_rescore", spy)
    with book.write(durable=False):
        pass  # a bulk write just before must not leave the next edit at NORMAL
    a1 = account_id(1)
    edits.update_account(book, a1, {"arr": "1000"})
    edits.log_event(book, a1, "meeting", "kick-off")
    edits.add_note(book, a1, "note")
    edits.record_response(book, a1, 9)
    assert seen == [(True, FULL)] * 4


def test_an_edit_begins_immediate_so_a_second_writer_waits_instead_of_failing(book, db_path):
    """While one process holds the write lock, an edit waits for it and then succeeds."""
    import threading

    seed_accounts(book, 1)
    other = sqlite3.connect(db_path, isolation_level=None, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        result = edits.log_event(book, account_id(1), "call", "waited for the lock")
    finally:
        timer.join()
        other.close()
    assert book.scalar("SELECT count(*) FROM events WHERE id = ?", (result.event_id,)) == 1


def test_long_contention_ends_in_one_clear_message_and_no_change(book, db_path, monkeypatch):
    from csm_tui.errors import BusyError
    from csm_tui.storage import db as store

    seed_accounts(book, 1)
    events = book.scalar("SELECT count(*) FROM events")
    monkeypatch.setattr(store, "BUSY_DEADLINE_S", 0.3)  # instead of a minute
    book.conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BusyError) as caught:
            edits.log_event(book, account_id(1), "call", "never saved")
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = caught.value.message
    assert "another csm process has been writing to this book" in message
    assert "Nothing was changed" in message and "locked" not in message
    assert book.scalar("SELECT count(*) FROM events") == events


def _in_the_file_itself(db_path, sql: str):
    """`sql` against the book file as its pages stand, ignoring the WAL (what a checkpoint
    has copied back into it)."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?immutable=1", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_a_full_rescore_leaves_its_wal_for_the_checkpoint_that_follows(book, db_path):
    """The rescore commits without copying its WAL back into the book (that took seconds of
    its commit at a million accounts); an edit made before `checkpoint()` does not take that
    copy over either; `checkpoint()` does it, once."""
    from csm_tui.scoring.engine import rescore_all

    seed_accounts(book, 30)
    book.checkpoint()
    book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    scored = "SELECT count(*) FROM account_health WHERE health_score IS NOT NULL"
    rescore_all(book)
    assert book.scalar(scored) == 30
    assert book.scalar("PRAGMA wal_autocheckpoint") == 0
    with book.write() as conn:  # a user's edit meanwhile: commits, copies nothing back
        conn.execute("UPDATE accounts SET owner = 'Dana' WHERE id = ?", (account_id(0),))
    assert _in_the_file_itself(db_path, scored) == 0
    assert book.checkpoint() is True
    assert _in_the_file_itself(db_path, scored) == 30
    assert book.scalar("PRAGMA wal_autocheckpoint") == 1000
    assert book.checkpoint() is False  # nothing left to do
