"""Privacy: the book and its companions are private under any umask; failures leak no data."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.reliability.books import account_id, account_name, make_book
from tests.reliability.procs import REPO


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_book_wal_and_shm_are_0600_in_a_0700_dir_under_umask_000(tmp_path):
    data = tmp_path / "fresh" / "data"
    done = _python(
        f"""
        import json, os, stat
        os.umask(0)
        from pathlib import Path
        from csm_tui.paths import default_db_path
        from csm_tui.service.edits import log_event
        from csm_tui.storage.db import open_book
        from tests.reliability.books import seed_accounts
        book = open_book(default_db_path())
        seed_accounts(book, 2)
        log_event(book, "{account_id(1)}", "call", "umask check")
        db = default_db_path()
        files = [db, Path(f"{{db}}-wal"), Path(f"{{db}}-shm"), db.parent]
        print(json.dumps({{p.name: stat.S_IMODE(p.stat().st_mode) for p in files}}))
        book.close()
        """,
        CSM_DATA_DIR=str(data),
    )
    assert done.returncode == 0, done.stderr
    modes = json.loads(done.stdout)
    assert modes == {"csm.db": 0o600, "csm.db-wal": 0o600, "csm.db-shm": 0o600, "data": 0o700}


def test_an_existing_book_left_world_readable_is_made_private_when_opened(tmp_path):
    db = make_book(tmp_path / "book.db", 1)
    db.chmod(0o644)
    done = _python(
        f"""
        from csm_tui.cli import main
        raise SystemExit(main(["set", "--db", "{db}", "{account_id(1)}", "seats=5"]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert _mode(db) == 0o600


def test_an_unexpected_failure_shows_no_customer_data_and_no_traceback(tmp_path):
    db = make_book(tmp_path / "book.db", 2)
    name = account_name(1)
    done = _python(
        f"""
        import sqlite3
        from csm_tui import cli
        from csm_tui.service import edits

        def broken(conn, account_id):
            row = conn.execute("SELECT name, arr FROM accounts WHERE id = ?", (account_id,))
            raise RuntimeError("scoring blew up on %s %s" % tuple(row.fetchone()))

        edits._rescore = broken
        raise SystemExit(cli.main(["set", "--db", "{db}", "{name}", "owner=Pat Q. Customer"]))
        """
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "unexpected error (RuntimeError); nothing half-written" in done.stderr
    for secret in (name, "Pat Q. Customer", "Traceback", "scoring blew up"):
        assert secret not in done.stderr
    owner = _python(
        f"""
        import sqlite3
        print(sqlite3.connect("{db}").execute(
            "SELECT owner FROM accounts WHERE id = '{account_id(1)}'").fetchone()[0])
        """
    )
    assert owner.stdout.strip() == "Owner 1"  # the failed edit wrote nothing


def test_demo_model_and_backup_are_private_under_umask_000(tmp_path):
    """Every file csm writes for a book — the book, -wal, -shm, model, backup — is 0600."""
    data = tmp_path / "new-user" / "data"
    done = _python(
        """
        import json, os, stat
        os.umask(0)
        from pathlib import Path
        from csm_tui.cli import main
        from csm_tui.paths import data_dir, default_db_path, model_path_for
        from csm_tui.storage.db import open_book
        db = str(default_db_path())
        for argv in (["demo", "--accounts", "100"], ["model", "train"], ["backup"]):
            assert main([*argv, "--db", db]) == 0, argv
        book = open_book(default_db_path())  # hold it open: -wal and -shm exist now
        found = [p for p in data_dir().rglob("*")] + [data_dir()]
        print(json.dumps({str(p.relative_to(data_dir().parent)): stat.S_IMODE(p.stat().st_mode)
                          for p in found}))
        book.close()
        """,
        CSM_DATA_DIR=str(data),
    )
    assert done.returncode == 0, done.stderr
    modes = json.loads(done.stdout.strip().splitlines()[-1])
    backups = [name for name in modes if name.startswith("data/csm-backup-")]
    assert len(backups) == 1
    assert modes == {
        "data": 0o700,
        "data/csm.db": 0o600,
        "data/csm.db-wal": 0o600,
        "data/csm.db-shm": 0o600,
        "data/csm.model.pkl": 0o600,
        backups[0]: 0o600,
    }
