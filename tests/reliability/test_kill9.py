"""kill -9 at random moments: no acknowledged edit is ever lost, nothing is ever half-written.

Each round starts a real child process, lets it work for a random time and SIGKILLs it; the
book it leaves must hold every edit the child acknowledged (printed after COMMIT), pass
SQLite's integrity check and `csm check`, and show an import or full rescore either wholly
applied or not at all.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import time

from tests.reliability.books import account_id, make_book, write_accounts_csv
from tests.reliability.procs import (
    FIGURES,
    assert_book_valid,
    count_user_visible_lock_errors,
    csm_argv,
    kill_after,
    kill_each_at,
    kill_once_writing,
    random_delays,
    run_csm,
    spawn,
)

EDIT_ROUNDS = 10
CLI_ROUNDS = 3


def _complete_lines(out: str) -> list[str]:
    """Lines the child finished writing (a line cut by the kill is not an acknowledgement)."""
    lines = out.split("\n")
    return [line for line in lines[:-1] if line]


def _acknowledged(out: str) -> tuple[list[str], dict[tuple[str, str], int]]:
    """Event ids acknowledged by `ACK`, and the last value acknowledged per (account, key)."""
    events, sets = [], {}
    for line in _complete_lines(out):
        word, _, rest = line.partition(" ")
        if word == "ACK":
            events.append(rest)
        elif word == "SET":
            account, _, assignment = rest.partition(" ")
            key, _, value = assignment.partition("=")
            sets[(account, key.removeprefix("custom."))] = int(value)
    return events, sets


def _missing_edits(db, events: list[str], sets: dict[tuple[str, str], int]) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        present = {r[0] for r in conn.execute("SELECT id FROM events")}
        missing = [e for e in events if e not in present]
        for (account, key), value in sets.items():
            custom = json.loads(
                conn.execute("SELECT custom FROM accounts WHERE id = ?", (account,)).fetchone()[0]
            )
            if custom.get(key, -1) < value:  # a later, unacknowledged edit may have committed
                missing.append(f"{account} custom.{key}={value}")
        return missing
    finally:
        conn.close()


def test_kill9_during_edit_loops_loses_no_acknowledged_edit(tmp_path):
    db = make_book(tmp_path / "book.db", 8)
    accounts = [account_id(i) for i in range(1, 9)]
    rng = random.Random(20261123)
    total_acked = 0
    for round_no, delay in enumerate(random_delays(rng, EDIT_ROUNDS, 0.0, 0.8)):
        loop = ["-m", "tests.reliability.edit_loop", str(db), "0", f"r{round_no}", *accounts]
        proc = spawn([sys.executable, *loop])
        assert proc.stdout.readline() == "READY\n", proc.stderr.read()
        time.sleep(delay)
        out, err, killed = kill_after(proc, 0)
        assert killed, err
        events, sets = _acknowledged(out)
        total_acked += len(events) + len(sets)
        missing = _missing_edits(db, events, sets)
        FIGURES.rounds_killed += 1
        FIGURES.acknowledged_edits += len(events) + len(sets)
        FIGURES.lost_edits += len(missing)
        FIGURES.lock_errors_seen += count_user_visible_lock_errors(out, err)
        assert missing == [], f"round {round_no}: acknowledged but lost: {missing}"
        assert count_user_visible_lock_errors(out, err) == 0, err
        assert_book_valid(db)
    assert total_acked > EDIT_ROUNDS  # the kills landed while edits were being made


def test_kill9_of_csm_log_loops_loses_no_acknowledged_event(tmp_path):
    """The real command, in a shell loop, killed as a group mid-invocation."""
    db = make_book(tmp_path / "book.db", 4)
    rng = random.Random(7)
    log = " ".join(csm_argv("log", "--db", str(db), account_id(1), "--kind", "note"))
    script = f'i=0; while true; do i=$((i+1)); {log} --text "loop note $i" || exit 3; done'
    for delay in random_delays(rng, CLI_ROUNDS, 1.0, 2.5):
        proc = spawn(["sh", "-c", script])
        out, err, killed = kill_after(proc, delay)
        assert killed, err
        # `csm log` prints "Logged note EV-… on …" only after its commit: that is the ack
        ids = [line.split()[2] for line in _complete_lines(out) if line.startswith("Logged ")]
        missing = _missing_edits(db, ids, {})
        FIGURES.rounds_killed += 1
        FIGURES.acknowledged_edits += len(ids)
        FIGURES.lost_edits += len(missing)
        FIGURES.lock_errors_seen += count_user_visible_lock_errors(out, err)
        assert missing == [] and count_user_visible_lock_errors(out, err) == 0, err
        assert_book_valid(db)


# -- imports and full rescores: all or nothing ----------------------------------------------------
IMPORT_ROUNDS = 6
RESCORE_ROUNDS = 6
NEW_ACCOUNTS = 3000


def _count(db, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_kill9_during_imports_leaves_all_or_nothing(tmp_path):
    base = make_book(tmp_path / "base.db", 5)
    csv = write_accounts_csv(tmp_path / "accounts.csv", NEW_ACCOUNTS)
    full = tmp_path / "full.db"
    shutil.copyfile(base, full)
    started = time.monotonic()
    done = run_csm("import", str(csv), "--db", str(full))
    whole_run = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert _count(full, "SELECT count(*) FROM accounts") == 5 + NEW_ACCOUNTS
    rng = random.Random(11)
    outcomes = {"unchanged": 0, "applied": 0}
    for round_no, delay in enumerate(random_delays(rng, IMPORT_ROUNDS, 0.2, whole_run * 1.1)):
        db = tmp_path / f"round{round_no}.db"
        shutil.copyfile(base, db)
        proc = spawn(csm_argv("import", str(csv), "--db", str(db)))
        if round_no % 2:  # half the rounds: a random moment of the whole run
            out, err, killed = kill_after(proc, delay)
        else:  # the other half: while it writes its commit
            out, err, killed = kill_once_writing(proc, db, delay / whole_run * 0.05)
        accounts = _count(db, "SELECT count(*) FROM accounts")
        half_written = accounts not in (5, 5 + NEW_ACCOUNTS)
        FIGURES.rounds_killed += killed
        FIGURES.imports_killed += killed
        FIGURES.imports_half_written += half_written
        FIGURES.lock_errors_seen += count_user_visible_lock_errors(out, err)
        assert not half_written, f"round {round_no}: {accounts} accounts after a killed import"
        outcomes["unchanged" if accounts == 5 else "applied"] += 1
        assert_book_valid(db)
    FIGURES.notes.append(
        f"imports ({NEW_ACCOUNTS} accounts) after kill -9: {outcomes['unchanged']} unchanged, "
        f"{outcomes['applied']} fully applied, 0 in between"
    )


def test_kill9_during_full_rescores_leaves_all_or_nothing(tmp_path):
    n = 1500
    base = make_book(tmp_path / "base.db", n)
    full = tmp_path / "full.db"
    shutil.copyfile(base, full)
    started = time.monotonic()
    done = run_csm("score", "--db", str(full))
    whole_run = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    scored_sql = "SELECT count(*) FROM scored_accounts WHERE scored_at IS NOT NULL"
    # today's snapshots: the full rescore's blocks (plus any single rows)
    health_sql = (
        "SELECT (SELECT coalesce(sum(json_array_length(ids)), 0) FROM health_blocks "
        "WHERE date = '2026-11-23') + (SELECT count(*) FROM health WHERE date = '2026-11-23')"
    )
    assert (_count(full, scored_sql), _count(full, health_sql)) == (n, n)
    rng = random.Random(12)
    outcomes = {"unchanged": 0, "applied": 0}
    for round_no, delay in enumerate(random_delays(rng, RESCORE_ROUNDS, 0.2, whole_run * 1.1)):
        db = tmp_path / f"round{round_no}.db"
        shutil.copyfile(base, db)
        proc = spawn(csm_argv("score", "--db", str(db)))
        if round_no % 2:
            out, err, killed = kill_after(proc, delay)
        else:
            out, err, killed = kill_once_writing(proc, db, delay / whole_run * 0.05)
        state = (_count(db, scored_sql), _count(db, health_sql))
        half_written = state not in ((0, 0), (n, n))
        FIGURES.rounds_killed += killed
        FIGURES.rescores_killed += killed
        FIGURES.rescores_half_written += half_written
        FIGURES.lock_errors_seen += count_user_visible_lock_errors(out, err)
        assert not half_written, f"round {round_no}: (scored, health rows) = {state}"
        outcomes["unchanged" if state == (0, 0) else "applied"] += 1
        assert_book_valid(db)
    FIGURES.notes.append(
        f"full rescores ({n} accounts) after kill -9: {outcomes['unchanged']} unchanged, "
        f"{outcomes['applied']} fully applied, 0 in between"
    )


# -- everything at once, killed at random -------------------------------------------------------
MIXED_ROUNDS = 3


def test_kill9_of_log_loops_an_import_and_a_rescore_running_at_once(tmp_path):
    """The issue's own check: every acknowledged event is in `csm export timeline`."""
    db = make_book(tmp_path / "book.db", 300)
    csv = write_accounts_csv(tmp_path / "accounts.csv", 2000)
    rng = random.Random(13)
    acked: list[str] = []
    imports_done = 0
    for round_no in range(MIXED_ROUNDS):
        accounts_before = _count(db, "SELECT count(*) FROM accounts")
        log = " ".join(csm_argv("log", "--db", str(db), account_id(1 + round_no), "--kind", "call"))
        loop = f'i=0; while true; do i=$((i+1)); {log} --text "mixed {round_no} $i" || exit 3; done'
        procs = [spawn(["sh", "-c", loop]) for _ in range(2)]
        edit_loop = ["-m", "tests.reliability.edit_loop", str(db), "0", f"m{round_no}"]
        procs.append(spawn([sys.executable, *edit_loop, account_id(9), account_id(10)]))
        procs.append(spawn(csm_argv("import", str(csv), "--db", str(db))))
        procs.append(spawn(csm_argv("score", "--db", str(db))))
        outputs = kill_each_at(procs, [rng.uniform(1.5, 5.0) for _ in procs])
        for out, _ in outputs[:2]:
            acked += [
                line.split()[2] for line in _complete_lines(out) if line.startswith("Logged ")
            ]
        events, sets = _acknowledged(outputs[2][0])
        assert _missing_edits(db, [], sets) == []
        acked += events
        accounts = _count(db, "SELECT count(*) FROM accounts")
        imports_done += accounts == 2300 and accounts_before != 2300
        FIGURES.rounds_killed += 1
        FIGURES.mixed_rounds_killed += 1
        FIGURES.lock_errors_seen += sum(count_user_visible_lock_errors(*o) for o in outputs)
        assert accounts in (accounts_before, 2300), f"a half-written import: {accounts}"
        assert sum(count_user_visible_lock_errors(*o) for o in outputs) == 0, outputs
        assert_book_valid(db)
    export = run_csm("export", "timeline", "--format", "json", "--db", str(db))
    assert export.returncode == 0, export.stderr
    exported = {row["id"] for row in json.loads(export.stdout)}
    lost = [e for e in acked if e not in exported]
    FIGURES.acknowledged_edits += len(acked)
    FIGURES.lost_edits += len(lost)
    FIGURES.notes.append(
        f"log loops + import + rescore at once: {MIXED_ROUNDS} rounds, {len(acked)} events "
        f"acknowledged, all in `csm export timeline`; new accounts imported whole in "
        f"{imports_done} round(s), never in part"
    )
    assert lost == [] and acked
