"""`csm check`, `csm backup`, `csm restore` and the privacy of every file they make."""

from __future__ import annotations

import ast
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from csm_tui.cli import main
from csm_tui.errors import DatabaseError
from csm_tui.storage.db import open_book
from csm_tui.storage.demo import generate_demo
from csm_tui.storage.maintenance import backup_book, check_book, restore_book
from csm_tui.storage.schema import SCHEMA_VERSION

TODAY = date(2026, 11, 23)


def _make_book(path: Path, accounts: int = 30, seed: int = 1) -> Path:
    book = open_book(path)
    try:
        generate_demo(book, accounts=accounts, seed=seed, today=TODAY)
    finally:
        book.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _corrupt(path: Path) -> None:
    """Overwrite a run of pages in the middle of the file with garbage."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2 - (size // 2) % 4096)
        fh.write(b"\xde\xad\xbe\xef" * 4096)


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    return _make_book(tmp_path / "book.db")


# -- check ------------------------------------------------------------------------------------
def test_check_passes_on_a_demo_book(demo_path: Path, capsys):
    assert main(["check", "--db", str(demo_path)]) == 0
    out = capsys.readouterr().out
    assert "Integrity: ok" in out and "Foreign keys: ok" in out and "Search index: ok" in out
    assert f"Schema: v{SCHEMA_VERSION} (current)" in out and "Accounts: 30" in out


def test_check_fails_clearly_on_a_corrupted_copy(demo_path: Path, tmp_path: Path, capsys):
    broken = tmp_path / "broken.db"
    broken.write_bytes(demo_path.read_bytes())
    _corrupt(broken)
    assert main(["check", "--db", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "problem" in err and "Traceback" not in err
    assert not check_book(broken).ok


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name,arr\nAcme,100\n" * 50, "not a csm book"),
        (b"SQLite format 3\x00" + b"\x00" * 20, "truncated"),
    ],
)
def test_check_refuses_files_that_are_not_books(tmp_path: Path, capsys, content, expected):
    path = tmp_path / "other.db"
    path.write_bytes(content)
    assert main(["check", "--db", str(path)]) == 1
    assert expected in capsys.readouterr().err
    assert path.read_bytes() == content


def test_check_reports_a_foreign_sqlite_file_and_a_newer_schema(tmp_path: Path):
    plain = tmp_path / "plain.db"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert any("not a csm book" in p for p in check_book(plain).problems)
    newer = _make_book(tmp_path / "newer.db", accounts=3)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert any("newer csm" in p for p in check_book(newer).problems)


def test_check_finds_orphaned_rows(demo_path: Path):
    conn = sqlite3.connect(demo_path)  # foreign keys are off by default on a raw connection
    conn.execute("INSERT INTO usage(account_id, date, mau) VALUES ('ACC-999999', '2026-01-01', 3)")
    conn.commit()
    conn.close()
    report = check_book(demo_path)
    assert any("usage refer to a missing accounts" in p for p in report.problems)


def test_check_of_a_missing_book_says_so(tmp_path: Path, capsys):
    assert main(["check", "--db", str(tmp_path / "nope.db")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


# -- backup -----------------------------------------------------------------------------------
def test_backup_is_a_private_copy_that_passes_check(demo_path: Path, tmp_path: Path, capsys):
    target = tmp_path / "copies" / "monday.db"
    assert main(["backup", "--db", str(demo_path), "-o", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    assert _mode(target) == 0o600
    report = check_book(target)
    assert report.ok and report.accounts == 30
    assert not Path(f"{target}-wal").exists()


def test_backup_default_name_in_the_data_dir_and_no_overwrite(demo_path: Path, isolated_env):
    result = backup_book(demo_path)
    assert result.path.parent == isolated_env / "data"
    assert result.path.name.startswith("csm-backup-20261123-") and result.path.suffix == ".db"
    second = backup_book(demo_path)
    assert second.path != result.path
    with pytest.raises(Exception, match="already exists"):
        backup_book(demo_path, result.path)


def test_backup_includes_committed_changes_still_in_the_wal(demo_path: Path, tmp_path: Path):
    book = open_book(demo_path)  # keeps the WAL un-checkpointed while open
    try:
        with book.write() as conn:
            conn.execute("INSERT INTO accounts(id, name, arr) VALUES ('NEW-1', 'Fresh Co', 10)")
        copy = backup_book(demo_path, tmp_path / "live.db")
    finally:
        book.close()
    assert copy.accounts == 31


# -- restore ----------------------------------------------------------------------------------
def test_restore_round_trip_keeps_the_previous_book(demo_path: Path, tmp_path: Path, capsys):
    backup = backup_book(demo_path, tmp_path / "saved.db").path
    book = open_book(demo_path)
    with book.write() as conn:
        conn.execute("DELETE FROM accounts WHERE id != 'ACC-000001'")
    book.close()
    Path(f"{demo_path}-wal").write_bytes(b"stale wal from another life")
    Path(f"{demo_path}-shm").write_bytes(b"stale shm")

    assert main(["restore", str(backup), "--db", str(demo_path)]) == 0
    out = capsys.readouterr().out
    assert "Kept your previous book as" in out and "Restored" in out
    assert check_book(demo_path).accounts == 30
    assert _mode(demo_path) == 0o600
    assert (
        not Path(f"{demo_path}-wal").exists()
        or b"stale" not in Path(f"{demo_path}-wal").read_bytes()
    )
    kept = list(tmp_path.glob("book.before-restore-*.db"))
    assert len(kept) == 1 and _mode(kept[0]) == 0o600
    assert check_book(kept[0]).accounts == 1


@pytest.mark.parametrize("damage", ["garbage", "corrupt", "newer", "missing"])
def test_restore_refuses_a_bad_file_and_leaves_the_book_alone(
    demo_path: Path, tmp_path: Path, capsys, damage: str
):
    bad = tmp_path / "bad.db"
    if damage == "garbage":
        bad.write_text("not a backup at all\n" * 100)
    elif damage == "corrupt":
        bad.write_bytes(demo_path.read_bytes())
        _corrupt(bad)
    elif damage == "newer":
        _make_book(bad, accounts=3)
        conn = sqlite3.connect(bad)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
    before = _digest(demo_path)
    assert main(["restore", str(bad), "--db", str(demo_path)]) == 1
    err = capsys.readouterr().err
    assert "not changed" in err and "Traceback" not in err
    assert _digest(demo_path) == before
    assert not list(tmp_path.glob("*before-restore*"))


def test_restore_refuses_while_another_process_reads_the_book(demo_path: Path, tmp_path: Path):
    backup = backup_book(demo_path, tmp_path / "saved.db").path
    book = open_book(demo_path)
    try:
        with book.write() as conn:  # leave committed frames in the WAL
            conn.execute("UPDATE accounts SET arr = arr + 1 WHERE id = 'ACC-000002'")
        with book.read() as conn:  # an open snapshot, as the app holds while it reads
            conn.execute("SELECT count(*) FROM accounts").fetchone()
            with pytest.raises(DatabaseError, match="another csm process"):
                restore_book(demo_path, backup)
    finally:
        book.close()
    assert not list(tmp_path.glob("*before-restore*"))
    assert check_book(demo_path).accounts == 30


def test_restore_into_a_missing_book_creates_it(demo_path: Path, tmp_path: Path):
    target = tmp_path / "new" / "csm.db"
    result = restore_book(target, demo_path)
    assert result.previous_copy is None and result.accounts == 30
    assert _mode(target) == 0o600


# -- privacy ----------------------------------------------------------------------------------
_UMASK_SCRIPT = """
import os, sys
os.umask(0)
os.environ["CSM_TODAY"] = "2026-11-23"
from pathlib import Path
from csm_tui.storage.db import open_book
from csm_tui.storage.maintenance import backup_book, restore_book
root = Path(sys.argv[1])
book = open_book(root / "data" / "csm.db")
with book.write() as conn:
    conn.execute("INSERT INTO accounts(id, name, arr) VALUES ('A-1', 'Acme', 10)")
modes = {p.name: oct(os.stat(p).st_mode & 0o777) for p in (root / "data").iterdir()}
backup = backup_book(root / "data" / "csm.db", root / "data" / "copy.db").path
book.close()
restore_book(root / "data" / "csm.db", backup)
for p in (root / "data").iterdir():
    modes[p.name] = oct(os.stat(p).st_mode & 0o777)
modes["dir"] = oct(os.stat(root / "data").st_mode & 0o777)
print(modes)
"""


def test_every_file_is_private_under_a_permissive_umask(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-c", _UMASK_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    modes = ast.literal_eval(result.stdout)  # a dict of file name → octal mode
    assert modes.pop("dir") == "0o700"
    assert {"csm.db", "csm.db-wal", "csm.db-shm", "copy.db"} <= set(modes)
    assert any(name.startswith("csm.before-restore-") for name in modes)
    assert set(modes.values()) == {"0o600"}, modes
    assert os.stat(tmp_path / "data" / "csm.db").st_size > 0
