"""Finding the account a user means: an id, or an exact name (`csm set "Acme Corp" …`)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from csm_tui.errors import NotFound, UsageError

#: How many look-alike accounts a "not found" message suggests.
MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class AccountRef:
    """An account as resolved from what the user typed."""

    id: str
    name: str


def resolve_account(conn: sqlite3.Connection, ref: str) -> AccountRef:
    """The account whose id is `ref`, else whose name is exactly `ref` (case-insensitively).

    Raises NotFound (with look-alike suggestions) or UsageError when a name matches several
    accounts (listing their ids, which are unique).
    """
    text = (ref or "").strip()
    if not text:
        raise UsageError("name an account by its id or its exact name")
    row = conn.execute("SELECT id, name FROM accounts WHERE id = ?", (text,)).fetchone()
    if row:
        return AccountRef(row[0], row[1])
    rows = conn.execute("SELECT id, name FROM accounts WHERE name = ? LIMIT 11", (text,)).fetchall()
    if not rows:
        rows = conn.execute(
            "SELECT id, name FROM accounts WHERE name = ? COLLATE NOCASE LIMIT 11", (text,)
        ).fetchall()
    if len(rows) == 1:
        return AccountRef(rows[0][0], rows[0][1])
    if rows:
        ids = ", ".join(r[0] for r in rows[:10])
        raise UsageError(f"{len(rows)} accounts are named {text!r} ({ids}); use the account id")
    raise NotFound(_not_found_message(conn, text))


def _not_found_message(conn: sqlite3.Connection, text: str) -> str:
    message = f"no account has the id or name {text!r}"
    similar = _similar_names(conn, text)
    if similar:
        message += "; did you mean " + ", ".join(f"{name} ({id_})" for id_, name in similar) + "?"
    return message


def _similar_names(conn: sqlite3.Connection, text: str) -> list[tuple[str, str]]:
    """Accounts whose name or id contains `text` (the trigram index makes this cheap)."""
    if len(text) < 3:
        return []
    try:
        rows = conn.execute(
            "SELECT a.id, a.name FROM accounts_fts f JOIN accounts a ON a.rowid = f.rowid "
            "WHERE accounts_fts MATCH ? LIMIT ?",
            ('"' + text.replace('"', '""') + '"', MAX_SUGGESTIONS),
        ).fetchall()
    except sqlite3.Error:
        return []  # suggestions are a courtesy; never let them hide the real message
    return [(r[0], r[1]) for r in rows]
