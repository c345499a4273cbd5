"""The edit service: one durable transaction per edit, validated first, rescored inside it."""

from __future__ import annotations

import json

import pytest

from csm_tui.cli import main
from csm_tui.errors import NotFound, UsageError, ValidationError
from csm_tui.service import edits
from csm_tui.service.edits import add_note, log_event, record_response, update_account
from tests.reliability.books import account_id, account_name, seed_accounts

A1 = account_id(1)


@pytest.fixture
def seeded(book):
    """A book of 6 accounts with contacts, usage, tickets, events and NPS."""
    seed_accounts(book, 6)
    return book


def _row(book, sql, *params):
    rows = book.query(sql, params)
    return rows[0] if rows else None


def _snapshot(book) -> dict[str, list[tuple]]:
    """Every table's rows, to show that a refused edit wrote nothing at all."""
    tables = ("accounts", "contacts", "events", "responses", "alerts", "health")
    return {t: [tuple(r) for r in book.query(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


# -- update_account -----------------------------------------------------------------------------
def test_update_changes_fields_and_reports_old_and_new(seeded):
    old_arr = _row(seeded, "SELECT arr FROM accounts WHERE id = ?", A1)[0]
    result = update_account(seeded, A1, {"arr": "52k", "stage": "Renewal", "custom.region": "EU"})
    assert result.account_id == A1 and result.account_name == account_name(1)
    assert result.changed["arr"] == (old_arr, 52000.0)
    assert result.changed["stage"] == ("adoption", "renewal")
    assert result.changed["custom.region"] == (None, "EU")
    row = _row(seeded, "SELECT arr, stage, custom FROM accounts WHERE id = ?", A1)
    assert (row["arr"], row["stage"], json.loads(row["custom"])) == (
        52000.0,
        "renewal",
        {"region": "EU"},
    )


def test_a_value_already_stored_is_not_reported_as_changed(seeded):
    result = update_account(seeded, A1, {"stage": "adoption", "seats": "999"})
    assert list(result.changed) == ["seats"]


def test_one_bad_value_refuses_the_whole_edit_and_writes_nothing(seeded):
    before = _snapshot(seeded)
    with pytest.raises(ValidationError) as caught:
        update_account(seeded, A1, {"arr": "60000", "renewal_date": "2027-02-30"})
    assert caught.value.field == "renewal_date"
    assert _snapshot(seeded) == before


def test_champion_left_marks_every_active_champion_gone_today(seeded):
    update_account(seeded, A1, {"champion": "Second Champion"})
    result = update_account(seeded, A1, {"champion_left": "yes"})
    assert result.changed["champion_left"] == ("Champion 1, Second Champion", None)
    rows = seeded.query(
        "SELECT active, left_on FROM contacts WHERE account_id = ? AND role = 'champion'", (A1,)
    )
    assert [tuple(r) for r in rows] == [(0, "2026-11-23"), (0, "2026-11-23")]
    sponsor = _row(seeded, "SELECT active FROM contacts WHERE id = 'CT-0001-S'")
    assert sponsor[0] == 1
    texts = [
        r[0]
        for r in seeded.query(
            "SELECT text FROM events WHERE account_id = ? AND kind = 'system'", (A1,)
        )
    ]
    assert "Champion left: Champion 1, Second Champion" in texts


def test_departure_with_no_one_in_that_role_is_refused_and_nothing_written(seeded):
    update_account(seeded, A1, {"sponsor_left": "yes"})
    before = _snapshot(seeded)
    with pytest.raises(ValidationError, match="no active sponsor on record; add one with sponsor="):
        update_account(seeded, A1, {"arr": "1", "sponsor_left": "yes"})
    assert _snapshot(seeded) == before


def test_champion_left_and_a_new_champion_in_one_edit_replaces_the_champion(seeded):
    update_account(seeded, A1, {"champion_left": "yes", "champion": "Jo Park"})
    active = seeded.query(
        "SELECT name FROM contacts WHERE account_id = ? AND role = 'champion' AND active = 1", (A1,)
    )
    assert [r[0] for r in active] == ["Jo Park"]


def test_naming_a_former_contact_as_sponsor_reactivates_them(seeded):
    update_account(seeded, A1, {"sponsor_left": "yes"})
    result = update_account(seeded, A1, {"sponsor": "sponsor 1"})
    assert result.changed["sponsor"] == (None, "sponsor 1")
    row = _row(seeded, "SELECT active, left_on FROM contacts WHERE id = 'CT-0001-S'")
    assert tuple(row) == (1, None)
    assert seeded.scalar("SELECT count(*) FROM contacts WHERE account_id = ?", (A1,)) == 2


def test_custom_attributes_merge_and_an_empty_value_removes_one(seeded):
    update_account(seeded, A1, {"custom.region": "EU", "custom.employees": "250"})
    result = update_account(seeded, A1, {"custom.region": ""})
    assert result.changed == {"custom.region": ("EU", None)}
    custom = seeded.scalar("SELECT custom FROM accounts WHERE id = ?", (A1,))
    assert json.loads(custom) == {"employees": 250}


def test_renaming_reports_the_new_name(seeded):
    result = update_account(seeded, A1, {"name": "Acme Renamed"})
    assert result.account_name == "Acme Renamed"
    assert update_account(seeded, "Acme Renamed", {"seats": "5"}).account_id == A1


# -- finding the account ------------------------------------------------------------------------
def test_an_account_is_found_by_id_or_exact_name_in_any_case(seeded):
    assert update_account(seeded, account_name(2).upper(), {"seats": "7"}).account_id == (
        account_id(2)
    )


def test_an_unknown_account_is_refused_with_look_alikes(seeded):
    with pytest.raises(NotFound) as caught:
        update_account(seeded, "Zephyrine Holdings 00", {"seats": "7"})
    assert "no account has the id or name 'Zephyrine Holdings 00'" in caught.value.message
    assert "did you mean" in caught.value.message and account_id(1) in caught.value.message


def test_a_name_shared_by_two_accounts_asks_for_the_id(seeded):
    update_account(seeded, account_id(2), {"name": account_name(1)})
    with pytest.raises(UsageError, match=f"2 accounts are named .*{A1}, {account_id(2)}"):
        update_account(seeded, account_name(1), {"seats": "7"})


# -- log_event, add_note, record_response -------------------------------------------------------
def test_log_event_adds_the_event_and_counts_as_a_touch(seeded):
    result = log_event(seeded, A1, "Call", "Renewal pricing discussed", at="2026-11-22 15:30")
    row = _row(
        seeded, "SELECT account_id, at, kind, text FROM events WHERE id = ?", result.event_id
    )
    assert tuple(row) == (A1, "2026-11-22T15:30:00", "call", "Renewal pricing discussed")
    touch = seeded.scalar("SELECT last_touch_at FROM accounts WHERE id = ?", (A1,))
    assert touch >= "2026-11-22T15:30:00"


def test_a_note_is_an_event_but_not_a_touch(seeded):
    update_account(seeded, A1, {"seats": "50"})  # scored: last touch = the seeded call
    touch_before = seeded.scalar("SELECT last_touch_at FROM accounts WHERE id = ?", (A1,))
    result = add_note(seeded, A1, "Remember: budget freeze in Q1")
    assert seeded.scalar("SELECT kind FROM events WHERE id = ?", (result.event_id,)) == "note"
    assert seeded.scalar("SELECT last_touch_at FROM accounts WHERE id = ?", (A1,)) == touch_before


@pytest.mark.parametrize(
    ("kind", "text", "at", "error", "words"),
    [
        ("sms", "hi", None, UsageError, "valid kinds are call, meeting, email, note, qbr"),
        ("system", "hi", None, UsageError, "unknown kind 'system'"),
        ("call", "   ", None, ValidationError, "text: is empty"),
        ("call", "x" * 100_001, None, ValidationError, "at most 100,000"),
        ("call", "hi", "2026-02-30", ValidationError, "at: '2026-02-30' is not a real date"),
        ("call", "hi", "next tuesday", ValidationError, "at: 'next tuesday' is not a date"),
    ],
)
def test_bad_log_input_is_refused_and_nothing_written(seeded, kind, text, at, error, words):
    before = _snapshot(seeded)
    with pytest.raises(error, match=words):
        log_event(seeded, A1, kind, text, at=at)
    assert _snapshot(seeded) == before


def test_record_response_stores_an_nps_or_csat(seeded):
    result = record_response(seeded, A1, "4", comment="Slow support", contact_id="CT-0001-C")
    row = _row(
        seeded,
        "SELECT kind, score, comment, date, contact_id FROM responses WHERE id = ?",
        result.event_id,
    )
    assert tuple(row) == ("nps", 4.0, "Slow support", "2026-11-23", "CT-0001-C")
    result = record_response(seeded, A1, 5, kind="csat", date="2026-11-01")
    assert seeded.scalar("SELECT date FROM responses WHERE id = ?", (result.event_id,)) == (
        "2026-11-01"
    )


@pytest.mark.parametrize(
    ("score", "kind", "contact", "words"),
    [
        ("11", "nps", None, "score: 11 is out of range; nps is a whole 0–10"),
        ("7.5", "nps", None, "whole 0–10"),
        ("0", "csat", None, "csat is a whole 1–5"),
        ("ten", "nps", None, "not a number"),
        ("9", "ces", None, "unknown response kind"),
        ("9", "nps", "CT-0002-C", "CT-0002-C is not a contact of"),
    ],
)
def test_bad_responses_are_refused(seeded, score, kind, contact, words):
    before = _snapshot(seeded)
    with pytest.raises((ValidationError, UsageError), match=words):
        record_response(seeded, A1, score, kind=kind, contact_id=contact)
    assert _snapshot(seeded) == before


# -- the transaction ----------------------------------------------------------------------------
def test_rescore_runs_inside_the_durable_edit_transaction(seeded, monkeypatch):
    seen = {}
    real = edits._rescore

    def spy(conn, aid):
        seen["in_transaction"] = conn.in_transaction
        seen["synchronous"] = conn.execute("PRAGMA synchronous").fetchone()[0]
        seen["edit_visible"] = conn.execute(
            "SELECT seats FROM accounts WHERE id = ?", (aid,)
        ).fetchone()[0]
        return real(conn, aid)

    monkeypatch.setattr(edits, "_rescore", spy)
    update_account(seeded, A1, {"seats": "321"})
    assert seen == {"in_transaction": True, "synchronous": 2, "edit_visible": 321}  # 2 = FULL


def test_a_failing_rescore_rolls_the_edit_back(seeded, monkeypatch):
    def broken(conn, aid):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(edits, "_rescore", broken)
    before = _snapshot(seeded)
    with pytest.raises(RuntimeError):
        log_event(seeded, A1, "call", "will not be kept")
    with pytest.raises(RuntimeError):
        update_account(seeded, A1, {"champion_left": "yes", "arr": "1"})
    assert _snapshot(seeded) == before
    assert not seeded.conn.in_transaction


def test_the_edit_is_rescored_and_the_result_says_so_in_words(seeded):
    update_account(seeded, A1, {"seats": "100"})  # a first score to compare against
    result = update_account(seeded, A1, {"champion_left": "yes", "sponsor_left": "yes"})
    assert result.after is not None
    assert result.after.band in ("green", "yellow", "red", "insufficient")
    stored = _row(seeded, "SELECT health_score, health_band FROM scored_accounts WHERE id = ?", A1)
    assert (stored[0], stored[1]) == (result.after.score, result.after.band)
    assert result.summary().startswith("Health ")
    data = json.loads(json.dumps(result.to_dict(), default=str))
    assert data["changed"]["champion_left"] == {"old": "Champion 1", "new": None}
    assert data["after"]["band"] == result.after.band


def test_summary_words_for_scores_and_alerts():
    class Alert:
        rule, severity, reason = "champion_left", "high", "Champion 1 left"

    class After:
        score, band, alerts_opened, alerts_cleared = 58.2, "yellow", [Alert()], []

    result = edits.EditResult(
        A1,
        "Acme",
        {},
        None,
        edits.ScoreSummary(71.0, "green", 0.1),
        After(),
        alerts_opened=[Alert()],
    )
    assert result.summary() == "Health 71 → 58 (yellow); alert opened: champion left"
    assert result.to_dict()["alerts_opened"] == [
        {"rule": "champion_left", "severity": "high", "reason": "Champion 1 left"}
    ]
    result.before = edits.ScoreSummary(58.4, "yellow", None)
    result.alerts_opened = []
    result.alerts_cleared = [Alert(), Alert()]
    assert result.summary() == (
        "Health 58 (yellow, unchanged); alerts cleared: champion left, champion left"
    )


# -- the CLI ------------------------------------------------------------------------------------
@pytest.fixture
def book_file(seeded):
    return str(seeded.path)


def test_csm_set_prints_what_changed(book_file, capsys):
    assert main(["set", "--db", book_file, A1, "arr=61000", "champion=Jo Park"]) == 0
    out = capsys.readouterr().out
    assert f"Saved {account_name(1)} ({A1}):" in out
    assert "arr: " in out and "→ 61000.0" in out and "champion: (none) → Jo Park" in out


def test_csm_log_json_gives_the_event_id(book_file, capsys):
    assert (
        main(["log", "--db", book_file, A1, "--kind", "meeting", "--text", "QBR prep", "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["event_id"].startswith("EV-") and data["account_id"] == A1


def test_csm_log_reads_text_from_stdin(book_file, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Notes from the hook\nline two\n"))
    assert main(["log", "--db", book_file, A1, "--kind", "note", "--text", "-"]) == 0
    assert "Logged note EV-" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["set", A1, "arr"], 2, "'arr' is not FIELD=VALUE"),
        (["set", A1, "arr=1", "arr=2"], 2, "arr is given twice"),
        (["set", A1, "arr=-1"], 1, "csm: arr: -1 is negative"),
        (["set", A1, "colour=red"], 1, "csm: colour: unknown field; valid fields are name,"),
        (["set", "Nobody Inc", "arr=1"], 1, "csm: no account has the id or name 'Nobody Inc'"),
        (["log", A1, "--kind", "fax", "--text", "x"], 2, "unknown kind 'fax'; valid kinds"),
    ],
)
def test_bad_cli_edits_exit_non_zero_with_one_clear_line(book_file, capsys, argv, code, words):
    assert main([argv[0], "--db", book_file, *argv[1:]]) == code
    captured = capsys.readouterr()
    assert words in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_an_edit_never_creates_a_missing_book(tmp_path, capsys):
    missing = tmp_path / "nope.db"
    assert main(["set", "--db", str(missing), A1, "arr=1"]) == 1
    assert "no such book" in capsys.readouterr().err
    assert not missing.exists()
