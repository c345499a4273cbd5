"""Tiny helpers that write hand-made books for the metric, list and report tests."""

from __future__ import annotations

from itertools import count

from tests.accounts import insert_accounts

_ids = count(1)


def add_account(conn, id: str, name: str, **fields) -> str:  # noqa: A002 - column name
    """Insert an account; `fields` are accounts columns (arr, segment, start_date, …)."""
    insert_accounts(conn, [{"id": id, "name": name, **fields}])
    return id


def add_renewal(
    conn,
    account_id: str,
    due_date: str,
    arr_before: float,
    arr_after: float | None = None,
    outcome: str | None = None,
    closed_on: str | None = None,
    csm_call: str | None = None,
) -> str:
    """Insert a renewal row and return its id."""
    rid = f"RN-T{next(_ids)}"
    conn.execute(
        "INSERT INTO renewals (id, account_id, due_date, arr_before, arr_after, outcome, "
        "closed_on, csm_call) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rid, account_id, due_date, arr_before, arr_after, outcome, closed_on, csm_call),
    )
    return rid


def add_contact(conn, id: str, account_id: str, name: str, role: str = "user", **fields) -> str:  # noqa: A002
    """Insert a contact."""
    columns = {"id": id, "account_id": account_id, "name": name, "role": role, **fields}
    marks = ", ".join("?" for _ in columns)
    conn.execute(
        f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({marks})", tuple(columns.values())
    )
    return id


def add_response(
    conn, account_id: str, date: str, score: float, kind: str = "nps", contact_id=None
) -> None:
    """Insert an NPS or CSAT response."""
    conn.execute(
        "INSERT INTO responses (id, account_id, contact_id, date, kind, score) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (f"NPS-T{next(_ids)}", account_id, contact_id, date, kind, score),
    )


def add_save_plan(conn, account_id: str, status: str, closed_at: str | None = None) -> str:
    """Insert a save plan (status open / saved / lost)."""
    sid = f"SP-T{next(_ids)}"
    conn.execute(
        "INSERT INTO save_plans (id, account_id, risk_level, status, created_at, closed_at) "
        "VALUES (?, ?, 'high', ?, '2026-06-01T09:00:00', ?)",
        (sid, account_id, status, closed_at),
    )
    return sid


def add_health(conn, account_id: str, date: str, score: float | None, band: str, **parts) -> None:
    """Insert a health snapshot (parts: usage, engagement, outcomes, sentiment)."""
    columns = {"account_id": account_id, "date": date, "score": score, "band": band, **parts}
    marks = ", ".join("?" for _ in columns)
    conn.execute(
        f"INSERT INTO health ({', '.join(columns)}) VALUES ({marks})", tuple(columns.values())
    )
