"""`csm report …` from the command line: output, files, JSON keys and errors."""

from __future__ import annotations

import json
import stat

from csm_tui.cli import main

METRIC_KEYS = {
    "grr", "nrr", "logo_churn", "retention", "nps", "renewal_success", "csat",
    "health_distribution", "expansion_rate", "save_rate", "time_to_value",
}  # fmt: skip


def test_portfolio_json_has_every_metric_with_how_it_was_made(demo_path, capsys) -> None:
    assert main(["report", "portfolio", "--db", str(demo_path), "--period", "2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"label": "2026", "start": "2026-01-01", "end": "2026-12-31"}
    assert METRIC_KEYS <= set(data)
    for key in METRIC_KEYS:
        assert {"value", "numerator", "denominator", "status"} <= set(data[key]), key
    grr = data["grr"]
    assert grr["value"] == round(100 * grr["numerator"] / grr["denominator"], 2)
    assert data["grr"]["detail"]["start_arr"] == grr["denominator"]
    segments = data["nps_by"]["segment"]
    assert sum(g["responses"] for g in segments) == data["nps"]["denominator"]
    assert set(data["nps_by"]) == {"segment", "tier", "owner"}


def test_portfolio_json_matches_the_database(demo_path, demo_book, capsys) -> None:
    main(["report", "portfolio", "--db", str(demo_path), "--period", "2026", "--json"])
    data = json.loads(capsys.readouterr().out)
    start_arr, churned = demo_book.query(
        "SELECT sum(arr_before), sum(CASE WHEN outcome = 'churned' THEN arr_before ELSE 0 END) "
        "FROM renewals WHERE outcome IS NOT NULL AND due_date BETWEEN '2026-01-01' AND '2026-12-31'"
    )[0]
    assert data["grr"]["detail"]["start_arr"] == round(start_arr, 2)
    assert data["grr"]["detail"]["churned_arr"] == round(churned, 2)


def test_qbr_to_a_private_file(demo_path, demo_book, tmp_path, capsys) -> None:
    aid, name = tuple(demo_book.query("SELECT id, name FROM accounts LIMIT 1")[0])
    target = tmp_path / "out" / "qbr.md"
    assert main(["report", "qbr", name, "--db", str(demo_path), "-o", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().startswith(f"# Quarterly Business Review: {name}")
    assert str(target) in capsys.readouterr().err


def test_success_plan_prints_to_stdout(demo_path, demo_book, capsys) -> None:
    aid = demo_book.scalar("SELECT id FROM accounts LIMIT 1")
    assert main(["report", "success-plan", aid, "--db", str(demo_path)]) == 0
    assert capsys.readouterr().out.startswith("# Customer Success Plan: ")


def test_unknown_account_and_bad_period_are_clear_errors(demo_path, capsys) -> None:
    assert main(["report", "qbr", "No Such Co", "--db", str(demo_path)]) == 1
    assert "no account has the id or name 'No Such Co'" in capsys.readouterr().err
    assert main(["report", "portfolio", "--period", "2026-Q7", "--db", str(demo_path)]) != 0
    err = capsys.readouterr().err
    assert "period '2026-Q7'" in err and "Traceback" not in err


def test_portfolio_markdown_names_the_period_and_metrics(demo_path, capsys) -> None:
    assert main(["report", "portfolio", "--db", str(demo_path), "--period", "last-quarter"]) == 0
    out = capsys.readouterr().out
    assert "- 2026-Q3" in out.splitlines()[0]
    for heading in ("## Metrics", "## NPS by Segment, Tier and Owner", "## Top 10 Risk Accounts", "## Renewals Due in the Next 90 Days",
                    "## Save-Plan Outcomes"):  # fmt: skip
        assert heading in out
    assert "None" not in out and "nan" not in out


def test_portfolio_of_an_empty_book_says_no_data(db_path, capsys) -> None:
    from csm_tui.storage.db import open_book

    open_book(db_path).close()
    assert main(["report", "portfolio", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "GRR and NRR have no data" in out and "| GRR | no data |" in out
    assert "None" not in out and "nan" not in out
    assert main(["report", "portfolio", "--db", str(db_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nps"]["value"] is None and data["nps"]["status"] == "no data"


def test_unwritable_output_is_a_clear_error(demo_path, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "qbr.md"
    assert main(["report", "portfolio", "--db", str(demo_path), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "cannot write the report" in err and "Traceback" not in err
    assert not target.exists()
