"""Writing test accounts that carry current scores: since schema v8 the health score, its
changes and when it was scored live in `account_health` (one row per account, made by a
trigger), the other columns on `accounts`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from csm_tui.storage.schema import HEALTH_COLUMNS

#: The columns a test may give that are stored in `account_health`.
IN_ACCOUNT_HEALTH = (*HEALTH_COLUMNS, "scored_at")


def insert_accounts(conn: sqlite3.Connection, accounts: Iterable[dict]) -> None:
    """INSERT each account (a dict of column -> value), its health columns where they live."""
    for account in accounts:
        own = {c: v for c, v in account.items() if c not in IN_ACCOUNT_HEALTH}
        conn.execute(
            f"INSERT INTO accounts ({', '.join(own)}) VALUES ({', '.join('?' * len(own))})",
            tuple(own.values()),
        )
        set_health(
            conn, account["id"], **{c: account[c] for c in IN_ACCOUNT_HEALTH if c in account}
        )


def set_health(conn: sqlite3.Connection, account_id: str, **columns: object) -> None:
    """Write an account's health columns (health_score=…, health_delta_7=…) in place."""
    if not columns:
        return
    sets = ", ".join(f"{c} = ?" for c in columns)
    cursor = conn.execute(
        f"UPDATE account_health SET {sets} "
        "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = ?)",
        (*columns.values(), account_id),
    )
    assert cursor.rowcount == 1, f"no current-health row for {account_id}"
