"""CSV dialects and encodings (csv-spectrum cases), JSON shapes, JSONL, and the other kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csm_tui.cli import main
from csm_tui.storage.db import open_book

GOOD = Path(__file__).resolve().parents[1] / "data" / "good"


def csm(capsys, *argv: object) -> tuple[int, str, str]:
    """Run the real CLI in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def rows(db_path: Path, sql: str) -> list[tuple]:
    book = open_book(db_path)
    try:
        return [tuple(r) for r in book.query(sql)]
    finally:
        book.close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "spectrum_quoted_commas.csv",
            [("QC-1", "Smith, Jones & Co", "Ana"), ("QC-2", "Lee, Inc.", "Ortega, Luis")],
        ),
        (
            "spectrum_escaped_quotes.csv",
            [("EQ-1", 'The "Best" Bakery', None), ("EQ-2", 'Quote at end"', None)],
        ),
        (
            "spectrum_utf8.csv",
            [("U8-1", "Zürich Versicherung", "Jürgen Groß"), ("U8-2", "東京システム", "山田 太郎")],
        ),
        ("spectrum_bom.csv", [("BOM-1", "Bom Café", None)]),
        ("spectrum_crlf.csv", [("CR-1", "Crlf One", None), ("CR-2", "Crlf Two", None)]),
        ("excel_cp1252.csv", [("CP-1", "Café Müller", None), ("CP-2", "Señor Niño “Ltd”", None)]),
    ],
)
def test_csv_spectrum_cases(capsys, db_path, name, expected) -> None:
    code, _, err = csm(capsys, "import", GOOD / name, "--db", db_path, "--no-rescore")
    assert code == 0, err
    assert rows(db_path, "SELECT id, name, owner FROM accounts ORDER BY id") == expected


def test_newlines_inside_quotes_are_kept_and_rows_counted_as_records(capsys, db_path) -> None:
    code, out, err = csm(
        capsys, "import", GOOD / "spectrum_newlines_in_quotes.csv", "--db", db_path, "--no-rescore"
    )
    assert code == 0, err
    notes = rows(db_path, "SELECT json_extract(custom, '$.notes') FROM accounts ORDER BY id")
    assert notes == [("first line\nsecond line",), ("a\r\nb",)]


def test_european_excel_file_semicolons_money_and_dates(capsys, db_path) -> None:
    code, _, err = csm(capsys, "import", GOOD / "excel_cp1252.csv", "--db", db_path, "--no-rescore")
    assert code == 0, err
    assert rows(db_path, "SELECT arr, renewal_date FROM accounts ORDER BY id") == [
        (12000.0, "2027-03-31"),
        (1250.5, "2026-12-01"),
    ]


def test_tab_separated_with_percent_and_yes_no(capsys, db_path) -> None:
    code, _, err = csm(
        capsys, "import", GOOD / "tab_separated.tsv", "--db", db_path, "--no-rescore"
    )
    assert code == 0, err
    got = rows(db_path, "SELECT id, arr, onboarding_pct, sponsor_engaged FROM accounts ORDER BY id")
    assert got == [("TS-1", 5000.0, 80.0, 1), ("TS-2", 7500.0, 100.0, 0)]


def test_jsonl_and_wrapped_json(capsys, db_path) -> None:
    assert csm(capsys, "import", GOOD / "accounts.jsonl", "--db", db_path, "--no-rescore")[0] == 0
    assert (
        csm(capsys, "import", GOOD / "wrapped_accounts.json", "--db", db_path, "--no-rescore")[0]
        == 0
    )
    got = rows(db_path, "SELECT id, arr, custom FROM accounts ORDER BY id")
    assert [(i, a) for i, a, _ in got] == [
        ("JL-1", 1500.0),
        ("JL-2", 2500.0),
        ("WR-1", 100.0),
        ("WR-2", 200.0),
    ]
    assert json.loads(got[2][2]) == {"region.code": "EU", "region.name": "EMEA"}


@pytest.fixture
def crm_book(capsys, db_path) -> Path:
    """A book holding the HubSpot sample accounts."""
    code, _, err = csm(
        capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path, "--no-rescore"
    )
    assert code == 0, err
    return db_path


def test_zendesk_ticket_export(capsys, crm_book) -> None:
    code, out, err = csm(
        capsys,
        "import",
        GOOD / "zendesk_tickets.csv",
        "--kind",
        "tickets",
        "--db",
        crm_book,
        "--no-rescore",
    )
    assert code == 0, err
    assert "Imported 3 tickets (3 new, 0 updated)" in out
    assert "Ignored" in out and "Requester" in out
    got = rows(
        crm_book,
        "SELECT id, account_id, severity, status, opened_at, resolved_at FROM tickets ORDER BY id",
    )
    assert got == [
        ("48211", "5829174031", 1, "open", "2026-11-18T09:14:22", None),
        ("48212", "5829174032", 3, "solved", "2026-11-02T14:01:05", "2026-11-03T08:30:00"),
        ("48213", "5829174031", 4, "pending", "2026-11-21T16:45:00", None),
    ]


def test_usage_export_by_name_or_id(capsys, crm_book) -> None:
    for _ in range(2):
        code, _, err = csm(
            capsys,
            "import",
            GOOD / "usage_export.csv",
            "--kind",
            "usage",
            "--db",
            crm_book,
            "--no-rescore",
        )
        assert code == 0, err
    got = rows(
        crm_book,
        "SELECT account_id, date, seats, active_users, dau, mau, logins, "
        "features_used, features_total FROM usage ORDER BY account_id, date",
    )
    assert got == [
        ("5829174031", "2026-10-01", 250, 180, 62.0, 180.0, 2410, 7, 10),
        ("5829174031", "2026-11-01", 250, 171, 58.0, 171.0, 2290, 7, 10),
        ("5829174032", "2026-11-01", 1500, 1320, 540.0, 1320.0, 18400, 9, 10),
    ]


def test_survey_export_with_question_headers(capsys, crm_book) -> None:
    code, _, err = csm(
        capsys,
        "import",
        GOOD / "survey_responses.csv",
        "--kind",
        "nps",
        "--db",
        crm_book,
        "--no-rescore",
    )
    assert code == 0, err
    got = rows(
        crm_book, "SELECT id, account_id, date, kind, score, comment FROM responses ORDER BY id"
    )
    assert got == [
        (
            "R_1a2b3c",
            "5829174031",
            "2026-11-20",
            "nps",
            9.0,
            "Support is fast, onboarding was smooth",
        ),
        ("R_4d5e6f", "5829174032", "2026-11-21", "nps", 4.0, "Exports keep timing out"),
    ]


def test_timeline_without_ids_does_not_duplicate(capsys, crm_book, tmp_path) -> None:
    events = tmp_path / "calls.csv"
    events.write_text(
        "Account,Date,Type,Notes\nNorthwind Traders,2026-11-20 10:00,Phone call,"
        "Renewal prep\nTailspin Toys,2026-11-21,QBR,Q4 review\n"
    )
    for _ in range(2):
        assert (
            csm(capsys, "import", events, "--kind", "timeline", "--db", crm_book, "--no-rescore")[0]
            == 0
        )
    got = rows(crm_book, "SELECT account_id, at, kind, text FROM events ORDER BY at")
    assert got == [
        ("5829174031", "2026-11-20T10:00:00", "call", "Renewal prep"),
        ("5829174034", "2026-11-21T00:00:00", "qbr", "Q4 review"),
    ]


def test_every_bad_row_is_listed_and_nothing_is_written(capsys, crm_book, tmp_path) -> None:
    bad = tmp_path / "bad_usage.csv"
    bad.write_text(
        "date,account,active users,DAU\n"
        "2026-11-01,Northwind Traders,10,5\n"
        "2026-02-30,Northwind Traders,10,5\n"
        "2026-11-02,Nobody Inc,10,5\n"
        "2026-11-03,Contoso Pharmaceuticals,-4,5\n"
    )
    code, out, err = csm(capsys, "import", bad, "--kind", "usage", "--db", crm_book)
    assert code == 1
    assert f"{bad}:3: date: '2026-02-30' is not a real date (February 2026 has 28 days)" in err
    assert f"{bad}:4: account: no account with id or name 'Nobody Inc'" in err
    assert f"{bad}:5: active users: cannot be negative (got -4)" in err
    assert ":2:" not in err and "Traceback" not in err
    assert rows(crm_book, "SELECT count(*) FROM usage") == [(0,)]


def test_ambiguous_account_name_is_a_row_error(capsys, db_path, tmp_path) -> None:
    twins = tmp_path / "twins.csv"
    twins.write_text("id,name\nT-1,Twin Co\nT-2,Twin Co\n")
    csm(capsys, "import", twins, "--db", db_path, "--no-rescore")
    notes = tmp_path / "notes.csv"
    notes.write_text("account,at,kind,text\nTwin Co,2026-11-01,note,hello\n")
    code, _, err = csm(capsys, "import", notes, "--kind", "timeline", "--db", db_path)
    assert code == 1
    assert "'Twin Co' matches 2 accounts (T-1, T-2); use the account id" in err


def test_unknown_kind_is_a_usage_error(capsys, db_path) -> None:
    code, _, err = csm(
        capsys, "import", GOOD / "accounts.jsonl", "--kind", "invoices", "--db", db_path
    )
    assert code == 2
    assert "unknown kind 'invoices'" in err and "accounts, contacts" in err


def test_health_snapshots_set_the_current_score_only_when_latest(capsys, crm_book, tmp_path):
    history = tmp_path / "health.csv"
    history.write_text(
        "account_id,date,score,band\n5829174031,2026-11-01,64,yellow\n"
        "5829174031,2026-11-20,81.5,green\n5829174032,2026-10-01,30,red\n"
    )
    code, _, err = csm(capsys, "import", history, "--kind", "health", "--db", crm_book)
    assert code == 0, err
    older = tmp_path / "older.csv"
    older.write_text("account_id,date,score,band\n5829174031,2026-09-01,20,red\n")
    assert csm(capsys, "import", older, "--kind", "health", "--db", crm_book)[0] == 0
    got = rows(
        crm_book,
        "SELECT id, health_score, health_band FROM scored_accounts "
        "WHERE id IN ('5829174031', '5829174032') ORDER BY id",
    )
    assert got == [("5829174031", 81.5, "green"), ("5829174032", 30.0, "red")]
