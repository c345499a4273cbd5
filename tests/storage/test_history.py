"""The health history (storage/history.py): a full rescore's day kept column-wise in blocks and
single snapshots kept as `health` rows read back as one history, a row winning over its day's
block, a deleted account's old blocks masked from its successor, one indexed seek per day."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm_tui.storage import history, schema
from csm_tui.storage.db import open_book

D0, D1, D2, D3, D4, D5 = ("2026-10-31", *(f"2026-11-0{i}" for i in range(1, 6)))
MEASURES = ("usage_trend", "nps")
OTHER_MEASURES = ("usage_trend", "tickets", "sponsor")  # a later day may keep other points
#: Ids a CRM export may well have: quotes, commas, spaces, a comma then a newline, unicode.
AWKWARD = (
    'O\'Brien "Acme", Inc.',
    "comma,\nnewline",
    " leading space",
    "trailing space ",
    "ünïcödé Ω",
    "😀 emoji",
    "中文,名前",
    "back\\slash",
    "tab\tid",
    '["json"]',
    "null",
    "0128,\n",  # sorts among the numbered ids, inside the first block
    "0256 x",  # sorts among the numbered ids, near a block boundary
)
NUMBERED = tuple(f"{i:04d}" for i in range(2 * history.BLOCK_SIZE + 40))
#: Accounts of the book that are in no day: before, between and after the day's ids.
ABSENT = (" ", "0255,5", "0300\n", "\U0010fffd")
Snapshot = dict


# -- helpers ---------------------------------------------------------------------------------------
def _add_accounts(conn: sqlite3.Connection, ids) -> None:
    conn.executemany(
        "INSERT INTO accounts (id, name) VALUES (?, ?)", [(a, f"name of {a}") for a in ids]
    )


def _values(n: int, seed: int, width: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bands, values and points as the engine writes them: rounded (score and parts to 1
    decimal, churn_prob to 4, points to 2), some missing (NaN)."""
    rng = np.random.default_rng(seed)
    bands = rng.choice(np.asarray(history.BANDS, dtype=object), n).tolist()
    parts = [rng.integers(0, 1001, n) / 10 for _ in history.VALUE_COLUMNS[:-1]]
    values = np.column_stack([*parts, rng.integers(0, 10001, n) / 10000])
    values[rng.random(values.shape) < 0.1] = np.nan
    points = rng.integers(0, 10001, (n, width)) / 100
    points[rng.random(points.shape) < 0.1] = np.nan
    return bands, values, points


def _expected(account: str, day: str, band: str, vrow, prow, measures) -> Snapshot:
    """The snapshot a block should give back (explain parsed: compare with `_plain`)."""
    values = [None if math.isnan(x) else float(x) for x in vrow]
    snap = dict(zip(history.VALUE_COLUMNS, values, strict=True))
    points = {m: None if math.isnan(p) else float(p) for m, p in zip(measures, prow, strict=True)}
    snap |= {"account_id": account, "date": day, "band": band, "explain": {"points": points}}
    return {column: snap[column] for column in history.SNAPSHOT_COLUMNS}


def _write(conn, day: str, ids, seed: int, measures=MEASURES) -> dict[str, Snapshot]:
    """write_day of `ids` (sorted here) with random values; the snapshots expected back."""
    ids = sorted(ids)
    bands, values, points = _values(len(ids), seed, len(measures))
    history.write_day(conn, day, ids, bands, values, points, measures)
    return {
        a: _expected(a, day, bands[i], values[i], points[i], measures) for i, a in enumerate(ids)
    }


def _insert_row(
    conn, account: str, day: str, score: float | None, band: str, churn: float | None = 0.25
) -> Snapshot:
    """A single snapshot as a `health` row; the snapshot expected back."""
    explain = json.dumps({"points": {"usage_trend": 3.25, "nps": None}})
    conn.execute(
        "INSERT OR REPLACE INTO health (account_id, date, score, band, usage, engagement, "
        "outcomes, sentiment, churn_prob, explain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account, day, score, band, 41.5, 32.5, 23.5, 14.5, churn, explain),
    )
    values = (score, 41.5, 32.5, 23.5, 14.5, churn)
    snap = dict(zip(history.VALUE_COLUMNS, values, strict=True))
    snap |= {"account_id": account, "date": day, "band": band, "explain": json.loads(explain)}
    return {column: snap[column] for column in history.SNAPSHOT_COLUMNS}


def _plain(snap: Snapshot | None) -> Snapshot | None:
    """A snapshot read back, shaped like a `health` row, with its explain parsed."""
    if snap is None:
        return None
    assert tuple(snap) == history.SNAPSHOT_COLUMNS
    return {**snap, "explain": json.loads(snap["explain"])}


def _plains(snaps) -> list[Snapshot]:
    return [_plain(s) for s in snaps]


def _assert_book_day(columns: dict, expected: dict[str, Snapshot], *, exact: bool = False) -> None:
    """book_day's columns hold exactly the expected accounts, bands and values (to float32's
    precision unless `exact`)."""
    assert set(columns) == {"account_id", "band", *history.VALUE_COLUMNS}
    ids = columns["account_id"].tolist()
    assert len(ids) == len(set(ids)) and set(ids) == set(expected)
    assert columns["band"].tolist() == [expected[a]["band"] for a in ids]
    for column in history.VALUE_COLUMNS:
        got = columns[column]
        assert got.dtype == float and len(got) == len(ids)
        want = np.array(
            [math.nan if expected[a][column] is None else expected[a][column] for a in ids]
        )
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=column)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True, err_msg=column)


def _history_of(expected_days: list[dict[str, Snapshot]], account: str) -> list[Snapshot]:
    return [day[account] for day in expected_days if account in day]


class _Rollback(Exception):
    """Raised at the end of an example to discard its writes."""


# -- 1. a day written reads back exactly, in every block -------------------------------------------
@pytest.fixture
def big_day(book):
    """A book of numbered and awkward ids written on D1 and D2 (other measures on D2), plus
    accounts in no day."""
    ids = NUMBERED + AWKWARD
    with book.write() as conn:
        _add_accounts(conn, ids + ABSENT)
        days = [
            _write(conn, D1, ids, seed=1),
            _write(conn, D2, ids, seed=2, measures=OTHER_MEASURES),
        ]
    return book, sorted(ids), days


def test_a_written_day_reads_back_exactly_in_every_block(big_day) -> None:
    """Every account of a multi-block day reads back its written values through every reader."""
    book, ids, days = big_day
    with book.read() as conn:
        sql = "SELECT first_id FROM health_blocks WHERE date = ? ORDER BY first_id"
        firsts = [r[0] for r in conn.execute(sql, (D1,))]
        assert firsts == ids[:: history.BLOCK_SIZE] and len(firsts) >= 3
        lasts = [
            ids[min(i + history.BLOCK_SIZE, len(ids)) - 1]
            for i in range(0, len(ids), history.BLOCK_SIZE)
        ]
        assert set(AWKWARD) <= set(ids) and set(ABSENT).isdisjoint(ids)
        assert (ids[0], ids[-1]) == (" leading space", "😀 emoji")  # awkward ids at the ends
        for account in ids:
            assert _plains(history.account_snapshots(conn, account)) == _history_of(days, account)
        for account in {*firsts, *lasts, *AWKWARD}:
            assert _plain(history.latest_snapshot(conn, account)) == days[1][account]
            assert _plain(history.latest_snapshot(conn, account, until=D1)) == days[0][account]
            assert _plains(history.account_snapshots(conn, account, D2, D2)) == [days[1][account]]
        for account in ABSENT:
            assert history.account_snapshots(conn, account) == []
            assert history.latest_snapshot(conn, account) is None
        _assert_book_day(history.book_day(conn, D1), days[0])
        _assert_book_day(history.book_day(conn, D2), days[1])
        everything = _plains(history.all_snapshots(conn))
    assert everything == [day[a] for a in ids for day in days]


def test_a_block_snapshot_keeps_the_documented_decimals(book) -> None:
    """Block values come back rounded to the kept decimals, NaN as None (explain null)."""
    values = np.array([[72.34, 50.06, np.nan, 30.0, 20.04, 0.123449], [np.nan] * 6])
    points = np.array([[1.234, np.nan], [np.nan, 9.999]])
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        history.write_day(conn, D1, ["A", "B"], ["green", "insufficient"], values, points, MEASURES)
    with book.read() as conn:
        a, b = (_plain(history.latest_snapshot(conn, x)) for x in ("A", "B"))
    assert a == {
        "account_id": "A", "date": D1, "score": 72.3, "band": "green", "usage": 50.1,
        "engagement": None, "outcomes": 30.0, "sentiment": 20.0, "churn_prob": 0.1234,
        "explain": {"points": {"usage_trend": 1.23, "nps": None}},
    }  # fmt: skip
    assert b == {
        "account_id": "B", "date": D1, "score": None, "band": "insufficient", "usage": None,
        "engagement": None, "outcomes": None, "sentiment": None, "churn_prob": None,
        "explain": {"points": {"usage_trend": None, "nps": 10.0}},
    }  # fmt: skip


@pytest.fixture
def filler(book):
    """A book with more than two blocks' worth of numbered accounts (examples add their own)."""
    with book.write() as conn:
        _add_accounts(conn, NUMBERED)
    return book


ids_text = st.one_of(
    st.sampled_from(AWKWARD), st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # each example's writes are rolled back
@given(
    drawn=st.sets(ids_text, min_size=1, max_size=12),
    absent=st.sets(ids_text, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_ids_read_back_from_their_block(filler, drawn, absent, seed) -> None:
    """Any (non-surrogate) ids, mixed into several blocks, read back exactly; others read none."""
    book = filler
    absent = absent - drawn - set(NUMBERED)
    ids = sorted({*NUMBERED, *drawn})
    with contextlib.suppress(_Rollback), book.write() as conn:
        _add_accounts(conn, (drawn - set(NUMBERED)) | absent)
        expected = _write(conn, D1, ids, seed)
        firsts = [
            r[0] for r in conn.execute("SELECT first_id FROM health_blocks ORDER BY first_id")
        ]
        assert firsts == ids[:: history.BLOCK_SIZE]  # SQLite's order of ids is Python's
        lasts = [
            ids[min(i + history.BLOCK_SIZE, len(ids)) - 1]
            for i in range(0, len(ids), history.BLOCK_SIZE)
        ]
        for account in {*drawn, *firsts, *lasts}:
            assert _plains(history.account_snapshots(conn, account)) == [expected[account]]
            assert _plain(history.latest_snapshot(conn, account)) == expected[account]
        for account in absent:
            assert history.account_snapshots(conn, account) == []
            assert history.latest_snapshot(conn, account) is None
        _assert_book_day(history.book_day(conn, D1), expected)
        assert _plains(history.all_snapshots(conn)) == [expected[a] for a in ids]
        raise _Rollback


def test_book_day_gives_back_the_written_values_exactly(book) -> None:
    """book_day and latest_in_window give back a block's values as written (kept decimals)."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        first = _write(conn, D1, ["A", "B"], seed=7)
        second = _write(conn, D2, ["B"], seed=8)
    with book.read() as conn:
        _assert_book_day(history.book_day(conn, D1), first, exact=True)
        found = history.latest_in_window(conn, ["A", "B"], D1, D2)
    latest = {"A": first["A"], "B": second["B"]}
    assert found == {a: (s["band"], s["score"]) for a, s in latest.items()}


# -- 2. a row overrides its day's block ------------------------------------------------------------
def test_a_health_row_overrides_its_days_block_snapshot(book) -> None:
    """A `health` row replaces its account's block snapshot of that day in every reader."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B", "C"])
        days = [
            _write(conn, D1, ["A", "B", "C"], seed=1),
            _write(conn, D2, ["A", "B", "C"], seed=2),
        ]
        row = _insert_row(conn, "B", D1, 11.1, "red")
        lone = _insert_row(conn, "C", D3, 66.6, "yellow")  # a day without blocks
    with book.read() as conn:
        assert _plains(history.account_snapshots(conn, "B")) == [row, days[1]["B"]]
        assert _plains(history.account_snapshots(conn, "B", D1, D1)) == [row]
        assert _plain(history.latest_snapshot(conn, "B", until=D1)) == row
        assert _plain(history.latest_snapshot(conn, "C")) == lone
        _assert_book_day(history.book_day(conn, D1), days[0] | {"B": row})
        _assert_book_day(history.book_day(conn, D3), {"C": lone})
        assert _plains(history.all_snapshots(conn)) == [
            days[0]["A"], days[1]["A"], row, days[1]["B"], days[0]["C"], days[1]["C"], lone
        ]  # fmt: skip
    with book.write() as conn:
        rewritten = _write(conn, D1, ["A", "B", "C"], seed=3)
    with book.read() as conn:
        assert conn.execute("SELECT count(*) FROM health WHERE date = ?", (D1,)).fetchone()[0] == 0
        assert _plains(history.account_snapshots(conn, "B")) == [rewritten["B"], days[1]["B"]]
        # other days' rows stay
        assert _plains(history.account_snapshots(conn, "C")) == [rewritten["C"], days[1]["C"], lone]
        _assert_book_day(history.book_day(conn, D1), rewritten)


# -- 3. latest_snapshot: until, since, scored ------------------------------------------------------
def test_latest_snapshot_honours_until_since_and_scored(book) -> None:
    """latest_snapshot keeps to [since, until], skips unscored ones when scored, rows mask days."""
    scores = {D1: 50.0, D2: 60.0, D3: math.nan}
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        for day, score in scores.items():
            values = np.array([[score, 1.0, 2.0, 3.0, 4.0, 0.5]] * 2)
            bands = ["insufficient" if math.isnan(score) else "yellow"] * 2
            history.write_day(conn, day, ["A", "B"], bands, values, np.zeros((2, 0)), [])

    def latest(**kw):
        with book.read() as conn:
            snap = history.latest_snapshot(conn, "A", **kw)
        return None if snap is None else (snap["date"], snap["score"])

    assert latest() == (D3, None)
    assert latest(scored=True) == (D2, 60.0)
    assert latest(until=D2) == (D2, 60.0)
    assert latest(until=D1) == (D1, 50.0)
    assert latest(until=D0) is None
    assert latest(since=D2) == (D3, None)
    assert latest(since=D2, scored=True) == (D2, 60.0)
    assert latest(since=D3, scored=True) is None
    assert latest(since=D4) is None
    assert latest(since=D2, until=D2) == (D2, 60.0)
    assert latest(since=D1, until=D1, scored=True) == (D1, 50.0)
    with book.write() as conn:
        _insert_row(conn, "A", D2, None, "insufficient")  # masks D2's scored block snapshot
    assert latest(until=D2) == (D2, None)
    assert latest(scored=True) == (D1, 50.0)
    assert latest(since=D2, scored=True) is None
    with book.write() as conn:
        _insert_row(conn, "A", D4, 70.0, "green")  # a newer row than every block
    assert latest() == (D4, 70.0)
    assert latest(scored=True, until=D3) == (D1, 50.0)


# -- 4. erased accounts --------------------------------------------------------------------------
def _all_of(conn, account: str) -> list[Snapshot]:
    return [s for s in _plains(history.all_snapshots(conn)) if s["account_id"] == account]


def test_a_deleted_account_created_again_starts_a_new_history(book) -> None:
    """Re-creating a deleted account's id hides the old blocks; its new snapshots show."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        old = [_write(conn, D1, ["A", "B"], seed=1), _write(conn, D2, ["A", "B"], seed=2)]
        _insert_row(conn, "A", D1, 12.5, "red")
        conn.execute("DELETE FROM accounts WHERE id = 'A'")
        erased = conn.execute("SELECT account_id, through_block FROM health_erased").fetchall()
        last_block = conn.execute("SELECT max(id) FROM health_blocks").fetchone()[0]
        assert [tuple(r) for r in erased] == [("A", last_block)]
    with book.read() as conn:
        for i, day in enumerate((D1, D2)):  # deleted: gone from the book's past days too
            _assert_book_day(history.book_day(conn, day), {"B": old[i]["B"]})
        assert history.account_snapshots(conn, "A") == []
    with book.write() as conn:
        _add_accounts(conn, ["A"])
    with book.read() as conn:
        assert history.account_snapshots(conn, "A") == []
        assert history.latest_snapshot(conn, "A") is None
        for i, day in enumerate((D1, D2)):
            _assert_book_day(history.book_day(conn, day), {"B": old[i]["B"]})
            assert history.band_counts(conn, day) == Counter([old[i]["B"]["band"]])
        assert _all_of(conn, "A") == []
        assert _all_of(conn, "B") == [old[0]["B"], old[1]["B"]]
        assert set(history.latest_in_window(conn, ["A", "B"], D1, D2)) == {"B"}
    with book.write() as conn:
        new = _write(conn, D3, ["A", "B"], seed=3)
        row = _insert_row(conn, "A", D2, 44.5, "yellow")  # an edit's rescore after re-creation
    with book.read() as conn:
        assert _plains(history.account_snapshots(conn, "A")) == [row, new["A"]]
        assert _plain(history.latest_snapshot(conn, "A")) == new["A"]
        assert _plain(history.latest_snapshot(conn, "A", until=D2)) == row
        _assert_book_day(history.book_day(conn, D3), new)
        _assert_book_day(history.book_day(conn, D2), {"A": row, "B": old[1]["B"]})
        assert _all_of(conn, "A") == [row, new["A"]]


def test_rewriting_the_deletion_day_returns_the_new_accounts_snapshot(book) -> None:
    """A same-day write_day after deletion and re-creation shows the new account that day."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        old = [_write(conn, D1, ["A", "B"], seed=1), _write(conn, D2, ["A", "B"], seed=2)]
        conn.execute("DELETE FROM accounts WHERE id = 'A'")
        _add_accounts(conn, ["A"])
        new = _write(conn, D2, ["A", "B"], seed=5)
    with book.read() as conn:
        assert _plains(history.account_snapshots(conn, "A")) == [new["A"]]
        assert _plain(history.latest_snapshot(conn, "A")) == new["A"]
        assert history.latest_snapshot(conn, "A", until=D1) is None
        _assert_book_day(history.book_day(conn, D2), new)
        _assert_book_day(history.book_day(conn, D1), {"B": old[0]["B"]})
        assert _all_of(conn, "A") == [new["A"]]


def test_rewriting_an_older_day_keeps_the_later_old_blocks_masked(book) -> None:
    """Rewriting a day before the deletion does not bring back the deleted account's later days."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        old = [_write(conn, D, ["A", "B"], seed=i) for i, D in enumerate((D1, D2, D3))]
        conn.execute("DELETE FROM accounts WHERE id = 'A'")
        _add_accounts(conn, ["A"])
        new = _write(conn, D1, ["A", "B"], seed=9)  # e.g. a history backfill of an older day
    with book.read() as conn:
        _assert_book_day(history.book_day(conn, D2), {"B": old[1]["B"]})
        assert _plains(history.account_snapshots(conn, "A")) == [new["A"]]
        assert _all_of(conn, "A") == [new["A"]]


# -- 5. the whole book's readers -----------------------------------------------------------------
def test_snapshot_days_and_has_day_union_blocks_and_rows(book) -> None:
    """snapshot_days and has_day see days with blocks, with rows only, and both."""
    with book.write() as conn:
        _add_accounts(conn, ["A", "B"])
        _write(conn, D1, ["A", "B"], seed=1)
        _write(conn, D3, ["A", "B"], seed=3)
        _insert_row(conn, "A", D2, 10.0, "red")
        _insert_row(conn, "B", D3, 20.0, "red")
        _insert_row(conn, "B", D5, 30.0, "red")
    with book.read() as conn:
        assert history.snapshot_days(conn) == [D1, D2, D3, D5]
        assert history.snapshot_days(conn, D2, D3) == [D2, D3]
        assert history.snapshot_days(conn, D4, D4) == []
        assert history.snapshot_days(conn, D4) == [D5]
        assert [history.has_day(conn, d) for d in (D0, D1, D2, D3, D4, D5)] == [
            False, True, True, True, False, True
        ]  # fmt: skip
    with book.write() as conn:
        history.write_day(conn, D5, [], [], np.empty((0, 6)), np.empty((0, 2)), MEASURES)
    with book.read() as conn:  # an empty day writes nothing and drops that day's rows
        assert not history.has_day(conn, D5)
        assert history.snapshot_days(conn) == [D1, D2, D3]


def test_band_counts_equals_counting_book_days_bands(big_day) -> None:
    """band_counts counts book_day's bands: blocks alone (counted from the codes), rows over
    them, rows alone, and a day holding a deleted account."""
    book, ids, days = big_day
    with book.read() as conn:  # blocks alone: the codes are counted
        for day, expected in zip((D1, D2), days, strict=True):
            assert history.band_counts(conn, day) == Counter(s["band"] for s in expected.values())
    with book.write() as conn:
        _add_accounts(conn, ["late"])
        for account in ids[:40]:
            days[0][account] = _insert_row(conn, account, D1, 5.0, "red")
        days[0]["late"] = _insert_row(conn, "late", D1, 95.0, "green")
        conn.execute("DELETE FROM accounts WHERE id = ?", (ids[100],))
        del days[0][ids[100]], days[1][ids[100]]
    with book.read() as conn:
        for day, expected in zip((D1, D2), days, strict=True):
            counts = history.band_counts(conn, day)
            assert counts == Counter(history.book_day(conn, day)["band"].tolist())
            assert counts == Counter(s["band"] for s in expected.values())
        assert history.band_counts(conn, D4) == Counter()


def test_latest_in_window_picks_each_accounts_latest_snapshot(book) -> None:
    """latest_in_window gives each wanted account's (band, score) latest in [start, end]."""
    accounts = ["A", "B", "C", "D", "E"]
    with book.write() as conn:
        _add_accounts(conn, accounts)
        _write(conn, D1, accounts, seed=1)
        _write(conn, D3, ["A", "B", "C"], seed=3)
        _insert_row(conn, "D", D2, 33.3, "yellow")
        _insert_row(conn, "A", D3, None, "insufficient")
        _insert_row(conn, "B", D4, 80.0, "green")
    for start, end in [(D1, D4), (D1, D3), (D2, D3), (D2, D2), (D4, D5), (D0, D0), (D1, D1)]:
        with book.read() as conn:
            found = history.latest_in_window(conn, ["A", "B", "C", "D"], start, end)
            want = {}
            for account in ("A", "B", "C", "D"):
                snap = history.latest_snapshot(conn, account, since=start, until=end)
                if snap is not None:
                    want[account] = (snap["band"], snap["score"])
        assert set(found) == set(want), (start, end)
        for account, (band, score) in want.items():
            assert found[account][0] == band
            assert found[account][1] == (None if score is None else pytest.approx(score, rel=1e-6))


# -- 6. bands ------------------------------------------------------------------------------------
def test_band_codes_refuses_an_unknown_band(book) -> None:
    """band_codes maps the four bands and refuses anything else, as does write_day."""
    assert history.band_codes(list(history.BANDS)).tolist() == [0, 1, 2, 3]
    for bad in (["green", "purple"], ["Green"], ["red", None], [""]):
        with pytest.raises(ValueError, match="not a health band"):
            history.band_codes(bad)
    with pytest.raises(ValueError, match="purple"), book.write() as conn:
        _add_accounts(conn, ["A"])
        history.write_day(conn, D1, ["A"], ["purple"], np.zeros((1, 6)), np.zeros((1, 0)), [])
    assert book.scalar("SELECT count(*) FROM health_days") == 0


# -- 7. a book from before v5 --------------------------------------------------------------------
def test_a_v4_books_health_rows_stay_readable_after_migration(tmp_path) -> None:
    """A v4 book's `health` rows read back through the module once it is migrated (to v5 and on)."""
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:4]:
        for statement in schema._statements(step):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    _add_accounts(conn, ["A", "B, Inc."])
    rows = [
        _insert_row(conn, "A", D1, 70.0, "green"),
        _insert_row(conn, "A", D2, None, "insufficient", churn=None),
        _insert_row(conn, "B, Inc.", D2, 30.5, "red"),
    ]
    conn.commit()
    conn.close()
    book = open_book(path)
    try:
        assert book.scalar("PRAGMA user_version") == schema.SCHEMA_VERSION >= 5
        with book.read() as conn:
            assert _plains(history.account_snapshots(conn, "A")) == rows[:2]
            assert _plain(history.latest_snapshot(conn, "A")) == rows[1]
            assert _plain(history.latest_snapshot(conn, "A", scored=True)) == rows[0]
            assert _plains(history.all_snapshots(conn)) == rows
            assert history.snapshot_days(conn) == [D1, D2]
            _assert_book_day(history.book_day(conn, D2), {"A": rows[1], "B, Inc.": rows[2]})
        with book.write() as conn:  # the first full rescore after the upgrade
            new = _write(conn, D3, ["A", "B, Inc."], seed=3)
        with book.read() as conn:
            assert _plains(history.account_snapshots(conn, "A")) == [*rows[:2], new["A"]]
            assert history.snapshot_days(conn) == [D1, D2, D3]
    finally:
        book.close()


# -- 8. the query plan ---------------------------------------------------------------------------
@pytest.mark.parametrize("analyzed", [False, True])
def test_account_snapshots_seeks_one_block_per_day(book, analyzed: bool) -> None:
    """_BLOCKS_SQL finds each day's block by the UNIQUE (date, first_id) index, scanning none."""
    days = [(date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(40)]
    ids = sorted(NUMBERED)  # blocks reference no account: no accounts needed for the plan
    n = len(ids)
    with book.write() as conn:
        for day in days:
            history.write_day(conn, day, ids, ["green"] * n, np.zeros((n, 6)), np.zeros((n, 0)), [])
        if analyzed:
            conn.execute("ANALYZE")
    with book.read() as conn:
        unique = [
            r[1] for r in conn.execute("PRAGMA index_list(health_blocks)") if r[2] and r[3] == "u"
        ]
        assert len(unique) == 1
        columns = [r[2] for r in conn.execute(f"PRAGMA index_info({unique[0]})")]
        assert columns == ["date", "first_id"]
        sql = history._BLOCKS_SQL.format(order="DESC")
        params = {"id": ids[300], "after": history._FIRST, "until": history._LAST}
        plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        assert not any(line.startswith("SCAN") for line in plan), plan
        seek = f"INDEX {unique[0]} (date=? AND first_id<?)"  # (a covering one)
        assert any(line.startswith("SEARCH health_blocks ") and seek in line for line in plan), plan
        assert any(line.startswith("SEARCH b USING INTEGER PRIMARY KEY") for line in plan), plan
        assert any(line.startswith("SEARCH d USING") for line in plan), plan
        snaps = history.account_snapshots(conn, ids[300], days[0], days[-1])
    assert [s["date"] for s in snaps] == days


def test_write_day_orders_ids_itself_and_keeps_a_blob_id_as_a_row(book) -> None:
    """Ids given out of order still land where readers look; an id stored as a blob (written
    behind csm) cannot sit in a block's JSON and is kept as a `health` row instead."""
    ids = [*reversed(NUMBERED), *AWKWARD]
    with book.write() as conn:
        _add_accounts(conn, ids)
        conn.execute("INSERT INTO accounts (id, name) VALUES (?, 'blob')", (b"\x00blob",))
        bands, values, points = _values(len(ids) + 1, 5, len(MEASURES))
        history.write_day(conn, D1, [*ids, b"\x00blob"], bands, values, points, MEASURES)
        rows = conn.execute("SELECT account_id, band FROM health WHERE date = ?", (D1,)).fetchall()
        assert [tuple(r) for r in rows] == [(b"\x00blob", bands[-1])]
    with book.read() as conn:
        for i, account in enumerate(ids):
            expected = _expected(account, D1, bands[i], values[i], points[i], MEASURES)
            assert _plain(history.latest_snapshot(conn, account)) == expected
        assert len(history.book_day(conn, D1)["account_id"]) == len(ids) + 1
