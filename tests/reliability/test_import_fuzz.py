"""Property-based fuzzing of the importer: random bytes and random rows never produce anything
but a clean refusal (CsmError/ImportRejected) or a successful import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm_tui.errors import CsmError
from csm_tui.storage.db import open_book
from csm_tui.storage.importer import import_file
from csm_tui.storage.kinds import IMPORT_ORDER

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def fuzz_book(tmp_path):
    """One book (with an account to refer to) shared by every example of a test."""
    book = open_book(tmp_path / "fuzz.db")
    with book.write() as conn:
        conn.execute("INSERT INTO accounts (id, name) VALUES ('F-1', 'Fuzz Co')")
    yield book
    book.close()


def attempt(book, path: Path, kind: str, fmt: str | None = None) -> None:
    """Import; a refusal is fine, anything else propagates and fails the test."""
    accounts = book.scalar("SELECT count(*) FROM accounts")
    try:
        import_file(book, path, kind, fmt=fmt, dry_run=False)
    except CsmError as exc:
        assert exc.message.strip()
        assert book.scalar("SELECT count(*) FROM accounts") == accounts  # nothing written
        assert not book.conn.in_transaction


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".json", ".jsonl", ""]))
def test_random_bytes(fuzz_book, tmp_path, data, suffix) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    attempt(fuzz_book, path, "accounts")


_HEADERS = [
    "id",
    "name",
    "arr",
    "owner",
    "renewal_date",
    "health_score",
    "account",
    "date",
    "score",
    "Company name",
    "ARR",
    "seats",
    "status",
    "mau",
    "kind",
    "at",
    "text",
    "opened_at",
    "severity",
    "due_date",
    "custom",
    "renewal_history",
    "Churn",
]
_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "F-1",
            "Fuzz Co",
            "2026-02-30",
            "13/13/2026",
            "$1,200.50",
            "-5",
            "1e400",
            "nan",
            "yes",
            "=HYPERLINK(1)",
            "'=x",
            '"',
            "NaN",
            "[]",
            "{}",
            "0",
            "101",
        ]
    ),
)


@FUZZ
@given(
    headers=st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=6),
    rows=st.lists(st.lists(_CELLS, min_size=0, max_size=7), max_size=6),
    kind=st.sampled_from(IMPORT_ORDER),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_rows(fuzz_book, tmp_path, headers, rows, kind, delimiter) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    attempt(fuzz_book, path, kind)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    records=st.lists(
        st.dictionaries(st.sampled_from(_HEADERS), _JSON_VALUES, max_size=5), max_size=5
    ),
    kind=st.sampled_from(IMPORT_ORDER),
)
def test_random_json_records(fuzz_book, tmp_path, records, kind) -> None:
    import json

    path = tmp_path / "records.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    attempt(fuzz_book, path, kind)
