"""How the UI holds its book: one connection for reading, one for writing, opened lazily.

The app never touches SQLite on its event loop; workers (threads) use these connections. Two
connections let a long read (a portfolio window over a big book) run while an edit commits,
because the book is in WAL mode. Each `Book` serialises its own use with a lock, so several
workers may share one.

    session = BookSession(path)
    rows = portfolio.PortfolioPager(session.reader, query).rows(0, 50)     # in a worker
    result = edits.add_note(session.book, account_id, "Called Dana")       # in a worker
    if session.changed_elsewhere(): ...                                     # polled ~1 s
"""

from __future__ import annotations

import threading
from pathlib import Path

from csm_tui.storage.db import Book, open_book


class BookSession:
    """The app's connections to one book file (created on first use, closed on exit)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._reader: Book | None = None
        self._writer: Book | None = None
        self._counter: Book | None = None
        self._seen_version: int | None = None

    @property
    def book(self) -> Book:
        """The connection for edits (and the reads that belong to an edit)."""
        with self._lock:
            if self._writer is None:
                self._writer = open_book(self.path)
            return self._writer

    @property
    def reader(self) -> Book:
        """The connection for screens' queries (portfolio windows, account views, counts)."""
        writer = self.book  # opens (and migrates) the file first, so the reader sees the schema
        with self._lock:
            if self._reader is None:
                self._reader = open_book(writer.path)
                # the baseline is taken before any screen reads through this connection, so a
                # commit made before the first poll is still noticed
                self._seen_version = self._reader.data_version()
            return self._reader

    @property
    def counter(self) -> Book:
        """A connection for slow counts, so a COUNT over a big book never holds up the rows."""
        writer = self.book
        with self._lock:
            if self._counter is None:
                self._counter = open_book(writer.path)
            return self._counter

    def changed_elsewhere(self) -> bool:
        """True once after any other connection (another process, or our writer) committed."""
        version = self.reader.data_version()
        changed = self._seen_version is not None and version != self._seen_version
        self._seen_version = version
        return changed

    def close(self) -> None:
        """Close both connections (safe to call twice)."""
        with self._lock:
            for book in (self._reader, self._writer, self._counter):
                if book is not None:
                    book.close()
            self._reader = self._writer = self._counter = None
