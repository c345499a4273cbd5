"""The malformed-file corpus (tests/data/bad/): every file refused through the real `csm import`
with a clear message naming file and row, a non-zero exit, no traceback, and the book unchanged
byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from csm_tui.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = DATA / "bad"

#: file → (extra arguments, what the message must say)
CASES = {
    "ragged_rows.csv": (
        (),
        [
            "ragged_rows.csv:3: row: has 2 cells but the header has 3",
            "ragged_rows.csv:4: row: has 4 cells",
        ],
    ),
    "bare_quote.csv": ((), ['bare_quote.csv:2: a stray quote (") in the unquoted cell']),
    "quote_after_closing_quote.csv": ((), ["quote_after_closing_quote.csv:2: a stray quote"]),
    "unclosed_quote.csv": ((), ["unclosed_quote.csv:2: a quoted cell is never closed"]),
    "undecodable_bytes.csv": (
        (),
        ["undecodable_bytes.csv:3: byte 0x81 is neither UTF-8 nor Windows-1252"],
    ),
    "nul_bytes.csv": ((), ["nul_bytes.csv:2: the file contains NUL bytes"]),
    "duplicate_headers.csv": (
        (),
        ["duplicate_headers.csv:1: the column 'name' appears twice (columns 2 and 4)"],
    ),
    "missing_required_headers.csv": (
        (),
        ["missing required column(s) for accounts: id (or name)", "Columns found: 'ARR', 'Owner'"],
    ),
    "empty.csv": ((), ["empty.csv: the file is empty"]),
    "blank_lines_only.csv": ((), ["blank_lines_only.csv: the file is empty"]),
    "binary_data.csv": ((), ["binary_data.csv:1: the file contains NUL bytes"]),
    "excel_workbook.csv": ((), ["an Excel .xlsx workbook", "Save the sheet as CSV"]),
    "not_json.json": ((), ["not_json.json:1: not valid JSON: Expecting property name"]),
    "wrong_shape.json": (
        (),
        ["wrong_shape.json: the JSON has the wrong shape: expected a list of objects"],
    ),
    "list_of_numbers.json": ((), ["list_of_numbers.json:2: record: expected an object"]),
    "bad_line.jsonl": ((), ["bad_line.jsonl:2: line: not valid JSON"]),
    "impossible_dates.csv": (
        (),
        [
            "impossible_dates.csv:2: renewal_date: '2026-02-30' is not a real date (February 2026 "
            "has 28 days)",
            "impossible_dates.csv:3: renewal_date: '2026-13-01' is not a real date (there is no "
            "month 13)",
        ],
    ),
    "negative_arr.csv": ((), ["negative_arr.csv:2: ARR: cannot be negative (got -5000)"]),
    "health_out_of_range.csv": (
        (),
        ["health_out_of_range.csv:2: health_score: 140 is out of range (0–100)"],
    ),
    "nps_out_of_range.csv": (
        ("--kind", "nps"),
        ["nps_out_of_range.csv:2: score: 11 is out of range (0–10)"],
    ),
    "duplicate_ids.csv": ((), ["duplicate_ids.csv:3: id: duplicate id 'DI-1' (also on row 2)"]),
    "unknown_account.csv": (
        ("--kind", "usage"),
        ["unknown_account.csv:2: account: no account with id or name 'No Such Customer'"],
    ),
    "not_a_number.csv": ((), ["not_a_number.csv:2: seats: 'twelve' is not a number"]),
}


@pytest.fixture
def seeded_book(tmp_path) -> Path:
    """A book with the seed-003 accounts, closed so its file is checkpointed."""
    db = tmp_path / "book.db"
    assert (
        main(
            [
                "import",
                str(DATA / "good" / "seed003_portfolio.json"),
                "--db",
                str(db),
                "--no-rescore",
            ]
        )
        == 0
    )
    return db


def files_of(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")}


def test_every_bad_file_has_a_case() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_refused_and_the_book_unchanged(capsys, seeded_book, name) -> None:
    args, messages = CASES[name]
    before = files_of(seeded_book)
    code = main(["import", str(BAD / name), "--db", str(seeded_book), *args])
    err = capsys.readouterr().err
    assert code == 1, err
    for message in messages:
        assert message in err
    assert "Traceback" not in err and "unexpected error" not in err
    assert files_of(seeded_book) == before


def test_several_megabyte_field_is_refused(capsys, seeded_book, tmp_path) -> None:
    huge = tmp_path / "huge_field.csv"
    huge.write_text("id,name,notes\nH-1,Huge," + "x" * 5_000_000 + "\nH-2,Small,ok\n")
    before = files_of(seeded_book)
    code = main(["import", str(huge), "--db", str(seeded_book)])
    err = capsys.readouterr().err
    assert code == 1
    assert "huge_field.csv:2: notes: the cell is 5.0 MB long; cells are limited to 1 MB" in err
    assert files_of(seeded_book) == before


def test_missing_file_directory_and_unknown_kind(capsys, seeded_book, tmp_path) -> None:
    before = files_of(seeded_book)
    cases = [
        (["import", str(tmp_path / "nope.csv")], 1, "nope.csv: no such file"),
        (["import", str(BAD)], 1, "is a directory"),
        (
            ["import", str(DATA / "good" / "accounts.jsonl"), "--kind", "invoices"],
            2,
            "unknown kind 'invoices'",
        ),
    ]
    for argv, expected_code, message in cases:
        code = main([*argv, "--db", str(seeded_book)])
        err = capsys.readouterr().err
        assert code == expected_code, err
        assert message in err
    assert files_of(seeded_book) == before


def test_a_failed_first_import_leaves_no_book_behind(capsys, tmp_path) -> None:
    db = tmp_path / "new" / "book.db"
    code = main(["import", str(BAD / "impossible_dates.csv"), "--db", str(db)])
    assert code == 1
    assert not db.exists() and not Path(f"{db}-wal").exists()


@pytest.mark.parametrize("name", ["ragged_rows.csv", "binary_data.csv", "wrong_shape.json"])
def test_refused_by_the_installed_command_without_traceback(seeded_book, name) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "csm_tui", "import", str(BAD / name), "--db", str(seeded_book)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("csm: ") and "Traceback" not in result.stderr
