"""Keeping a book sound: `csm check`, `csm backup` and `csm restore`.

- check reads only (its own read-only connection; the search-index check runs in a
  transaction that is rolled back) and reports every problem it finds instead of stopping at
  the first one.
- backup uses SQLite's online backup API, so the copy is consistent even while the app or
  an import writes to the book; the copy is a standalone file (no -wal) with mode 0600.
- restore checks the file first, keeps the current book as a timestamped copy, and swaps the
  files atomically (temp file in the same directory, fsync, os.replace), removing the old
  -wal/-shm so SQLite can never replay them onto the restored file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import pathname2url

from csm_tui import clock
from csm_tui.errors import CsmError, DatabaseError
from csm_tui.paths import create_private_file, data_dir, ensure_private_dir, make_private
from csm_tui.storage.db import check_header
from csm_tui.storage.schema import SCHEMA_VERSION

#: db.py's advice to restore a backup, dropped when the file IS the backup being restored.
_ADVICE = re.compile(r"\s*Restore a backup with `csm restore`\.?")
#: How long restore waits for other connections to let go of the book before refusing.
CHECKPOINT_WAIT_MS = 2000
#: Integrity errors listed before "… and N more".
MAX_LISTED_PROBLEMS = 20
_REQUIRED_TABLES = ("meta", "accounts", "usage", "tickets", "responses", "events", "renewals")


@dataclass
class CheckReport:
    """The outcome of checking one book file: `ok` only if every check passed."""

    path: Path
    schema_version: int | None = None
    accounts: int | None = None
    churned: int | None = None
    size_bytes: int = 0
    checks: list[tuple[str, str]] = field(default_factory=list)  # (what, "ok" or summary)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file is a sound csm book this csm can open."""
        return not self.problems

    def lines(self) -> list[str]:
        """The report as printed by `csm check`."""
        out = [f"Book: {self.path} ({_size(self.size_bytes)})"]
        out += [f"{what}: {result}" for what, result in self.checks]
        if self.accounts is not None:
            out.append(f"Accounts: {self.accounts:,} ({self.churned or 0:,} churned)")
        if self.ok:
            out.append("Result: OK — the book is sound.")
        else:
            out.append(f"Result: {len(self.problems)} problem(s) found:")
            out += [f"  - {p}" for p in self.problems]
            if self.path.is_file():
                out.append(f"To recover, restore a backup: csm restore FILE --db {self.path}")
        return out


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


@contextlib.contextmanager
def _readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection that never creates or changes the file."""
    uri = f"file:{pathname2url(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        yield conn
    finally:
        conn.close()


def check_book(path: Path) -> CheckReport:
    """Check a book file: SQLite header, integrity, foreign keys, schema version, search index.

    Never raises for a bad file: every problem is reported in the result.
    """
    path = Path(path).expanduser()
    report = CheckReport(path)
    if not path.exists():
        report.problems.append(f"{path}: no such file.")
        return report
    if path.is_file() and path.stat().st_size == 0:
        report.problems.append(f"{path}: is an empty file (0 bytes), not a csm book.")
        return report
    if path.is_file():
        report.size_bytes = path.stat().st_size
    try:
        check_header(path)
        with _readonly(path) as conn:
            _check_schema(conn, report)
            if report.ok:
                _check_integrity(conn, report)
            if report.ok:
                _check_foreign_keys(conn, report)
                _check_current_scores(conn, report)
                _count_accounts(conn, report)
        if report.ok:
            _check_search_index(path, report)
    except DatabaseError as exc:
        report.problems.append(exc.message)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{path}: the book's file is damaged ({exc}).")
    return report


def _check_schema(conn: sqlite3.Connection, report: CheckReport) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    report.schema_version = version
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in _REQUIRED_TABLES if t not in tables]
    if version == 0 or missing:
        report.checks.append(("Schema", "not a csm book"))
        report.problems.append(
            f"{report.path}: is an SQLite file but not a csm book "
            f"(missing tables: {', '.join(missing) or 'schema version 0'})."
        )
    elif version > SCHEMA_VERSION:
        report.checks.append(("Schema", f"v{version} (newer than this csm's v{SCHEMA_VERSION})"))
        report.problems.append(
            f"{report.path}: written by a newer csm (schema v{version}; this csm knows up to "
            f"v{SCHEMA_VERSION}). Upgrade csm to use it."
        )
    elif version < SCHEMA_VERSION:
        report.checks.append(("Schema", f"v{version} (upgraded to v{SCHEMA_VERSION} when opened)"))
    else:
        report.checks.append(("Schema", f"v{version} (current)"))


def _check_integrity(conn: sqlite3.Connection, report: CheckReport) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(100)")]
    if rows == ["ok"]:
        report.checks.append(("Integrity", "ok"))
        return
    report.checks.append(("Integrity", f"{len(rows)} error(s)"))
    report.problems += [f"integrity: {r}" for r in rows[:MAX_LISTED_PROBLEMS]]
    if len(rows) > MAX_LISTED_PROBLEMS:
        report.problems.append(f"integrity: … and {len(rows) - MAX_LISTED_PROBLEMS} more")


def _check_foreign_keys(conn: sqlite3.Connection, report: CheckReport) -> None:
    counts: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    if not counts:
        report.checks.append(("Foreign keys", "ok"))
        return
    report.checks.append(("Foreign keys", f"{sum(counts.values()):,} orphaned row(s)"))
    for (table, parent), n in sorted(counts.items()):
        report.problems.append(f"foreign keys: {n:,} row(s) in {table} refer to a missing {parent}")


#: Each account's row in `account_health` (schema v8): missing, orphaned, or copies of its
#: status and band out of step (another tool writing with the triggers dropped, say).
_CURRENT_SCORES_SQL = """
SELECT (SELECT count(*) FROM accounts a
        WHERE NOT EXISTS (SELECT 1 FROM account_health h WHERE h.account_rowid = a.rowid)),
       (SELECT count(*) FROM account_health h
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.rowid = h.account_rowid)),
       (SELECT count(*) FROM accounts a JOIN account_health h ON h.account_rowid = a.rowid
        WHERE h.sort_status IS NOT a.status OR h.sort_band IS NOT a.health_band)
"""


def _check_current_scores(conn: sqlite3.Connection, report: CheckReport) -> None:
    """Every account has one current-health row, and its copies agree with the account."""
    if report.schema_version < 8:
        return  # the upgrade builds the table from the accounts
    missing, orphaned, stale = conn.execute(_CURRENT_SCORES_SQL).fetchone()
    if not (missing or orphaned or stale):
        report.checks.append(("Current scores", "ok"))
        return
    report.checks.append(("Current scores", "out of step with the accounts"))
    for n, what in (
        (missing, "account(s) without a current health row"),
        (orphaned, "current health row(s) of no account"),
        (stale, "current health row(s) whose status or band differ from the account's"),
    ):
        if n:
            report.problems.append(f"current scores: {n:,} {what}")


def _count_accounts(conn: sqlite3.Connection, report: CheckReport) -> None:
    total, churned = conn.execute(
        "SELECT count(*), coalesce(sum(status = 'churned'), 0) FROM accounts"
    ).fetchone()
    report.accounts, report.churned = int(total), int(churned)


def _check_search_index(path: Path, report: CheckReport) -> None:
    """FTS5's own integrity check against the accounts table (a write statement, rolled back)."""
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        report.checks.append(("Search index", "not checked (the book is read-only)"))
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("BEGIN")
        try:
            conn.execute(
                "INSERT INTO accounts_fts(accounts_fts, rank) VALUES ('integrity-check', 1)"
            )
            report.checks.append(("Search index", "ok"))
        except sqlite3.DatabaseError as exc:
            report.checks.append(("Search index", "damaged"))
            report.problems.append(
                f"search index: out of step with the accounts ({exc}); restore a backup, or "
                "rebuild it with a copy of the book"
            )
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


# -- backup -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupResult:
    """Where a backup went and what it holds."""

    path: Path
    size_bytes: int
    accounts: int


def default_backup_path() -> Path:
    """`csm-backup-YYYYMMDD-HHMMSS.db` in the data directory (never overwriting one)."""
    return _unique(data_dir() / f"csm-backup-{clock.now():%Y%m%d-%H%M%S}.db")


def _unique(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def backup_book(book_path: Path, dest: Path | None = None) -> BackupResult:
    """A consistent copy of the book via SQLite's online backup API (safe while it is in use).

    The copy is written to a temp file beside `dest` and renamed into place, so `dest` is
    either the whole backup or absent. Refuses to overwrite an existing file.
    """
    book_path = Path(book_path).expanduser()
    dest = Path(dest).expanduser() if dest else default_backup_path()
    if not book_path.exists():
        raise DatabaseError(f"{book_path}: no such book; nothing to back up.")
    if dest.exists():
        raise CsmError(f"{dest}: already exists; choose another name with -o (nothing written).")
    if dest.resolve() == book_path.resolve():
        raise CsmError(f"{dest}: is the book itself; choose another name with -o.")
    check_header(book_path)
    try:
        ensure_private_dir(dest.parent)
    except OSError as exc:
        raise CsmError(f"{dest.parent}: cannot create the folder ({exc.strerror}).") from None
    _copy_database(book_path, dest)
    with _readonly(dest) as conn:
        accounts = int(conn.execute("SELECT count(*) FROM accounts").fetchone()[0])
    return BackupResult(dest, dest.stat().st_size, accounts)


def _copy_database(source: Path, dest: Path) -> None:
    """Copy a live SQLite database (including its WAL) to a standalone 0600 file, atomically."""
    tmp = _unique(dest.with_name(f".{dest.name}.partial"))
    try:
        create_private_file(tmp)
        with _readonly(source) as src:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # a standalone file, no -wal
            finally:
                dst.close()
        _fsync(tmp)
        os.replace(tmp, dest)
        make_private(dest)
        _fsync_dir(dest.parent)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"{source}: cannot be copied ({exc}); nothing was written to {dest}."
        ) from None
    except OSError as exc:
        raise CsmError(
            f"{dest}: cannot write the copy ({exc.strerror}); nothing written."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (directories can be fsynced on POSIX)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- restore ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreResult:
    """What `restore_book` did."""

    book: Path
    source: Path
    previous_copy: Path | None  # the book as it was, kept beside it
    removed: tuple[Path, ...]  # stale -wal/-shm files removed
    accounts: int


def restore_book(book_path: Path, source: Path) -> RestoreResult:
    """Replace the book with `source`, after checking it; keep the current book as a copy.

    Nothing is touched unless `source` passes `check_book` (header, integrity, foreign keys,
    schema version no newer than this csm's).
    """
    book_path, source = Path(book_path).expanduser(), Path(source).expanduser()
    _refuse_bad_source(book_path, source)
    ensure_private_dir(book_path.parent)
    previous = _keep_previous(book_path) if book_path.exists() else None
    incoming = _unique(book_path.with_name(f".{book_path.name}.restoring"))
    try:
        _copy_database(source, incoming)
        removed = _remove_sidecars(book_path)
        os.replace(incoming, book_path)
        make_private(book_path)
        _fsync_dir(book_path.parent)
    finally:
        incoming.unlink(missing_ok=True)
    from csm_tui.storage.db import open_book

    book = open_book(book_path, create=False)  # migrates an older schema in one transaction
    try:
        accounts = int(book.scalar("SELECT count(*) FROM accounts"))
    finally:
        book.close()
    return RestoreResult(book_path, source, previous, removed, accounts)


def _refuse_bad_source(book_path: Path, source: Path) -> None:
    if not source.exists():
        raise CsmError(f"{source}: no such file; your book was not changed.")
    if source.is_dir():
        raise CsmError(f"{source}: is a directory, not a backup file; your book was not changed.")
    if book_path.exists() and source.resolve() == book_path.resolve():
        raise CsmError(f"{source}: is the book itself; nothing to restore.")
    report = check_book(source)
    if not report.ok:
        reasons = [
            _ADVICE.sub("", p).removeprefix(f"{source}: ").rstrip(". ") for p in report.problems[:3]
        ]
        raise DatabaseError(
            f"{source}: not restored, it is not a sound csm book ({'; '.join(reasons)}). "
            "Your book was not changed."
        )


def _keep_previous(book_path: Path) -> Path:
    """Copy the current book (with its WAL content) to `<name>.before-restore-<time>.db`."""
    stamp = f"{clock.now():%Y%m%d-%H%M%S}"
    keep = _unique(book_path.with_name(f"{book_path.stem}.before-restore-{stamp}.db"))
    try:
        busy = _checkpoint(book_path)
    except sqlite3.DatabaseError:  # a damaged book is kept byte for byte, WAL and all
        _copy_raw(book_path, keep)
        return keep
    if busy:
        raise DatabaseError(
            f"{book_path}: another csm process is using this book; close the app (or wait for "
            "the import to finish) and run csm restore again. Nothing was changed."
        )
    try:
        _copy_database(book_path, keep)
    except CsmError:
        _copy_raw(book_path, keep)
    return keep


def _checkpoint(book_path: Path) -> bool:
    """Fold the WAL into the database file; True if another process kept it from finishing."""
    conn = sqlite3.connect(book_path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return bool(busy)


def _copy_raw(book_path: Path, keep: Path) -> None:
    for suffix in ("", "-wal"):
        src = Path(f"{book_path}{suffix}")
        if src.exists():
            target = Path(f"{keep}{suffix}")
            create_private_file(target)
            shutil.copyfile(src, target)


def _remove_sidecars(book_path: Path) -> tuple[Path, ...]:
    removed = []
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{book_path}{suffix}")
        if side.exists():
            side.unlink()
            removed.append(side)
    return tuple(removed)
