"""Several processes on one book at once: no lock error reaches a user, no update is lost."""

from __future__ import annotations

import json
import sqlite3
import sys

from csm_tui.service.edits import log_event
from csm_tui.storage.db import open_book
from tests.reliability.books import account_id, make_book, write_accounts_csv
from tests.reliability.procs import (
    FIGURES,
    assert_book_valid,
    count_user_visible_lock_errors,
    csm_argv,
    run_csm,
    spawn,
)

LOOPS = 3
EDITS_PER_LOOP = 30
CLI_LOGS = 2


def _edit_loop(db, tag: str, accounts: list[str]):
    argv = ["-m", "tests.reliability.edit_loop", str(db), str(EDITS_PER_LOOP), tag, *accounts]
    return spawn([sys.executable, *argv])


def _cli_log_loop(db, account: str, tag: str):
    log = " ".join(csm_argv("log", "--db", str(db), account, "--kind", "email"))
    script = f'for i in $(seq {CLI_LOGS}); do {log} --text "{tag} $i" || exit 3; done'
    return spawn(["sh", "-c", script])


def _finish(procs) -> list[tuple[str, str]]:
    """Wait for every child; each must succeed and show the user no lock error."""
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        seen = count_user_visible_lock_errors(out, err)
        FIGURES.lock_errors_seen += seen
        assert proc.returncode == 0 and seen == 0, err
        outputs.append((out, err))
    return outputs


def test_edit_loops_and_cli_logs_at_once_lose_nothing(tmp_path):
    db = make_book(tmp_path / "book.db", 6)
    accounts = [account_id(i) for i in range(1, 7)]
    events_before = _scalar(db, "SELECT count(*) FROM events")
    procs = [_edit_loop(db, f"loop{n}", accounts) for n in range(LOOPS)]
    procs += [_cli_log_loop(db, accounts[n], f"cli{n}") for n in range(2)]
    outputs = _finish(procs)

    acked = [
        line.split()[1]
        for out, _ in outputs[:LOOPS]
        for line in out.splitlines()
        if line.startswith("ACK ")
    ]
    logged = [
        line.split()[2]
        for out, _ in outputs[LOOPS:]
        for line in out.splitlines()
        if line.startswith("Logged ")
    ]
    FIGURES.acknowledged_edits += len(acked) + len(logged)
    assert len(acked) == LOOPS * (EDITS_PER_LOOP - EDITS_PER_LOOP // 5)
    assert len(logged) == 2 * CLI_LOGS
    present = {r[0] for r in _rows(db, "SELECT id FROM events")}
    lost = [e for e in acked + logged if e not in present]
    FIGURES.lost_edits += len(lost)
    assert lost == []
    assert _scalar(db, "SELECT count(*) FROM events") == events_before + len(acked) + len(logged)
    _assert_no_lost_custom_updates(db, accounts)


def _assert_no_lost_custom_updates(db, accounts: list[str]) -> None:
    """Every loop rewrote the same JSON column; each loop's last value must have survived."""
    expected: dict[str, dict[str, int]] = {a: {} for a in accounts}
    for n in range(LOOPS):
        for i in range(5, EDITS_PER_LOOP + 1, 5):
            expected[accounts[i % len(accounts)]][f"loop{n}"] = i
    for account, keys in expected.items():
        custom = json.loads(_scalar(db, "SELECT custom FROM accounts WHERE id = ?", account))
        assert {k: custom.get(k) for k in keys} == keys


def test_an_open_book_notices_another_process_writing(tmp_path):
    """The app polls `PRAGMA data_version`: it changes when another process commits."""
    db = make_book(tmp_path / "book.db", 2)
    book = open_book(db)
    try:
        version = book.data_version()
        outside = run_csm("log", "--db", str(db), account_id(1), "--kind", "call", "--text", "x")
        assert outside.returncode == 0, outside.stderr
        assert book.data_version() != version
        changed = book.data_version()
        log_event(book, account_id(1), "note", "our own write")
        assert book.data_version() == changed  # our own commits do not count as "outside"
    finally:
        book.close()


def _rows(db, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _scalar(db, sql: str, *params):
    return _rows(db, sql, *params)[0][0]


def test_edits_an_import_and_a_full_rescore_at_once(tmp_path):
    db = make_book(tmp_path / "book.db", 200)
    csv = write_accounts_csv(tmp_path / "accounts.csv", 1500)
    accounts = [account_id(i) for i in range(1, 201, 13)]
    procs = [_edit_loop(db, f"loop{n}", accounts) for n in range(2)]
    procs += [_cli_log_loop(db, accounts[0], "cli")]
    procs += [spawn(csm_argv("import", str(csv), "--db", str(db)))]
    procs += [spawn(csm_argv("score", "--db", str(db)))]
    outputs = _finish(procs)

    acked = [
        line.split()[1]
        for out, _ in outputs[:2]
        for line in out.splitlines()
        if line.startswith("ACK ")
    ]
    acked += [line.split()[2] for line in outputs[2][0].splitlines() if line.startswith("Logged ")]
    FIGURES.acknowledged_edits += len(acked)
    assert _scalar(db, "SELECT count(*) FROM accounts") == 200 + 1500
    export = run_csm("export", "timeline", "--format", "json", "--db", str(db))
    assert export.returncode == 0, export.stderr
    exported = {row["id"] for row in json.loads(export.stdout)}
    lost = [e for e in acked if e not in exported]
    FIGURES.lost_edits += len(lost)
    assert lost == [] and len(acked) == 2 * (EDITS_PER_LOOP - EDITS_PER_LOOP // 5) + CLI_LOGS
    assert_book_valid(db)
