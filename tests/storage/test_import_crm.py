"""`csm import` of real CRM exports: HubSpot, Salesforce, the seed-003 portfolio JSON, Telco."""

from __future__ import annotations

import json
from pathlib import Path

from csm_tui.cli import main
from csm_tui.storage.db import open_book

GOOD = Path(__file__).resolve().parents[1] / "data" / "good"


def csm(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the real CLI in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def account(db_path: Path, account_id: str) -> dict:
    book = open_book(db_path)
    try:
        row = book.query("SELECT * FROM scored_accounts WHERE id = ?", (account_id,))
        assert row, f"no account {account_id}"
        found = dict(row[0])
        found["custom"] = json.loads(found["custom"])
        return found
    finally:
        book.close()


def count(db_path: Path, table: str) -> int:
    book = open_book(db_path)
    try:
        return int(book.scalar(f"SELECT count(*) FROM {table}"))
    finally:
        book.close()


def test_hubspot_company_export_maps_names_ids_arr_owner_and_renewal(capsys, db_path) -> None:
    code, out, err = csm(capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path)
    assert code == 0, err
    assert "Imported 4 accounts (4 new, 0 updated) from" in out
    fabrikam = account(db_path, "5829174033")
    assert fabrikam["name"] == "Fabrikam, Inc."
    assert fabrikam["owner"] == "Dana Whitfield"
    assert fabrikam["arr"] == 9600.0
    assert fabrikam["renewal_date"] == "2027-05-20"
    assert fabrikam["stage"] == "Customer"
    # "Annual Revenue" is the customer's own revenue: kept, but never taken as ARR
    assert fabrikam["custom"]["Annual Revenue"] == "$12,500,000"
    assert fabrikam["custom"]["City"] == "Austin"


def test_salesforce_account_report_with_us_dates(capsys, db_path) -> None:
    code, out, err = csm(
        capsys, "import", GOOD / "salesforce_accounts.csv", "--db", db_path, "--no-rescore"
    )
    assert code == 0, err
    globex = account(db_path, "0015g00000XyZ1aAAF")
    assert (globex["name"], globex["owner"]) == ("Globex Corporation", "Hank Scorpio")
    assert globex["arr"] == 215000.0
    assert globex["renewal_date"] == "2027-03-31"
    assert globex["industry"] == "Energy"
    assert globex["custom"]["Type"] == "Customer - Direct"
    assert globex["custom"]["Annual Revenue"] == "1,250,000,000"
    assert account(db_path, "0015g00000XyZ3cAAF")["arr"] == 98750.5


def test_the_same_file_twice_gives_the_same_count(capsys, db_path) -> None:
    for _ in range(2):
        code, out, err = csm(
            capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path, "--no-rescore"
        )
        assert code == 0, err
    assert "(0 new, 4 updated)" in out
    assert count(db_path, "accounts") == 4


def test_reimport_keeps_other_columns_and_merges_custom_attributes(
    capsys, db_path, tmp_path
) -> None:
    csm(capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path, "--no-rescore")
    update = tmp_path / "arr_update.csv"
    update.write_text('Record ID,ARR,Region\n5829174031,"$40,000",West\n')
    code, out, err = csm(capsys, "import", update, "--db", db_path, "--no-rescore")
    assert code == 0, err
    northwind = account(db_path, "5829174031")
    assert northwind["arr"] == 40000.0
    assert northwind["name"] == "Northwind Traders"  # not in the file: unchanged
    assert northwind["owner"] == "Dana Whitfield"
    assert northwind["custom"]["Region"] == "West"
    assert northwind["custom"]["City"] == "Seattle"


def test_seed_003_portfolio_json(capsys, db_path) -> None:
    code, out, err = csm(
        capsys, "import", GOOD / "seed003_portfolio.json", "--db", db_path, "--no-rescore"
    )
    assert code == 0, err
    acme = account(db_path, "ACCT-001")
    assert acme["name"] == "Acme Corp."
    assert acme["renewal_date"] == "2026-03-31"
    assert acme["health_score"] == 85
    assert acme["custom"]["usage_metrics.average_daily_sessions"] == 800
    assert account(db_path, "ACCT-002")["status"] == "churned"  # its latest renewal churned
    book = open_book(db_path)
    try:
        usage = book.query("SELECT date, mau FROM usage WHERE account_id = 'ACCT-001'")
        assert [tuple(r) for r in usage] == [("2026-11-23", 1200.0)]
        renewals = book.query(
            "SELECT due_date, outcome, closed_on FROM renewals "
            "WHERE account_id = 'ACCT-001' ORDER BY due_date"
        )
        assert [tuple(r) for r in renewals] == [
            ("2024-03-31", "renewed", "2024-03-31"),
            ("2026-03-31", None, None),
        ]
        outcomes = book.query(
            "SELECT outcome FROM renewals WHERE account_id = 'ACCT-002' ORDER BY due_date"
        )
        assert [r[0] for r in outcomes] == ["renewed", "renewed", "churned"]
    finally:
        book.close()
    code, out, _ = csm(
        capsys, "import", GOOD / "seed003_portfolio.json", "--db", db_path, "--no-rescore"
    )
    assert code == 0 and "(0 new, 3 updated)" in out
    assert count(db_path, "renewals") == 5 and count(db_path, "usage") == 3


def test_telco_file_imports_as_accounts(capsys, db_path, telco_csv) -> None:
    code, out, err = csm(capsys, "import", telco_csv, "--db", db_path, "--no-rescore")
    assert code == 0, err
    assert "Imported 7,043 accounts (7,043 new, 0 updated)" in out
    first = account(db_path, "7590-VHVEG")
    assert first["name"] == "7590-VHVEG"  # no name column: named by its id
    assert first["custom"]["Contract"] == "Month-to-month"
    assert first["custom"]["MonthlyCharges"] == "29.85"
    book = open_book(db_path)
    try:
        assert book.scalar("SELECT count(*) FROM accounts WHERE status = 'churned'") == 1869
        blanks = book.scalar(
            "SELECT count(*) FROM accounts WHERE json_extract(custom, '$.TotalCharges') = ' '"
        )
        assert blanks == 11  # tenure-0 customers: just a custom value, not an error
    finally:
        book.close()


def test_map_overrides_a_column(capsys, db_path, tmp_path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text('Client,Ref,Money\nBluebird,BB-1,"$1,000"\n')
    code, _, err = csm(
        capsys,
        "import",
        odd,
        "--db",
        db_path,
        "--no-rescore",
        "--map",
        "Client=name",
        "--map",
        "Ref=id",
        "--map",
        "Money=arr",
    )
    assert code == 0, err
    bluebird = account(db_path, "BB-1")
    assert (bluebird["name"], bluebird["arr"], bluebird["custom"]) == ("Bluebird", 1000.0, {})


def test_map_onto_an_unknown_field_is_a_usage_error(capsys, db_path) -> None:
    code, _, err = csm(
        capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path, "--map", "City=town"
    )
    assert code == 2
    assert "no field 'town'" in err and "Traceback" not in err


def test_dry_run_reports_and_writes_nothing(capsys, db_path) -> None:
    code, out, err = csm(
        capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path, "--dry-run"
    )
    assert code == 0, err
    assert "Would import 4 accounts (4 new, 0 updated)" in out
    assert "5829174031" in out and "nothing written" in out
    assert count(db_path, "accounts") == 0


def test_accounts_without_ids_get_stable_ids_or_match_by_name(capsys, db_path, tmp_path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("Company name,ARR\nAcme Corp.,100\nBeta GmbH,200\n")
    csm(capsys, "import", names, "--db", db_path, "--no-rescore")
    csm(capsys, "import", names, "--db", db_path, "--no-rescore")
    assert count(db_path, "accounts") == 2
    assert account(db_path, "acme-corp")["arr"] == 100.0


def test_an_import_rescores_the_book(capsys, db_path) -> None:
    code, _, err = csm(capsys, "import", GOOD / "hubspot_companies.csv", "--db", db_path)
    assert code == 0, err
    book = open_book(db_path)
    try:
        unscored = book.scalar("SELECT count(*) FROM accounts WHERE health_band IS NULL")
        assert unscored == 0
    finally:
        book.close()


def test_a_dry_run_into_a_new_book_leaves_no_file(capsys, tmp_path) -> None:
    db = tmp_path / "fresh" / "book.db"
    code, out, err = csm(
        capsys, "import", GOOD / "salesforce_accounts.csv", "--db", db, "--dry-run"
    )
    assert code == 0, err
    assert "Would import 3 accounts (3 new, 0 updated)" in out
    assert not db.exists()


def test_salesforce_report_footer_lines_are_not_records(capsys, db_path) -> None:
    code, out, err = csm(
        capsys,
        "import",
        GOOD / "salesforce_report_with_footer.csv",
        "--db",
        db_path,
        "--no-rescore",
    )
    assert code == 0, err
    assert "Imported 3 accounts (3 new, 0 updated)" in out
