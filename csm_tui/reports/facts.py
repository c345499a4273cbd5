"""Everything the account reports say about one account, read in one snapshot of the book."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from csm_tui import clock
from csm_tui.errors import NotFound
from csm_tui.storage.history import latest_snapshot


@dataclass
class AccountFacts:
    """One account's rows, as plain dicts, for the QBR and success-plan writers."""

    today: date
    account: dict
    health: dict | None = None  # the latest health snapshot
    objectives: list[dict] = field(default_factory=list)
    usage_now: dict | None = None
    usage_before: dict | None = None  # the latest snapshot 90 or more days ago
    tickets_open: list[dict] = field(default_factory=list)
    tickets_quarter: int = 0
    alerts_open: list[dict] = field(default_factory=list)
    tasks_open: list[dict] = field(default_factory=list)
    tasks_done_quarter: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    nps_latest: list[dict] = field(default_factory=list)  # latest per contact (or contactless)
    csat: list[float] = field(default_factory=list)  # CSAT scores of the last 90 days
    renewal_open: dict | None = None
    renewals_past: list[dict] = field(default_factory=list)
    save_plans: list[dict] = field(default_factory=list)
    last_qbr: str | None = None
    touches_quarter: int = 0

    @property
    def name(self) -> str:
        """The account's name."""
        return str(self.account["name"])


def _rows(conn, sql: str, params: tuple) -> list[dict]:
    return [dict(row) for row in conn.execute(sql, params).fetchall()]


def _one(conn, sql: str, params: tuple) -> dict | None:
    row = conn.execute(sql, params).fetchone()
    return dict(row) if row else None


def load_facts(book, account_id: str, today: date | None = None) -> AccountFacts:
    """Read one account's facts; NotFound when the id is not in the book."""
    today = today or clock.today()
    quarter_ago = (today - timedelta(days=90)).isoformat()
    with book.read() as conn:
        account = _one(conn, "SELECT * FROM scored_accounts WHERE id = ?", (account_id,))
        if account is None:
            raise NotFound(f"no account has the id {account_id!r}")
        facts = AccountFacts(today=today, account=account)
        _load_scores_and_usage(conn, facts, account_id, quarter_ago)
        _load_work(conn, facts, account_id, quarter_ago)
        _load_people(conn, facts, account_id, quarter_ago)
    return facts


def _load_scores_and_usage(conn, facts: AccountFacts, aid: str, quarter_ago: str) -> None:
    facts.health = latest_snapshot(conn, aid)
    facts.usage_now = _one(
        conn, "SELECT * FROM usage WHERE account_id = ? ORDER BY date DESC LIMIT 1", (aid,)
    )
    facts.usage_before = _one(
        conn,
        "SELECT * FROM usage WHERE account_id = ? AND date <= ? ORDER BY date DESC LIMIT 1",
        (aid, quarter_ago),
    )
    facts.objectives = _rows(
        conn, "SELECT * FROM objectives WHERE account_id = ? ORDER BY due_date, id", (aid,)
    )
    facts.renewal_open = _one(
        conn,
        "SELECT * FROM renewals WHERE account_id = ? AND outcome IS NULL ORDER BY due_date LIMIT 1",
        (aid,),
    )
    facts.renewals_past = _rows(
        conn,
        "SELECT * FROM renewals WHERE account_id = ? AND outcome IS NOT NULL "
        "ORDER BY due_date DESC",
        (aid,),
    )


def _load_work(conn, facts: AccountFacts, aid: str, quarter_ago: str) -> None:
    facts.tickets_open = _rows(
        conn,
        "SELECT * FROM tickets WHERE account_id = ? AND status IN ('open', 'pending') "
        "ORDER BY severity, opened_at",
        (aid,),
    )
    facts.tickets_quarter = conn.execute(
        "SELECT count(*) FROM tickets WHERE account_id = ? AND opened_at >= ?", (aid, quarter_ago)
    ).fetchone()[0]
    facts.alerts_open = _rows(
        conn,
        "SELECT * FROM alerts WHERE account_id = ? AND status != 'done' "
        "ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, fired_at",
        (aid,),
    )
    facts.tasks_open = _rows(
        conn,
        "SELECT * FROM tasks WHERE account_id = ? AND done = 0 "
        "ORDER BY due_date IS NULL, due_date, id",
        (aid,),
    )
    facts.tasks_done_quarter = _rows(
        conn,
        "SELECT * FROM tasks WHERE account_id = ? AND done = 1 AND done_at >= ? "
        "ORDER BY done_at DESC",
        (aid, quarter_ago),
    )
    facts.save_plans = _rows(
        conn, "SELECT * FROM save_plans WHERE account_id = ? ORDER BY created_at DESC", (aid,)
    )


def _load_people(conn, facts: AccountFacts, aid: str, quarter_ago: str) -> None:
    facts.contacts = _rows(
        conn,
        "SELECT * FROM contacts WHERE account_id = ? ORDER BY active DESC, "
        "CASE role WHEN 'sponsor' THEN 0 WHEN 'champion' THEN 1 ELSE 2 END, name",
        (aid,),
    )
    facts.nps_latest = _rows(
        conn,
        "SELECT r.*, c.name AS contact_name FROM responses r "
        "LEFT JOIN contacts c ON c.id = r.contact_id "
        "WHERE r.account_id = ? AND r.kind = 'nps' AND r.id IN ("
        " SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY coalesce(contact_id, '') "
        " ORDER BY date DESC, id DESC) AS n FROM responses WHERE account_id = ? "
        " AND kind = 'nps') WHERE n = 1) ORDER BY r.date DESC",
        (aid, aid),
    )
    facts.csat = [
        float(r[0])
        for r in conn.execute(
            "SELECT score FROM responses WHERE account_id = ? AND kind = 'csat' AND date >= ?",
            (aid, quarter_ago),
        ).fetchall()
    ]
    row = conn.execute(
        "SELECT max(at) FROM events WHERE account_id = ? AND kind = 'qbr'", (aid,)
    ).fetchone()
    facts.last_qbr = row[0] if row else None
    facts.touches_quarter = conn.execute(
        "SELECT count(*) FROM events WHERE account_id = ? AND kind IN ('call', 'meeting', "
        "'email', 'qbr') AND at >= ?",
        (aid, quarter_ago),
    ).fetchone()[0]
