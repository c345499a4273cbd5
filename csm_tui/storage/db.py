"""Opening a book (one SQLite file) safely, and the transaction discipline every write follows.

- WAL, foreign keys on, a busy timeout: readers never block the writer and vice versa.
- Every write transaction begins IMMEDIATE (take the write lock up front, so a second writer
  waits on the busy timeout instead of failing with "database is locked" mid-transaction),
  and is retried with a clear message only after long contention.
- User edits commit with synchronous=FULL (survive a power cut); bulk work uses NORMAL (still
  atomic and safe against a killed process in WAL mode).
- A bulk transaction may leave its WAL checkpoint for later (`write(checkpoint=False)`, then
  `checkpoint()` off the user's path): copying a daily rescore's ~300 MB of pages back into the
  book and syncing it took ~1-2 s of the rescore's commit at a million accounts.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from csm_tui.errors import BusyError, DatabaseError
from csm_tui.paths import create_private_file, ensure_private_dir

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
#: How long a writer keeps retrying before it tells the user the book is busy.
BUSY_DEADLINE_S = 60.0
#: SQLite's default automatic checkpoint (pages of WAL), restored after `write(checkpoint=False)`.
AUTOCHECKPOINT_PAGES = 1000


class Book:
    """An open book: one SQLite connection, guarded by a lock so worker threads can share it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool = False) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly
        self._lock = threading.RLock()
        self._in_write = False
        self._checkpoint_due = False

    @cached_property
    def db(self):
        """A sqlite-utils view of the book, for reads and introspection (imported on first use:
        it pulls in pandas, which would add ~0.4 s to every `csm log`)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- reading -----------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several queries (a deferred read transaction)."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self._execute_retrying("BEGIN")
            try:
                yield self.conn
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run one read query and return all rows (as sqlite3.Row)."""
        with self._lock:
            return self._with_friendly_errors(lambda: self.conn.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: tuple | dict = ()):
        """Run a query that returns one value."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def write(
        self,
        durable: bool = True,
        on_wait: Callable[[float], None] | None = None,
        *,
        check_references: bool = True,
        checkpoint: bool = True,
    ) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception.

        `durable=True` (user edits) commits with synchronous=FULL; bulk work passes False.
        `check_references=False` skips foreign-key checks (and cascades) for writers whose rows
        reference accounts they read inside the same transaction (the full rescore: checking a
        million history rows against the accounts doubled its write time).
        `checkpoint=False` leaves the transaction in the WAL at commit (SQLite would otherwise
        copy a big one back into the book inside COMMIT) until `checkpoint()` (or `close()`).
        Nested use joins the outer transaction (so a service call is one transaction).
        """
        if self.readonly:
            raise DatabaseError(
                f"{self.path}: the book is read-only (file permissions); "
                "csm can show it but not change it."
            )
        with self._lock:
            if self._in_write:
                yield self.conn
                return
            self.conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            if not check_references:
                self.conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            if not checkpoint:
                self.conn.execute("PRAGMA wal_autocheckpoint=0")
            try:
                yield from self._transaction(on_wait)
                # until `checkpoint()`, so an edit's commit does not take the copy over
                self._checkpoint_due = self._checkpoint_due or not checkpoint
            finally:
                if not check_references:
                    self.conn.execute("PRAGMA foreign_keys=ON")
                if not self._checkpoint_due:
                    self.conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")

    def _transaction(self, on_wait: Callable[[float], None] | None) -> Iterator[sqlite3.Connection]:
        self._begin_immediate(on_wait)
        self._in_write = True
        try:
            yield self.conn
        except BaseException as exc:
            self._in_write = False
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
                # a full disk, an I/O error or a damaged page mid-transaction: say so
                raise _friendly(exc, self.path) from None
            raise
        self._in_write = False
        self._with_friendly_errors(lambda: self.conn.execute("COMMIT"))

    def _begin_immediate(self, on_wait: Callable[[float], None] | None) -> None:
        started = time.monotonic()
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise _friendly(exc, self.path) from None
                waited = time.monotonic() - started
                if waited >= BUSY_DEADLINE_S:
                    raise BusyError(
                        f"{self.path}: another csm process has been writing to this book for "
                        f"{waited:.0f} s (an import or a full rescore?). Nothing was changed; "
                        "try again when it has finished."
                    ) from None
                if on_wait:
                    on_wait(waited)
                time.sleep(0.05)

    def _execute_retrying(self, sql: str) -> None:
        self._with_friendly_errors(lambda: self.conn.execute(sql))

    def _with_friendly_errors(self, fn):
        try:
            return fn()
        except sqlite3.DatabaseError as exc:
            raise _friendly(exc, self.path) from None

    def checkpoint(self) -> bool:
        """Copy the WAL left by a `write(checkpoint=False)` back into the book (PASSIVE: it
        waits for no reader or writer), on a connection of its own so the book's connection
        stays free meanwhile. False if none was due; a busy or failed checkpoint is left to
        SQLite's next automatic one."""
        if not self._checkpoint_due:
            return False
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()
        except sqlite3.Error:
            return False
        finally:
            with self._lock:  # after any write in progress on the book's connection
                self._checkpoint_due = False
                self.conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        return True

    def close(self) -> None:
        """Close the connection (checkpointing the WAL where possible)."""
        with self._lock:
            try:
                self.conn.close()
            except sqlite3.Error:
                pass

    def data_version(self) -> int:
        """Changes when another connection commits: the app polls it to refresh."""
        return int(self.scalar("PRAGMA data_version"))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _friendly(exc: sqlite3.DatabaseError, path: Path) -> DatabaseError:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return DatabaseError(f"{path}: the book is read-only; nothing was changed.")
    if "disk is full" in text or "full" in text and "database or disk" in text:
        return DatabaseError(f"{path}: the disk is full; nothing was changed. Free some space.")
    if "disk i/o error" in text:  # in WAL mode a full disk often surfaces as an I/O error
        return DatabaseError(f"{path}: {_io_error_cause(path)}; nothing was changed.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return DatabaseError(
            f"{path}: the book's file is damaged ({exc}). Restore a backup with `csm restore`."
        )
    if _is_busy(exc):  # type: ignore[arg-type]
        return BusyError(f"{path}: another csm process kept the book busy; nothing was changed.")
    return DatabaseError(f"{path}: {exc}")


def _io_error_cause(path: Path) -> str:
    """Name the likely cause of a disk I/O error: a full disk, else the device itself."""
    import shutil

    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return "the disk reported an I/O error"
    if free < 1024 * 1024:
        return f"the disk is full ({free // 1024} KB free); free some space and try again"
    return "the disk reported an I/O error (is the drive failing or disconnected?)"


def check_header(path: Path) -> None:
    """Refuse a file that is not a SQLite database before SQLite touches it."""
    if path.is_dir():
        raise DatabaseError(f"{path}: is a directory, not a csm book (a .db file).")
    size = path.stat().st_size
    if size == 0:
        return  # a fresh, empty file: we initialise it
    with path.open("rb") as fh:
        head = fh.read(100)
    if not head.startswith(SQLITE_HEADER):
        raise DatabaseError(f"{path}: is not a csm book (not an SQLite database file).")
    if len(head) < 100:
        raise DatabaseError(f"{path}: the book's file is truncated ({size} bytes).")
    page_size = int.from_bytes(head[16:18], "big") or 65536
    if page_size == 1:
        page_size = 65536
    pages = int.from_bytes(head[28:32], "big")
    if pages and size < pages * page_size:
        raise DatabaseError(
            f"{path}: the book's file is truncated ({size} bytes; its header says "
            f"{pages * page_size}). Restore a backup with `csm restore`."
        )


def connect(path: Path, *, create: bool = True) -> Book:
    """Open (creating if allowed) the SQLite file at `path`, without touching the schema."""
    path = Path(path).expanduser()
    if path.exists():
        check_header(path)
    elif not create:
        raise DatabaseError(f"{path}: no such book. Create one with `csm demo` or `csm import`.")
    else:
        try:
            create_private_file(path)
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot create the book ({exc.strerror}).") from None
    ensure_private_dir(path.parent)
    readonly = not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK)
    try:
        if readonly:
            conn = _connect_readonly(path)
        else:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)  # it holds customer data
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _friendly(exc, path) from None
    return Book(path, conn, readonly=readonly)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """Open read-only. A WAL book in a read-only directory cannot create its -shm file, so
    fall back to `immutable=1` there (nothing else can write to it either)."""
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(
        uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False
    )


def open_book(path: Path, *, create: bool = True) -> Book:
    """Open a book and bring its schema up to date (refusing a file from a newer csm)."""
    from csm_tui.storage.schema import migrate

    book = connect(path, create=create)
    try:
        migrate(book)
    except BaseException:
        book.close()
        raise
    return book
