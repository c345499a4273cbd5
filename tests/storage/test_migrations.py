"""Books written by an earlier csm are upgraded in place, keep their data, and score as new ones."""

from __future__ import annotations

import sqlite3

import pytest

from csm_tui.scoring.engine import rescore_all
from csm_tui.storage import schema
from csm_tui.storage.db import open_book


def _old_book(path, version: int) -> None:
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:version]:
        for statement in schema._statements(step):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute(
        "INSERT INTO accounts (id, name, seats, onboarding_pct) VALUES ('A1', 'Acme', 10, 80)"
    )
    conn.execute(
        "INSERT INTO usage (account_id, date, active_users, mau) VALUES ('A1', '2026-11-01', 6, 8)"
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", range(1, schema.SCHEMA_VERSION))
def test_an_older_book_is_upgraded_and_scored(tmp_path, version: int) -> None:
    path = tmp_path / f"v{version}.db"
    _old_book(path, version)
    book = open_book(path)
    try:
        assert book.scalar("PRAGMA user_version") == schema.SCHEMA_VERSION
        assert book.scalar("SELECT name FROM accounts WHERE id = 'A1'") == "Acme"
        summary = rescore_all(book)
        assert summary.accounts == 1
        assert book.scalar("SELECT count(*) FROM score_frame") > 0
        # the upgraded book tracks changes like a new one
        with book.write() as conn:
            conn.execute("UPDATE usage SET mau = 9 WHERE account_id = 'A1'")
        assert book.scalar("SELECT account_id FROM score_dirty") == "A1"
    finally:
        book.close()
