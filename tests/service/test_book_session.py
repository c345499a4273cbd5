"""The app's connections to a book: outside commits are noticed from the first poll on."""

from __future__ import annotations

from csm_tui.service.book_session import BookSession
from csm_tui.storage.db import open_book
from tests.reliability.books import account_id, seed_accounts


def _rename_elsewhere(path, name: str) -> None:
    other = open_book(path)  # another connection, as another csm process would have
    with other.write() as conn:
        conn.execute("UPDATE accounts SET name = ? WHERE id = ?", (name, account_id(1)))
    other.close()


def test_a_commit_before_the_first_poll_is_noticed(book) -> None:
    seed_accounts(book, 2)
    session = BookSession(book.path)
    try:
        session.reader.query("SELECT name FROM accounts")  # the screen's first rows
        _rename_elsewhere(book.path, "Renamed Before The First Poll")
        assert session.changed_elsewhere() is True
        assert session.changed_elsewhere() is False  # reported once
    finally:
        session.close()


def test_no_commit_means_no_change(book) -> None:
    seed_accounts(book, 2)
    session = BookSession(book.path)
    try:
        session.reader.query("SELECT name FROM accounts")
        assert session.changed_elsewhere() is False
        _rename_elsewhere(book.path, "Renamed Later")
        assert session.changed_elsewhere() is True
    finally:
        session.close()
