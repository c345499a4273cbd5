"""Bad databases: each edit is refused with one clear line, exit 1, and the file left as it was.

Read-only: the tests run as root, for whom file permissions do not stop writes, so the real
case is made with a read-only bind mount of the book's directory (EROFS, which stops root
too); a second test covers a 0400 file for an ordinary user by answering `os.access` as the
kernel would for them. Full disk: a real 2 MB tmpfs filled to the last byte; a second test
uses SQLite's `max_page_count` to make the same "disk is full" happen inside one process.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from csm_tui.cli import main
from csm_tui.storage.db import open_book
from tests.reliability.books import account_id, account_name, make_book, write_accounts_csv
from tests.reliability.procs import assert_book_valid, run_csm

A1 = account_id(1)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edit(capsys, db: Path, *changes: str) -> tuple[int, str, str]:
    code = main(["set", "--db", str(db), A1, *(changes or ("arr=1",))])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_refused(code: int, out: str, err: str, words: str) -> None:
    assert code == 1
    assert out == ""
    assert err.startswith("csm: ") and words in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def good_book(tmp_path) -> Path:
    return make_book(tmp_path / "book.db", 3)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"id,name\nACC-1,Acme\n", "is not a csm book (not an SQLite database file)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "is not a csm book"),
        (b"SQLite format 3\x00\x10\x00", "truncated"),
    ],
)
def test_a_file_that_is_not_a_book_is_refused_untouched(tmp_path, capsys, content, words):
    db = tmp_path / "book.db"
    db.write_bytes(content)
    _assert_refused(*_edit(capsys, db), words)
    assert db.read_bytes() == content
    assert not Path(f"{db}-wal").exists()


def test_a_truncated_book_is_refused_untouched(good_book, capsys):
    data = good_book.read_bytes()
    good_book.write_bytes(data[: len(data) // 2])
    before = _digest(good_book)
    code, out, err = _edit(capsys, good_book)
    _assert_refused(code, out, err, "the book's file is truncated")
    assert "Restore a backup with `csm restore`" in err
    assert _digest(good_book) == before


def test_a_book_with_a_damaged_schema_page_is_refused(good_book, capsys):
    data = bytearray(good_book.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # page 1 holds sqlite_master
    good_book.write_bytes(bytes(data))
    before = _digest(good_book)
    _assert_refused(*_edit(capsys, good_book), "damaged")
    assert _digest(good_book) == before


def test_a_book_from_a_newer_csm_is_refused_untouched(good_book, capsys):
    conn = sqlite3.connect(good_book)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = _digest(good_book)
    _assert_refused(*_edit(capsys, good_book), "written by a newer csm (schema v99")
    assert _digest(good_book) == before


def test_a_directory_given_as_the_book_is_refused(tmp_path, capsys):
    _assert_refused(*_edit(capsys, tmp_path), "is a directory, not a csm book")


# -- read-only ----------------------------------------------------------------------------------
def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextmanager
def read_only_view(directory: Path, view: Path):
    """`view` shows `directory` through a read-only bind mount."""
    view.mkdir()
    assert _mount("--bind", str(directory), str(view)), "bind mount refused (tests run as root)"
    try:
        assert _mount("-o", "remount,ro,bind", str(view))
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_book_on_a_read_only_filesystem_refuses_edits_and_imports(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    make_book(home / "book.db", 3)
    before = _digest(home / "book.db")
    csv = write_accounts_csv(tmp_path / "accounts.csv", 3)
    with read_only_view(home, tmp_path / "ro") as ro:
        for argv in (["log", A1, "--kind", "call", "--text", "x"], ["import", str(csv)]):
            done = run_csm(*argv, "--db", str(ro / "book.db"))
            assert done.returncode == 1 and "Traceback" not in done.stderr
            assert "the book is read-only" in done.stderr, done.stderr
    assert _digest(home / "book.db") == before
    assert sorted(p.name for p in home.iterdir()) == ["book.db"]


def test_a_0400_book_is_opened_read_only_and_refuses_edits(good_book, capsys, monkeypatch):
    os.chmod(good_book, 0o400)
    real_access = os.access

    def as_ordinary_user(path, mode, *args, **kwargs):  # what the kernel says to a non-root user
        if Path(path) == good_book and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr("csm_tui.storage.db.os.access", as_ordinary_user)
    before = _digest(good_book)
    _assert_refused(*_edit(capsys, good_book), "the book is read-only")
    book = open_book(good_book)
    try:
        assert book.readonly and book.scalar("SELECT count(*) FROM accounts") == 3
    finally:
        book.close()
    assert _digest(good_book) == before


# -- full disk ----------------------------------------------------------------------------------
@contextmanager
def tiny_disk(mount_point: Path, size_kb: int = 2048):
    """A real, tiny filesystem (tmpfs) that can be filled to the last byte."""
    mount_point.mkdir()
    assert _mount("-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_an_edit_on_a_full_disk_fails_cleanly_and_the_book_stays_valid(tmp_path):
    with tiny_disk(tmp_path / "disk") as disk:
        db = make_book(disk / "book.db", 3)
        events_before = _count(db, "events")
        filler = _fill(disk)
        big_note = "Quarterly review notes. " * 4000
        done = run_csm("log", "--db", str(db), A1, "--kind", "note", "--text", big_note)
        assert done.returncode == 1 and done.stdout == ""
        assert "the disk is full" in done.stderr and "Traceback" not in done.stderr
        assert account_name(1) not in done.stderr
        filler.unlink()
        assert _count(db, "events") == events_before
        assert_book_valid(db)
        done = run_csm("log", "--db", str(db), A1, "--kind", "note", "--text", "after space")
        assert done.returncode == 0, done.stderr


def test_sqlite_reporting_a_full_database_mid_edit_is_a_clean_refusal(good_book, capsys):
    book = open_book(good_book)
    try:
        pages = book.scalar("PRAGMA page_count")
        book.conn.execute(f"PRAGMA max_page_count = {pages}")
        from csm_tui.errors import DatabaseError
        from csm_tui.service.edits import log_event

        with pytest.raises(DatabaseError, match="disk is full; nothing was changed"):
            log_event(book, A1, "note", "x" * 90_000)
        assert not book.conn.in_transaction
    finally:
        book.close()
    assert_book_valid(good_book)


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# -- every command that writes refuses a bad book the same way -----------------------------------
def _not_sqlite(db: Path) -> None:
    db.write_bytes(b"name,arr\nAcme,100\n")


def _truncated(db: Path) -> None:
    make_book(db, 2)
    db.write_bytes(db.read_bytes()[:6000])


def _newer(db: Path) -> None:
    make_book(db, 2)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 42")
    conn.close()


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (_not_sqlite, "is not a csm book"),
        (_truncated, "truncated"),
        (_newer, "written by a newer csm"),
    ],
)
@pytest.mark.parametrize("command", ["log", "import", "score", "demo"])
def test_every_writing_command_refuses_a_bad_book_untouched(
    tmp_path, capsys, spoil, words, command
):
    db = tmp_path / "book.db"
    spoil(db)
    before = _digest(db)
    csv = write_accounts_csv(tmp_path / "accounts.csv", 3)
    argv = {
        "log": ["log", A1, "--kind", "call", "--text", "hello"],
        "import": ["import", str(csv)],
        "score": ["score"],
        "demo": ["demo", "--accounts", "20"],
    }[command]
    code = main([*argv, "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 1 and words in captured.err and "Traceback" not in captured.err
    assert _digest(db) == before


def test_an_import_on_a_full_disk_fails_cleanly_and_writes_nothing(tmp_path):
    csv = write_accounts_csv(tmp_path / "accounts.csv", 3000)
    with tiny_disk(tmp_path / "disk") as disk:
        db = make_book(disk / "book.db", 3)
        filler = _fill(disk)
        done = run_csm("import", str(csv), "--db", str(db))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "the disk is full" in done.stderr, done.stderr
        filler.unlink()
        assert _count(db, "accounts") == 3
        assert_book_valid(db)


def test_an_open_book_keeps_working_once_a_full_disk_has_space_again(tmp_path):
    """The app's long-lived connection must not be left inside a failed transaction."""
    from csm_tui.errors import DatabaseError
    from csm_tui.service.edits import log_event

    with tiny_disk(tmp_path / "disk") as disk:
        db = make_book(disk / "book.db", 3)
        book = open_book(db)
        try:
            filler = _fill(disk)
            with pytest.raises(DatabaseError, match="the disk is full"):
                log_event(book, A1, "note", "Quarterly review notes. " * 4000)
            assert not book.conn.in_transaction
            filler.unlink()
            saved = log_event(book, A1, "note", "room again")
            assert book.scalar("SELECT text FROM events WHERE id = ?", (saved.event_id,)) == (
                "room again"
            )
        finally:
            book.close()
        assert_book_valid(db)
