"""The stored book frame (`score_frame`, schema v4): the next full rescore reads it and re-reads
only the accounts that changed, were added, or whose cached values expire; whatever it cannot
prove current it reads again. Always equal to the columns read from scratch."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from csm_tui.errors import DatabaseError
from csm_tui.scoring import book_frame, facts_cache
from csm_tui.scoring.engine import rescore_all
from csm_tui.scoring.measures import CURRENT_COLUMNS, measures_frame
from csm_tui.storage.db import open_book
from tests.scoring.conftest import TODAY
from tests.scoring.synth import build as build_synth

SCORES = ", ".join(CURRENT_COLUMNS)
#: The `account_health` row of the account given as the parameter (schema v8).
_OF_X = "account_rowid = (SELECT rowid FROM accounts WHERE id = ?)"


@pytest.fixture
def synth(book):
    """A scored synthetic book of 200 accounts, with a week of history and a stored frame."""
    build_synth(book, 200, seed=11)
    rescore_all(book, today=TODAY - timedelta(days=7))
    rescore_all(book)
    return book


@pytest.fixture
def reads(monkeypatch) -> list:
    """The account ids each frame read asked for again (None: the whole book was read)."""
    seen: list = []
    original = facts_cache.cached_columns

    def recording(conn, as_of, ids=None, book_size=None):
        seen.append(None if ids is None else set(ids))
        return original(conn, as_of, ids, book_size)

    monkeypatch.setattr(facts_cache, "cached_columns", recording)
    return seen


@pytest.fixture
def refreshed(monkeypatch) -> list:
    """The account ids each frame refreshed in place (cached values that only expired)."""
    seen: list = []
    original = facts_cache.refresh_expired

    def recording(conn, columns, rows, as_of, book_size):
        seen.append(set(columns["account_id"][rows].tolist()))
        return original(conn, columns, rows, as_of, book_size)

    monkeypatch.setattr(facts_cache, "refresh_expired", recording)
    return seen


def _equal_to_fresh(book, day=TODAY) -> None:
    with book.write(durable=False) as conn:
        cached = measures_frame(conn, day, cache=True).drop(columns="reused")
        fresh = measures_frame(conn, day).drop(columns="reused")
    pd.testing.assert_frame_equal(cached, fresh, check_exact=True)


def _elsewhere(book, sql: str, params: tuple = ()) -> None:
    """Run `sql` through another connection, as another program on the same file would."""
    other = open_book(book.path)
    with other.write() as conn:
        conn.execute(sql, params)
    other.close()


def _stored(book) -> dict:
    with book.write(durable=False) as conn:
        stamp = book_frame._stamp(conn)
        return book_frame._load(conn, stamp) if stamp else {}


def test_a_full_rescore_stores_the_frame_and_leaves_nothing_dirty(synth) -> None:
    frame = _stored(synth)
    assert len(frame["account_id"]) == 200
    assert synth.scalar("SELECT count(*) FROM score_dirty") == 0
    trigger = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?"
    for name in (book_frame.SCORES_TRIGGER, book_frame.HEALTH_TRIGGER):
        assert synth.scalar(trigger, (name,)) == 1  # lifted, then restored
    # the frame's score columns are what the rescore wrote (its own writes mark nothing)
    stored = pd.DataFrame(
        {c: frame[f"current_{c}"] for c in CURRENT_COLUMNS}, index=frame["account_id"]
    )
    table = pd.read_sql_query(
        f"SELECT id, {SCORES} FROM scored_accounts", synth.conn, index_col="id"
    )
    text = {"health_band", "risk_segment", "last_touch_at"}
    table = table.astype({c: float for c in CURRENT_COLUMNS if c not in text})
    pd.testing.assert_frame_equal(
        stored.sort_index(), table.sort_index(), check_names=False, check_dtype=False
    )


def test_an_unchanged_book_is_read_from_the_frame_alone(synth, reads) -> None:
    _equal_to_fresh(synth)
    assert reads == []  # nothing asked again (the fresh read does not go through the cache)


X = "A0000007"
EDITS = {
    "usage row": ("INSERT OR REPLACE INTO usage (account_id, date, active_users, mau) VALUES (?, ?, 3, 9)",
                  (X, TODAY.isoformat()), {X}),
    "input column": ("UPDATE accounts SET seats = coalesce(seats, 0) + 7 WHERE id = ?", (X,), {X}),
    "score column": ("UPDATE accounts SET churn_prob = 0.5 WHERE id = ?", (X,), {X}),
    "health score": (f"UPDATE account_health SET health_score = 1.5 WHERE {_OF_X}", (X,), {X}),
    "account deleted": ("DELETE FROM accounts WHERE id = ?", (X,), {X}),
    "account added": ("INSERT INTO accounts (id, name, arr) VALUES ('NEW-1', 'New One', 5)", (),
                      {"NEW-1"}),
    "account replaced": ("INSERT OR REPLACE INTO accounts (id, name, arr) SELECT id, name, arr + 1 "
                         "FROM accounts WHERE id = ?", (X,), {X}),
}  # fmt: skip


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_change_by_any_writer_is_read_again(synth, reads, edit: str) -> None:
    sql, params, expected = EDITS[edit]
    assert synth.scalar("SELECT 1 FROM accounts WHERE id = ?", (X,)) == 1
    _elsewhere(synth, sql, params)
    _equal_to_fresh(synth)
    asked = reads[0]
    assert asked is not None and expected <= asked  # read again: the changed account(s)…
    assert len(asked) < 20  # …and only those (plus any whose cached values expire today)


def test_a_renamed_account_is_read_again_under_both_ids(synth, reads) -> None:
    _elsewhere(synth, "INSERT INTO accounts (id, name, arr) VALUES ('NEW-2', 'Lone', 5)")
    _elsewhere(synth, "INSERT INTO accounts (id, name, arr) VALUES ('NEW-4', 'Last', 5)")
    rescore_all(synth)
    other = sqlite3.connect(synth.path)  # another tool: foreign keys are off by default
    with other:
        other.execute("UPDATE accounts SET id = 'NEW-3' WHERE id = 'NEW-2'")
    other.close()
    reads.clear()
    _equal_to_fresh(synth)
    assert reads[0] is not None and {"NEW-2", "NEW-3"} <= reads[0]


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE account_health SET health_score = 1.5 WHERE {_OF_X}",
        "UPDATE accounts SET health_band = 'x' WHERE id = ?",
    ],
    ids=["health score", "band"],
)
def test_a_score_column_written_behind_csm_is_corrected_by_the_next_rescore(synth, sql) -> None:
    scores = "SELECT health_score, health_band, sort_band FROM scored_accounts WHERE id = ?"
    right = synth.query(scores, (X,))[0]
    _elsewhere(synth, sql, (X,))
    rescore_all(synth)
    assert tuple(synth.query(scores, (X,))[0]) == tuple(right)


def test_the_next_day_reads_only_what_expires_and_equals_fresh(synth, reads, refreshed) -> None:
    """With no edit, the next day reads no account again: the few whose cached values expire
    are refreshed in place (only their due queries run), and the result equals a fresh read."""
    tomorrow = TODAY + timedelta(days=1)
    rescore_all(synth, today=tomorrow)
    assert reads == [] and len(refreshed) == 1 and 0 < len(refreshed[0]) < 100
    assert synth.scalar("SELECT count(*) FROM score_dirty") == 0
    _equal_to_fresh(synth, tomorrow)


def test_accounts_refreshed_in_place_keep_their_cached_rows_and_a_rebuild_equals_fresh(
    synth, refreshed
) -> None:
    """Their new values live in the frame: the expired `score_facts` rows are not rewritten
    (~1 s a day at 1M), and a book read without the frame recomputes them, equal to fresh."""
    tomorrow = TODAY + timedelta(days=1)
    rows = "SELECT account_id, as_of, valid_until, numbers, texts, group_until FROM score_facts"
    before = {r[0]: tuple(r) for r in synth.query(rows)}
    rescore_all(synth, today=tomorrow)
    after = {r[0]: tuple(r) for r in synth.query(rows)}
    (ids,) = refreshed
    assert ids and all(after[a] == before[a] for a in ids)
    assert all(before[a][2] <= tomorrow.isoformat() for a in ids)  # expired, and left so
    _elsewhere(synth, "DELETE FROM score_frame")
    _equal_to_fresh(synth, tomorrow)


def test_expired_and_edited_accounts_the_same_day_equal_fresh(synth, reads, refreshed) -> None:
    """An edited account is read again while the expired ones are refreshed in place, in the
    same rescore; day after day the frame still equals a fresh read."""
    for k in range(1, 40, 3):
        day = TODAY + timedelta(days=k)
        account = f"A{k:07d}"
        _elsewhere(synth, "UPDATE accounts SET arr = arr + 1 WHERE id = ?", (account,))
        reads.clear()
        rescore_all(synth, today=day)
        assert reads and reads[-1] is not None and account in reads[-1]
        _equal_to_fresh(synth, day)
    assert any(refreshed)


def test_a_day_before_the_frame_reads_the_whole_book(synth, reads) -> None:
    _equal_to_fresh(synth, TODAY - timedelta(days=3))
    assert reads[0] is None


def test_renumbered_rows_are_never_taken_for_others(synth, reads) -> None:
    """Rows whose rowids change with no trigger (as VACUUM may do) are read again, and the
    rescore writes each account's scores to its own row."""
    _elsewhere(synth, "DELETE FROM accounts WHERE id = 'A0000003'")
    rescore_all(synth)
    right = {
        r[0]: tuple(r[1:])
        for r in synth.query("SELECT id, health_score, health_band FROM scored_accounts")
    }
    _elsewhere(synth, "UPDATE account_health SET health_score = -1")
    _elsewhere(synth, "UPDATE accounts SET health_band = 'x'")
    with synth.write(durable=False) as conn:  # compact the rowids, firing no trigger
        conn.execute("UPDATE accounts SET rowid = rowid - 1 WHERE rowid > 3")
        conn.execute("DELETE FROM score_dirty")
    reads.clear()
    _equal_to_fresh(synth)
    assert reads[0] is None  # the frame could not be shown current: the whole book
    rescore_all(synth)
    assert synth.scalar("SELECT count(*) FROM accounts WHERE health_band = 'x'") == 0
    # each account's current health row is its own again: scores, and the copies of status
    # and band the health order reads
    now = {
        r[0]: tuple(r[1:])
        for r in synth.query("SELECT id, health_score, health_band FROM scored_accounts")
    }
    assert now == right
    assert (
        synth.query(
            "SELECT a.id FROM accounts a LEFT JOIN account_health h ON h.account_rowid = a.rowid "
            "WHERE h.sort_status IS NOT a.status OR h.sort_band IS NOT a.health_band"
        )
        == []
    )
    assert synth.scalar("SELECT count(*) FROM account_health") == synth.scalar(
        "SELECT count(*) FROM accounts"
    )


def test_text_the_frame_cannot_hold_leaves_no_frame(synth, reads) -> None:
    _elsewhere(synth, "UPDATE accounts SET renewal_date = x'3230' WHERE id = ?", (X,))
    _equal_to_fresh(synth)
    assert synth.scalar("SELECT count(*) FROM score_frame") == 0
    _equal_to_fresh(synth)
    assert reads[-1] is None  # no frame: the whole book is read


@pytest.mark.parametrize(
    "values",
    [
        ["a", "", None, "a\x1fb", "\x1e", "é"],
        [None, None],
        ["same"] * 300,
        [f"id-{i}" for i in range(40_000)],
    ],
)
def test_text_columns_round_trip(values) -> None:
    column = np.array(values, dtype=object)
    back = book_frame._decode(*book_frame._encode(column))
    assert back.tolist() == column.tolist()


@pytest.mark.parametrize(
    "values", [[1.5, float("nan"), -0.0, 2.0], [float(i) / 7 for i in range(40_000)], []]
)
def test_number_columns_round_trip(values) -> None:
    column = np.array(values, dtype=float)
    back = book_frame._decode(*book_frame._encode(column))
    assert np.array_equal(back, column, equal_nan=True)


def test_when_most_of_the_book_changed_it_is_read_in_one_pass(synth, reads) -> None:
    _elsewhere(synth, "UPDATE accounts SET seats = coalesce(seats, 0) + 1 WHERE rowid % 3 != 0")
    _equal_to_fresh(synth)
    assert reads[0] is None


def test_a_failed_rescore_keeps_the_score_trigger(synth, monkeypatch) -> None:
    """The trigger is lifted inside the rescore's transaction: a failure rolls that back too."""
    from csm_tui.scoring import engine

    score_updates = engine._score_updates

    def broken(*args, **kwargs):  # fails while the trigger is lifted, after writing
        return [*score_updates(*args, **kwargs), ("UPDATE no_such_table SET x = 1", ())]

    monkeypatch.setattr(engine, "_score_updates", broken)
    with pytest.raises(DatabaseError, match="no_such_table"):
        rescore_all(synth, today=TODAY + timedelta(days=1))
    trigger = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?"
    for name in (book_frame.SCORES_TRIGGER, book_frame.HEALTH_TRIGGER):
        assert synth.scalar(trigger, (name,)) == 1
    _elsewhere(synth, f"UPDATE account_health SET health_score = 2.5 WHERE {_OF_X}", (X,))
    assert synth.scalar("SELECT count(*) FROM score_dirty WHERE account_id = ?", (X,)) == 1


def test_the_rescore_writes_only_rows_whose_accounts_exist_and_restores_key_checks(synth) -> None:
    """The full rescore skips foreign-key checks for speed: its rows must still all hold, and
    the connection checks keys again afterwards (a child row of no account is refused)."""
    rescore_all(synth, today=TODAY + timedelta(days=1))
    assert synth.query("PRAGMA foreign_key_check") == []
    assert synth.scalar("PRAGMA foreign_keys") == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with synth.write() as conn:
            conn.execute(
                "INSERT INTO health (account_id, date, band) VALUES ('NOPE', '2026-01-01', 'red')"
            )


def test_a_frame_stored_before_per_query_expiry_is_read_again(synth, reads) -> None:
    """A frame from before `cache_groups` was kept (its stamp names no such column) is not
    used: the next day reads the whole book instead of failing on the missing column."""
    import json

    with synth.write(durable=False) as conn:
        conn.execute("DELETE FROM score_frame WHERE name = 'cache_groups'")
        stamp = json.loads(
            conn.execute("SELECT value FROM meta WHERE key = 'score_frame_stamp'").fetchone()[0]
        )
        stamp["names"].remove("cache_groups")
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'score_frame_stamp'", (json.dumps(stamp),)
        )
    reads.clear()
    rescore_all(synth, today=TODAY + timedelta(days=1))
    assert reads == [None]
    _equal_to_fresh(synth, TODAY + timedelta(days=1))


def test_a_rescore_that_changes_nothing_rewrites_no_frame_column(synth, monkeypatch) -> None:
    """The frame keeps what the rescore wrote: missing text (an account never touched) must
    compare equal to itself, or its column would be encoded and written again every day."""
    from csm_tui.scoring import engine

    assert synth.scalar("SELECT count(*) FROM accounts WHERE last_touch_at IS NULL") > 0
    written: list[set[str]] = []
    encode = engine.encode_columns

    def recording(columns, names):
        written.append(set(names))
        return encode(columns, names)

    monkeypatch.setattr(engine, "encode_columns", recording)
    rescore_all(synth, today=TODAY + timedelta(days=1))
    rescore_all(synth, today=TODAY + timedelta(days=1))
    assert written[-1] == set()
