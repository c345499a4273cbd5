"""`csm export`: CSV/JSON of every kind, CSV-injection neutralising, the renewal forecast, and
the round trip export → import into an empty book giving the same data back."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest

from csm_tui.cli import main
from csm_tui.storage.db import open_book
from csm_tui.storage.exporter import neutralise
from csm_tui.storage.history import all_snapshots
from csm_tui.storage.importer import unquote_cell
from csm_tui.storage.kinds import IMPORT_ORDER, JSON_VALUE, KINDS
from tests.accounts import insert_accounts

GOOD = Path(__file__).resolve().parents[1] / "data" / "good"


def csm(capsys, *argv: object) -> tuple[int, str, str]:
    """Run the real CLI in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","y")',
        "+1+2",
        "-2+3",
        "@SUM(A1)",
        "\tindent",
        "\rreturn",
        "'=already",
        "''=twice",
    ],
)
def test_formula_cells_are_neutralised_and_come_back(cell) -> None:
    safe = neutralise(cell)
    assert safe.startswith("'")
    assert unquote_cell(safe) == cell


@pytest.mark.parametrize("cell", ["-12.5", "+3", "42", "Acme", "it's", "'quoted'", "O'Brien"])
def test_plain_cells_are_left_alone(cell) -> None:
    assert neutralise(cell) == cell
    assert unquote_cell(cell) == cell


def small_book(db_path: Path) -> None:
    """Two accounts with custom attributes and one record of every other kind."""
    book = open_book(db_path)
    try:
        with book.write() as conn:
            columns = ("id", "name", "owner", "arr", "renewal_date", "seats", "sponsor_engaged",
                       "custom", "health_score", "health_band", "churn_prob")  # fmt: skip
            rows = [
                (
                    "A-1",
                    '=HYPERLINK("http://evil","Acme")',
                    "-Jo",
                    12000.5,
                    "2026-12-20",
                    40,
                    1,
                    json.dumps({"Region": "West", "name": "shadow", "Score": "-3"}),
                    71.5,
                    "green",
                    0.2,
                ),
                ("A-2", 'Beta, "Inc"', None, 0.0, None, None, None, "{}", None, None, None),
            ]
            insert_accounts(conn, [dict(zip(columns, r, strict=True)) for r in rows])
            _one_of_each(conn)
    finally:
        book.close()


def _one_of_each(conn) -> None:
    conn.execute(
        "INSERT INTO contacts VALUES ('CT-1','A-1','Ann Lee','ann@a.example','VP',"
        "'sponsor','positive',1,NULL)"
    )
    conn.execute("INSERT INTO usage VALUES ('A-1','2026-11-01',40,30,12.5,30,400,6,10)")
    conn.execute(
        "INSERT INTO tickets VALUES ('T-1','A-1','+1 urgent','2026-11-02T10:00:00',2,"
        "'open',NULL,NULL)"
    )
    conn.execute(
        "INSERT INTO responses VALUES ('NPS-1','A-1','CT-1','2026-11-03','nps',9,'@team great')"
    )
    conn.execute(
        "INSERT INTO events VALUES ('EV-1','A-2','2026-11-04T09:30:00','call',"
        "'line one\nline two','me')"
    )
    conn.execute(
        "INSERT INTO renewals VALUES ('RN-1','A-1','2026-12-20',12000.5,NULL,'likely',NULL,NULL)"
    )
    conn.execute(
        "INSERT INTO health VALUES ('A-1','2026-11-20',71.5,'green',80,60,70,90,0.2,"
        "'{\"measures\": [1, 2]}')"
    )
    conn.execute(
        "INSERT INTO alerts (id, account_id, rule, severity, status, fired_at, reason)"
        " VALUES (7,'A-1','usage_drop','high','open','2026-11-20T08:00:00','MAU -35%')"
    )
    conn.execute(
        "INSERT INTO save_plans (id, account_id, alert_id, risk_level, reasons, "
        "created_at) VALUES ('SP-1','A-1',7,'high','[\"usage\"]','2026-11-20T09:00:00')"
    )
    conn.execute(
        "INSERT INTO tasks (id, account_id, title, due_date, save_plan_id, created_at)"
        " VALUES ('TK-1','A-1','Call sponsor','2026-11-27','SP-1','2026-11-20T09:00:00')"
    )
    conn.execute(
        "INSERT INTO objectives VALUES ('OB-1','A-1','Cut tickets',20,5,12,'tickets',"
        "'2027-03-01','on_track')"
    )


def snapshot(db_path: Path) -> dict[str, list]:
    """Every kind's rows, as the import would write them (JSON columns compared parsed)."""
    book = open_book(db_path)
    try:
        out = {}
        for name in IMPORT_ORDER:
            kind = KINDS[name]
            columns = kind.columns + (["custom"] if name == "accounts" else [])
            if name == "health":  # block days and single rows: one history
                with book.read() as conn:
                    rows = all_snapshots(conn)
            else:
                # an account's health score lives in `account_health` (the view shows it)
                table = "scored_accounts" if name == "accounts" else kind.table
                rows = book.query(
                    f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(kind.key)}"
                )
            json_cols = {f.name for f in kind.fields if f.type == JSON_VALUE} | {"custom"}
            out[name] = [
                {c: json.loads(r[c]) if c in json_cols and r[c] else r[c] for c in columns}
                for r in rows
            ]
        return out
    finally:
        book.close()


def round_trip(capsys, source: Path, target: Path, tmp_path: Path, fmt: str, *rescore: str) -> None:
    """Export every kind of `source`, then import them all (accounts first) into `target`."""
    for name in IMPORT_ORDER:
        exported = tmp_path / f"{name}.{fmt}"
        code, _, err = csm(capsys, "export", name, "--db", source, "--format", fmt, "-o", exported)
        assert code == 0, err
    for name in IMPORT_ORDER:
        exported = tmp_path / f"{name}.{fmt}"
        code, _, err = csm(capsys, "import", exported, "--kind", name, "--db", target, *rescore)
        assert code == 0, f"{name}: {err}"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_of_every_kind(capsys, tmp_path, fmt) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    small_book(source)
    round_trip(capsys, source, target, tmp_path, fmt, "--no-rescore")
    before, after = snapshot(source), snapshot(target)
    for name in IMPORT_ORDER:
        assert after[name] == before[name], name
    assert len(after["accounts"]) == 2 and all(len(after[k]) == 1 for k in IMPORT_ORDER[1:])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_of_a_scored_demo_book_through_the_cli(capsys, tmp_path, fmt) -> None:
    """The acceptance path: `csm demo`, `csm export` each kind, `csm import` each kind into an
    empty book (rescoring after each import, as a user would) → identical exports."""
    source, target = tmp_path / "demo.db", tmp_path / "copy.db"
    assert main(["demo", "--accounts", "25", "--seed", "3", "--db", str(source)]) == 0
    capsys.readouterr()
    round_trip(capsys, source, target, tmp_path, fmt)
    before, after = snapshot(source), snapshot(target)
    for name in IMPORT_ORDER:
        assert len(after[name]) == len(before[name]), name
        assert after[name] == before[name], name
        again = tmp_path / f"again-{name}.{fmt}"
        assert main(["export", name, "--db", str(target), "--format", fmt, "-o", str(again)]) == 0
        assert again.read_bytes() == (tmp_path / f"{name}.{fmt}").read_bytes(), name
    assert len(before["usage"]) > 25 and len(before["health"]) > 25 and before["alerts"]


def test_csv_export_neutralises_formulas_and_keeps_custom_columns(capsys, tmp_path) -> None:
    db = tmp_path / "book.db"
    small_book(db)
    code, out, err = csm(capsys, "export", "accounts", "--db", db)
    assert code == 0, err
    records = list(csv.DictReader(io.StringIO(out)))
    acme = records[0]
    assert acme["name"] == '\'=HYPERLINK("http://evil","Acme")'
    assert acme["owner"] == "'-Jo"
    assert acme["Region"] == "West"
    assert acme["custom.name"] == "shadow"  # would clash with the name column
    assert acme["Score"] == "-3"  # a plain number is not neutralised
    assert acme["arr"] == "12000.5"


def test_json_export_is_a_list_of_objects_written_private(capsys, tmp_path) -> None:
    db = tmp_path / "book.db"
    small_book(db)
    target = tmp_path / "accounts.json"
    code, _, err = csm(capsys, "export", "accounts", "--db", db, "-o", target)
    assert code == 0, err
    assert "Exported 2 accounts to" in err
    data = json.loads(target.read_text())
    assert isinstance(data, list) and data[0]["id"] == "A-1"
    assert data[0]["custom"]["Region"] == "West"
    assert data[0]["name"].startswith("=HYPERLINK")  # JSON is not neutralised
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_renewal_forecast(capsys, tmp_path) -> None:
    db = tmp_path / "book.db"
    small_book(db)
    code, out, err = csm(
        capsys, "export", "renewals", "--within", "90", "--format", "csv", "--db", db
    )
    assert code == 0, err
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["account_name"] == '\'=HYPERLINK("http://evil","Acme")'
    assert row["due_date"] == "2026-12-20" and row["days_left"] == "27"
    assert (row["arr"], row["health_score"], row["health_band"]) == ("12000.5", "71.5", "green")
    assert row["churn_prob"] == "0.2" and row["forecast_arr"] == "9600.4"
    assert row["csm_call"] == "likely"
    code, out, _ = csm(capsys, "export", "renewals", "--within", "20", "--db", db)
    assert code == 0 and len(out.strip().splitlines()) == 1  # only the header


def test_within_only_for_renewals(capsys, tmp_path) -> None:
    db = tmp_path / "book.db"
    small_book(db)
    code, _, err = csm(capsys, "export", "tickets", "--within", "30", "--db", db)
    assert code == 2 and "--within" in err


def test_export_from_a_missing_book_is_refused(capsys, tmp_path) -> None:
    code, _, err = csm(capsys, "export", "accounts", "--db", tmp_path / "nope.db")
    assert code == 1 and "no such book" in err
    assert not (tmp_path / "nope.db").exists()
