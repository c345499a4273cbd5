"""The alerts inbox: what needs attention, and closing / snoozing alerts with an undo.

Each triage action is ONE durable transaction and returns an `UndoToken` holding the exact
previous state of every alert it touched, so `undo(book, token)` puts them back as they were.
Re-opening snoozed alerts whose date has passed is the scoring engine's job (at rescore).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from csm_tui import clock
from csm_tui.errors import CsmError, NotFound, ValidationError

#: The short list offered when closing an alert (the user may also type their own).
CLOSE_REASONS = (
    "Resolved with customer",
    "False alarm",
    "Known issue — tracked elsewhere",
    "Covered by save plan",
)
COVERED_BY_SAVE_PLAN = CLOSE_REASONS[3]
MAX_REASON_CHARS = 500
#: More open alerts than this are not put into one list widget; the inbox says how many.
DEFAULT_LIMIT = 1000

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

#: Labels for the scoring engine's rule ids; unknown ids are shown as words.
RULE_LABELS = {
    "score_drop": "Health dropped",
    "band_worsened": "Band worsened",
    "band_worsens": "Band worsened",
    "mau_drop": "MAU down",
    "usage_drop": "Usage down",
    "ticket_spike": "Ticket spike / sev-1",
    "open_sev1": "Open sev-1 ticket",
    "detractor_nps": "Detractor NPS",
    "champion_left": "Champion left",
    "sponsor_left": "Sponsor left",
    "stakeholder_left": "Champion/sponsor left",
    "renewal_risk": "Renewal soon, not green",
    "renewal_not_green": "Renewal soon, not green",
    "onboarding_stalled": "Not activated by day 30",
    "not_activated": "Not activated by day 30",
    "expansion_signal": "Expansion signal",
}

_STATE_COLUMNS = (
    "status",
    "closed_at",
    "close_reason",
    "snoozed_until",
    "snooze_reason",
    "condition_cleared",
)


@dataclass(frozen=True)
class AlertRow:
    """One alert as the inbox shows it."""

    id: int
    account_id: str
    account_name: str
    arr: float
    rule: str
    rule_label: str
    severity: str
    status: str
    why: str
    fired_at: str
    when: str
    snoozed_until: str | None


@dataclass(frozen=True)
class AlertPage:
    """The alerts shown (at most `limit`) and how many there are in all."""

    rows: list[AlertRow]
    total: int


@dataclass(frozen=True)
class AlertState:
    """An alert's triage columns, as they were before an action."""

    id: int
    status: str
    closed_at: str | None
    close_reason: str | None
    snoozed_until: str | None
    snooze_reason: str | None
    condition_cleared: int


@dataclass(frozen=True)
class UndoToken:
    """What `undo` needs to put alerts back; `description` says what the action did."""

    action: str  # "close" or "snooze"
    description: str
    previous: tuple[AlertState, ...]

    @property
    def count(self) -> int:
        """How many alerts the action touched."""
        return len(self.previous)


# -- reading ------------------------------------------------------------------------------------
def open_alerts(
    book,
    *,
    include_snoozed: bool = False,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> AlertPage:
    """Live alerts by severity (high, medium, low), then account ARR (largest first)."""
    statuses = ("open", "snoozed") if include_snoozed else ("open",)
    marks = ",".join("?" * len(statuses))
    sql = f"""
        SELECT al.id, al.account_id, a.name, a.arr, al.rule, al.severity, al.status,
               al.reason, al.fired_at, al.snoozed_until
        FROM alerts al JOIN accounts a ON a.id = al.account_id
        WHERE al.status IN ({marks})
        ORDER BY CASE al.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
                 a.arr DESC, al.fired_at DESC, al.id
        LIMIT ?"""
    moment = now or clock.now()
    with book.read() as conn:
        rows = conn.execute(sql, (*statuses, limit)).fetchall()
        total = conn.execute(
            f"SELECT count(*) FROM alerts WHERE status IN ({marks})", statuses
        ).fetchone()[0]
    return AlertPage([_alert_row(r, moment) for r in rows], int(total))


def _alert_row(r: sqlite3.Row, moment: datetime) -> AlertRow:
    return AlertRow(
        id=r["id"],
        account_id=r["account_id"],
        account_name=r["name"],
        arr=float(r["arr"] or 0),
        rule=r["rule"],
        rule_label=rule_label(r["rule"]),
        severity=r["severity"],
        status=r["status"],
        why=r["reason"],
        fired_at=r["fired_at"],
        when=time_ago(r["fired_at"], moment),
        snoozed_until=r["snoozed_until"],
    )


def rule_label(rule: str) -> str:
    """A short human label for a rule id ("mau_drop" → "MAU down")."""
    return RULE_LABELS.get(rule) or rule.replace("_", " ").capitalize()


def time_ago(stamp: str, now: datetime) -> str:
    """ "just now", "5 min ago", "2 h ago", "3 d ago" (dates without a time count as midnight)."""
    try:
        then = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return stamp or ""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now" if seconds > -60 else then.date().isoformat()
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


# -- triage actions -----------------------------------------------------------------------------
def close_alerts(book, ids: Iterable[int], reason: str) -> UndoToken:
    """Close live alerts with a reason (one durable transaction); returns the undo token."""
    text = _valid_reason(reason, "close reason", required=True)
    wanted = _valid_ids(ids)
    with book.write(durable=True) as conn:
        previous = _live_states(conn, wanted)
        conn.executemany(
            "UPDATE alerts SET status = 'done', closed_at = ?, close_reason = ?, "
            "snoozed_until = NULL, snooze_reason = NULL WHERE id = ?",
            [(clock.now_iso(), text, s.id) for s in previous],
        )
    noun = _alerts_word(len(previous))
    return UndoToken("close", f"Closed {noun}: {text}", tuple(previous))


def snooze_alerts(book, ids: Iterable[int], until: date, reason: str | None = None) -> UndoToken:
    """Hide live alerts until a date (after today), with an optional reason; undoable."""
    if until <= clock.today():
        raise ValidationError("until", f"{until.isoformat()} is not after today; pick a later date")
    text = _valid_reason(reason or "", "snooze reason", required=False)
    wanted = _valid_ids(ids)
    with book.write(durable=True) as conn:
        previous = _live_states(conn, wanted)
        conn.executemany(
            "UPDATE alerts SET status = 'snoozed', snoozed_until = ?, snooze_reason = ? "
            "WHERE id = ?",
            [(until.isoformat(), text or None, s.id) for s in previous],
        )
    noun = _alerts_word(len(previous))
    return UndoToken("snooze", f"Snoozed {noun} until {until.isoformat()}", tuple(previous))


def undo(book, token: UndoToken) -> str:
    """Restore every alert the action touched to its exact previous state; say what was undone."""
    columns = ", ".join(f"{c} = ?" for c in _STATE_COLUMNS)
    with book.write(durable=True) as conn:
        try:
            conn.executemany(
                f"UPDATE alerts SET {columns} WHERE id = ?",
                [(*(getattr(s, c) for c in _STATE_COLUMNS), s.id) for s in token.previous],
            )
        except sqlite3.IntegrityError:
            raise CsmError(
                "cannot undo: the same rule has fired again on that account since; "
                "triage the new alert instead (nothing was changed)"
            ) from None
    return f"Undone: {token.description}"


def _live_states(conn: sqlite3.Connection, ids: list[int]) -> list[AlertState]:
    """The current state of the live (open or snoozed) alerts among `ids`."""
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT id, {', '.join(_STATE_COLUMNS)} FROM alerts "
        f"WHERE id IN ({marks}) AND status != 'done' ORDER BY id",
        ids,
    ).fetchall()
    if not rows:
        raise NotFound("those alerts are no longer open (closed elsewhere?); nothing was changed")
    return [AlertState(**dict(r)) for r in rows]


def _valid_ids(ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        raise ValidationError("alerts", "none selected")
    return wanted


def _valid_reason(reason: str, field: str, *, required: bool) -> str:
    text = " ".join((reason or "").split())
    if required and not text:
        raise ValidationError(field, "is empty; pick one from the list or type your own")
    if len(text) > MAX_REASON_CHARS:
        raise ValidationError(field, f"is {len(text)} characters; at most {MAX_REASON_CHARS}")
    return text


def _alerts_word(n: int) -> str:
    return "1 alert" if n == 1 else f"{n} alerts"
