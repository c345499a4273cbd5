"""The full rescore's one-statement updates (`bulk_update`): every value reads back exactly as
the rescore keeps it, only the rows named are touched, and the helper thread's work and
failures come back to the caller."""

from __future__ import annotations

import math
import sqlite3
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_tui.scoring.bulk_update import alongside, rows_json, update_statement


def _table(rows: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, x REAL, n INTEGER, s TEXT, at TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, -1.0, -1, 'old', 'old')", [(k,) for k in range(1, rows + 1)]
    )
    return conn


def _update(conn, keys, values, fixed=None) -> None:
    sql, params = update_statement("t", "k", np.asarray(keys, dtype=np.int64), values, fixed)
    conn.execute(sql, params)


def _bits(value: float | None) -> object:
    """A float's exact identity (NaN and NULL both read as None; SQLite itself keeps no sign
    on zero)."""
    return None if value is None or math.isnan(value) else (float(value) + 0.0).hex()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 9), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_rounded_floats_read_back_exactly(rows: list[tuple[float, int, bool]]) -> None:
    """Numbers rounded to 0–9 decimals (as the rescore rounds scores and probabilities), or
    missing, are stored as the very same doubles (they travel as scaled integers)."""
    digits = max(d for _, d, _ in rows)
    x = np.array([np.nan if missing else v for v, _, missing in rows])
    x = np.round(x, digits)
    conn = _table(len(x))
    _update(conn, range(1, len(x) + 1), {"x": x})
    back = [r[0] for r in conn.execute("SELECT x FROM t ORDER BY k")]
    assert [_bits(v) for v in back] == [_bits(v) for v in x]


def test_unrounded_floats_read_back_exactly() -> None:
    """A value with more decimals than scaling can carry goes as Python's exact text."""
    x = np.array([0.1 + 0.2, 1 / 3, -2 / 7, 1e-12, np.nan, 123456.789012345678])
    payload, expressions = rows_json(np.arange(1, 7), [x])
    assert "/ 1e" not in expressions[1]
    conn = _table(len(x))
    _update(conn, range(1, 7), {"x": x})
    back = [r[0] for r in conn.execute("SELECT x FROM t ORDER BY k")]
    assert [_bits(v) for v in back] == [_bits(v) for v in x]


def test_integers_text_and_missing_values_keep_their_types() -> None:
    conn = _table(4)
    text = np.array(["green", None, 'O\'Brien "q" é \x1f', np.nan], dtype=object)
    _update(conn, [1, 2, 3, 4], {"n": np.array([0, 1, -7, 2**40]), "s": text})
    rows = conn.execute("SELECT n, typeof(n), s FROM t ORDER BY k").fetchall()
    assert rows == [
        (0, "integer", "green"),
        (1, "integer", None),
        (-7, "integer", 'O\'Brien "q" é \x1f'),
        (2**40, "integer", None),
    ]


def test_numbers_among_text_read_back_exactly() -> None:
    """An object column holding numbers is not trusted to 15-digit text either."""
    conn = _table(2)
    _update(conn, [1, 2], {"x": np.array([0.1 + 0.2, None], dtype=object)})
    assert [_bits(r[0]) for r in conn.execute("SELECT x FROM t ORDER BY k")] == [
        _bits(0.1 + 0.2),
        None,
    ]


def test_only_the_named_rows_change_and_fixed_text_is_quoted() -> None:
    conn = _table(5)
    _update(conn, [4, 2], {"x": np.array([4.5, 2.5])}, fixed={"at": "it's today"})
    rows = conn.execute("SELECT k, x, at FROM t ORDER BY k").fetchall()
    assert rows == [
        (1, -1.0, "old"),
        (2, 2.5, "it's today"),
        (3, -1.0, "old"),
        (4, 4.5, "it's today"),
        (5, -1.0, "old"),
    ]


def test_an_infinite_score_is_refused_not_stored_wrong() -> None:
    with pytest.raises(ValueError):
        rows_json(np.array([1]), [np.array([math.inf])])


def test_alongside_runs_the_work_on_another_thread_and_hands_back_its_result() -> None:
    seen: list[str] = []

    def work() -> int:
        seen.append(threading.current_thread().name)
        return 42

    with alongside(work) as result:
        pass
    assert result.result() == 42
    assert seen and seen[0] != threading.current_thread().name


def test_alongside_hands_back_the_work_s_failure() -> None:
    def work() -> None:
        raise RuntimeError("encoding failed")

    with alongside(work) as result:
        pass
    with pytest.raises(RuntimeError, match="encoding failed"):
        result.result()
