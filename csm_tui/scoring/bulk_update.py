"""The full rescore's big writes as single statements, with the GIL released while they run.

`executemany` binds each row in Python and lets go of the GIL only around each row's step. A
day of a million-account book updates ~440k health rows: while another thread computes, every
one of those steps then waits for the GIL again (up to the 5 ms switch interval each), so the
writes cannot share the machine. One `UPDATE … FROM json_each(?)` is a single step: SQLite
updates every row in C with the GIL released, about as fast as `executemany` alone, and the
rescore's other work (alert rules, encoding today's history and frame) runs on the second core
meanwhile (`alongside`).

Values travel as JSON and must read back as the very values the rescore keeps (its frame
compares them the next day): a float column whose values have at most 9 decimals goes as
integers (value × 10^d, exact in JSON) that SQLite divides back, the way numpy rounded them;
any other float column goes as Python's shortest exact text (slower, never seen in practice).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
#: Most decimals a float column may have to travel as scaled integers.
MAX_DECIMALS = 9
#: Scaled values must stay integers a double holds exactly.
_EXACT_LIMIT = 2.0**53
#: What pandas calls an object column of text and missing values only.
_TEXT = ("string", "empty")


def update_statement(
    table: str,
    key: str,
    keys: np.ndarray,
    values: dict[str, np.ndarray],
    fixed: dict[str, str] | None = None,
) -> tuple[str, tuple[str]]:
    """(sql, params) of `UPDATE table SET col = value… WHERE key = keys[i]` for every row i,
    as one statement: `values` per column (numbers, or text and None), `fixed` text values
    set on every row."""
    payload, expressions = rows_json(keys, list(values.values()))
    sets = [f"{col} = {expr}" for col, expr in zip(values, expressions[1:], strict=True)]
    sets += [
        f"{col} = '{text.replace(chr(39), chr(39) * 2)}'" for col, text in (fixed or {}).items()
    ]
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} FROM json_each(?) AS v "  # noqa: S608
        f"WHERE {table}.{key} = {expressions[0]}"
    )
    return sql, (payload,)


def rows_json(keys: np.ndarray, columns: list[np.ndarray]) -> tuple[str, list[str]]:
    """(a JSON array of [key, value…] rows, the SQL expression reading each position of a row
    `v` of `json_each` back to its value: the key's first)."""
    sent: dict[str, np.ndarray] = {"k": np.asarray(keys)}
    expressions = [_extract(0)]
    exact = True
    for i, column in enumerate(columns, start=1):
        column = np.asarray(column)
        if column.dtype.kind == "f":
            decimals = _decimals(column)
            if decimals is None:
                exact = False
            else:
                column = np.rint(column * 10.0**decimals) if decimals else column
                expressions.append(f"{_extract(i)} / 1e{decimals}" if decimals else _extract(i))
                sent[str(i)] = column
                continue
        elif column.dtype == object and pd.api.types.infer_dtype(column) not in _TEXT:
            exact = False  # numbers among objects would go as 15-digit text
        expressions.append(_extract(i))
        sent[str(i)] = column
    if not exact:
        return _python_json(keys, columns), [_extract(i) for i in range(len(columns) + 1)]
    return pd.DataFrame(sent, copy=False).to_json(orient="values", double_precision=15), expressions


def _extract(position: int) -> str:
    return f"json_extract(v.value, '$[{position}]')"


def _decimals(column: np.ndarray) -> int | None:
    """The fewest decimals (0–9) that hold every value of a float column exactly, as
    `np.round` leaves them; None if more are needed (or a value is too big to scale)."""
    values = column[np.isfinite(column)]
    if len(values) < int((~np.isnan(column)).sum()):
        return None  # ±inf: JSON has no such number
    for decimals in range(MAX_DECIMALS + 1):
        scaled = values * 10.0**decimals
        if np.abs(scaled).max(initial=0.0) >= _EXACT_LIMIT:
            return None
        if np.array_equal(np.rint(scaled) / 10.0**decimals, values):
            return decimals
    return None


def _python_json(keys: np.ndarray, columns: list[np.ndarray]) -> str:
    """Rows as Python's JSON (shortest exact float text; NaN as null)."""
    lists = [np.asarray(keys).tolist(), *(np.asarray(c, dtype=object).tolist() for c in columns)]
    rows = [
        [None if isinstance(v, float) and v != v else v for v in row]
        for row in zip(*lists, strict=True)
    ]
    return json.dumps(rows, allow_nan=False)


@contextmanager
def alongside(work: Callable[[], T]) -> Iterator[Future[T]]:
    """Run `work` on a helper thread while the body runs; wait for it on leaving. `work` must
    not touch the database, and the body should run only single long statements (see the
    module doc): a per-row loop in either would wait on the other for the GIL."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csm-rescore")
    try:
        yield pool.submit(work)
    finally:
        pool.shutdown(wait=True)
