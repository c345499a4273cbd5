"""The one call per user edit: validate, write, rescore that account, return what changed.

Every call here is ONE durable transaction (`book.write(durable=True)`, synchronous=FULL):
the edit and the account's new score, explain and alerts commit together or not at all, so
an edit the user was told is saved survives a killed process or a power cut. Nothing is
reported as saved before COMMIT returns: callers print the `EditResult` this returns.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csm_tui.clock import now_iso, today
from csm_tui.errors import UsageError, ValidationError
from csm_tui.service.accounts import AccountRef, resolve_account
from csm_tui.service.fields import (
    CUSTOM_PREFIX,
    FIELDS,
    parse_datetime,
    validate_all,
)
from csm_tui.storage.ids import new_id
from csm_tui.storage.parse import ValueProblem

if TYPE_CHECKING:
    from csm_tui.storage.db import Book

#: Timeline kinds a user can log (the "system" kind is csm's own).
EVENT_KINDS = ("call", "meeting", "email", "note", "qbr")
RESPONSE_RANGES = {"nps": (0, 10), "csat": (1, 5)}
#: The longest note or event text accepted (a long meeting write-up fits; a pasted file not).
MAX_EVENT_TEXT = 100_000


@dataclass
class ScoreSummary:
    """The account's score as stored before an edit (the "before" of before → after)."""

    score: float | None
    band: str | None
    churn_prob: float | None
    open_alerts: list[str] = field(default_factory=list)


@dataclass
class EditResult:
    """What one edit changed: fields (old, new), the score before and after, alerts.

    `event_id` is the timeline event (`log_event`, `add_note`) or response (`record_response`)
    the edit added; None for `update_account`.
    """

    account_id: str
    account_name: str
    changed: dict[str, tuple[Any, Any]]
    event_id: str | None
    before: ScoreSummary
    after: Any  # csm_tui.scoring.engine.AccountScore (None only if the engine is absent)
    alerts_opened: list[Any] = field(default_factory=list)
    alerts_cleared: list[Any] = field(default_factory=list)

    def summary(self) -> str:
        """In words: "Health 71 → 58 (yellow); alert opened: champion left"."""
        parts = [
            _health_words(self.before, self.after),
            _alerts_words("opened", self.alerts_opened),
            _alerts_words("cleared", self.alerts_cleared),
        ]
        return "; ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (`csm log/set --json`)."""
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "changed": {k: {"old": old, "new": new} for k, (old, new) in self.changed.items()},
            "event_id": self.event_id,
            "before": {
                "score": self.before.score,
                "band": self.before.band,
                "churn_prob": self.before.churn_prob,
                "open_alerts": self.before.open_alerts,
            },
            "after": _score_dict(self.after),
            "alerts_opened": [_alert_dict(a) for a in self.alerts_opened],
            "alerts_cleared": [_alert_dict(a) for a in self.alerts_cleared],
            "summary": self.summary(),
        }


# -- the edits ----------------------------------------------------------------------------------
def update_account(book: Book, ref: str, changes: dict[str, str]) -> EditResult:
    """Apply field/signal changes (field → text as typed) to one account, then rescore it."""
    values = validate_all(changes)
    with book.write(durable=True) as conn:
        account = resolve_account(conn, ref)
        before = _score_before(conn, account.id)
        row = conn.execute("SELECT * FROM accounts WHERE id = ?", (account.id,)).fetchone()
        changed = _apply_columns(conn, row, values)
        changed.update(_apply_custom(conn, row, values))
        changed.update(_apply_signals(conn, account, values))
        if "name" in changed:
            account = AccountRef(account.id, changed["name"][1])
        return _finish(conn, account, changed, None, before)


def log_event(book: Book, ref: str, kind: str, text: str, at: str | None = None) -> EditResult:
    """Add a timeline event (call, meeting, email, note, qbr) to an account, then rescore it."""
    kind = _valid_kind(kind)
    body = _valid_text(text)
    when = _valid_at(at)
    with book.write(durable=True) as conn:
        account = resolve_account(conn, ref)
        before = _score_before(conn, account.id)
        event_id = new_id("EV")
        conn.execute(
            "INSERT INTO events (id, account_id, at, kind, text) VALUES (?, ?, ?, ?, ?)",
            (event_id, account.id, when, kind, body),
        )
        changed = {"event": (None, f"{kind} at {when}")}
        return _finish(conn, account, changed, event_id, before)


def add_note(book: Book, ref: str, text: str) -> EditResult:
    """Add a note to an account's timeline (a `note` event, now)."""
    return log_event(book, ref, "note", text)


def record_response(
    book: Book,
    ref: str,
    score: float | str,
    comment: str = "",
    kind: str = "nps",
    date: str | None = None,
    contact_id: str | None = None,
) -> EditResult:
    """Record an NPS (0–10) or CSAT (1–5) response for an account, then rescore it."""
    kind, value = _valid_response(kind, score)
    day = _valid_day(date)
    note = (comment or "").strip()
    if len(note) > MAX_EVENT_TEXT:
        raise ValidationError("comment", f"is {len(note):,} characters; at most {MAX_EVENT_TEXT:,}")
    with book.write(durable=True) as conn:
        account = resolve_account(conn, ref)
        _check_contact(conn, account, contact_id)
        before = _score_before(conn, account.id)
        response_id = new_id("NPS")
        conn.execute(
            "INSERT INTO responses (id, account_id, contact_id, date, kind, score, comment) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (response_id, account.id, contact_id or None, day, kind, value, note or None),
        )
        changed = {kind: (None, value)}
        return _finish(conn, account, changed, response_id, before)


# -- validation ---------------------------------------------------------------------------------
def _valid_kind(kind: str) -> str:
    value = (kind or "").strip().lower()
    if value not in EVENT_KINDS:
        raise UsageError(f"unknown kind {kind!r}; valid kinds are {', '.join(EVENT_KINDS)}")
    return value


def _valid_text(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise ValidationError("text", "is empty; say what happened")
    if "\x00" in body:
        raise ValidationError("text", "contains a NUL byte; use plain text")
    if len(body) > MAX_EVENT_TEXT:
        raise ValidationError("text", f"is {len(body):,} characters; at most {MAX_EVENT_TEXT:,}")
    return body


def _valid_at(at: str | None) -> str:
    try:
        return parse_datetime(at or "")
    except ValueProblem as exc:
        raise ValidationError("at", str(exc)) from None


def _valid_day(day: str | None) -> str:
    return _valid_at(day)[:10] if day else today().isoformat()


def _valid_response(kind: str, score: float | str) -> tuple[str, float]:
    kind = (kind or "nps").strip().lower()
    if kind not in RESPONSE_RANGES:
        raise UsageError(f"unknown response kind {kind!r}; valid kinds are nps, csat")
    low, high = RESPONSE_RANGES[kind]
    try:
        value = float(str(score).strip())
    except ValueError:
        raise ValidationError("score", f"{score!r} is not a number; use {low}–{high}") from None
    if not (low <= value <= high) or value != int(value):
        raise ValidationError("score", f"{score} is out of range; {kind} is a whole {low}–{high}")
    return kind, value


def _check_contact(conn: sqlite3.Connection, account: AccountRef, contact_id: str | None) -> None:
    if not contact_id:
        return
    found = conn.execute(
        "SELECT 1 FROM contacts WHERE id = ? AND account_id = ?", (contact_id, account.id)
    ).fetchone()
    if not found:
        raise ValidationError("contact", f"{contact_id} is not a contact of {account.name}")


# -- writing ------------------------------------------------------------------------------------
def _apply_columns(conn: sqlite3.Connection, row: sqlite3.Row, values: dict) -> dict:
    """UPDATE the account's own columns that really change; return them as (old, new)."""
    changed = {
        key: (row[key], value)
        for key, value in values.items()
        if key in FIELDS and FIELDS[key].kind == "column" and row[key] != value
    }
    if changed:
        assignments = ", ".join(f"{key} = ?" for key in changed)  # keys come from FIELDS only
        conn.execute(
            f"UPDATE accounts SET {assignments}, updated_at = ? WHERE id = ?",
            (*(new for _, new in changed.values()), now_iso(), row["id"]),
        )
    return changed


def _apply_custom(conn: sqlite3.Connection, row: sqlite3.Row, values: dict) -> dict:
    """Merge custom.KEY values into the account's custom attributes (None removes a key)."""
    updates = {k[len(CUSTOM_PREFIX) :]: v for k, v in values.items() if k.startswith(CUSTOM_PREFIX)}
    if not updates:
        return {}
    try:
        custom = json.loads(row["custom"] or "{}")
    except ValueError:
        custom = {}  # an unreadable value is replaced rather than blocking the edit
    if not isinstance(custom, dict):
        custom = {}
    changed = {}
    for key, value in updates.items():
        old = custom.get(key)
        if old != value:
            changed[CUSTOM_PREFIX + key] = (old, value)
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    if changed:
        conn.execute(
            "UPDATE accounts SET custom = ?, updated_at = ? WHERE id = ?",
            (json.dumps(custom, ensure_ascii=False, sort_keys=True), now_iso(), row["id"]),
        )
    return changed


def _apply_signals(conn: sqlite3.Connection, account: AccountRef, values: dict) -> dict:
    """Departures first, then new people, so `champion_left=yes champion=NEW` replaces one."""
    changed: dict[str, tuple[Any, Any]] = {}
    for key, role in (("champion_left", "champion"), ("sponsor_left", "sponsor")):
        if values.get(key):
            changed[key] = _record_departure(conn, account, role)
    for role in ("champion", "sponsor"):
        if values.get(role):
            changed[role] = _add_stakeholder(conn, account, role, values[role])
    return changed


def _record_departure(conn: sqlite3.Connection, account: AccountRef, role: str) -> tuple:
    """Mark the account's active contacts in `role` inactive, left today; log it."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM contacts WHERE account_id = ? AND role = ? AND active = 1 "
            "ORDER BY name",
            (account.id, role),
        )
    ]
    if not names:
        raise ValidationError(
            f"{role}_left",
            f"{account.name} has no active {role} on record; add one with {role}=NAME",
        )
    conn.execute(
        "UPDATE contacts SET active = 0, left_on = ? WHERE account_id = ? AND role = ? "
        "AND active = 1",
        (today().isoformat(), account.id, role),
    )
    _system_event(conn, account, f"{role.capitalize()} left: {', '.join(names)}")
    return (", ".join(names), None)


def _add_stakeholder(conn: sqlite3.Connection, account: AccountRef, role: str, name: str) -> tuple:
    """Make `name` an active contact in `role` (reusing a contact of that name if there is one)."""
    existing = conn.execute(
        "SELECT id, role, active FROM contacts WHERE account_id = ? AND name = ? COLLATE NOCASE "
        "ORDER BY active DESC LIMIT 1",
        (account.id, name),
    ).fetchone()
    if existing and existing["role"] == role and existing["active"]:
        return (name, name)
    if existing:
        conn.execute(
            "UPDATE contacts SET role = ?, active = 1, left_on = NULL WHERE id = ?",
            (role, existing["id"]),
        )
    else:
        conn.execute(
            "INSERT INTO contacts (id, account_id, name, role, active) VALUES (?, ?, ?, ?, 1)",
            (new_id("CT"), account.id, name, role),
        )
    _system_event(conn, account, f"New {role}: {name}")
    return (None, name)


def _system_event(conn: sqlite3.Connection, account: AccountRef, text: str) -> None:
    conn.execute(
        "INSERT INTO events (id, account_id, at, kind, text) VALUES (?, ?, ?, 'system', ?)",
        (new_id("EV"), account.id, now_iso(), text),
    )


# -- scores -------------------------------------------------------------------------------------
def _score_before(conn: sqlite3.Connection, account_id: str) -> ScoreSummary:
    row = conn.execute(
        "SELECT health_score, health_band, churn_prob FROM scored_accounts WHERE id = ?",
        (account_id,),
    ).fetchone()
    rules = [
        r[0]
        for r in conn.execute(
            "SELECT rule FROM alerts WHERE account_id = ? AND status != 'done' ORDER BY rule",
            (account_id,),
        )
    ]
    return ScoreSummary(row[0], row[1], row[2], rules)


def _finish(
    conn: sqlite3.Connection,
    account: AccountRef,
    changed: dict,
    event_id: str | None,
    before: ScoreSummary,
) -> EditResult:
    """Rescore the account inside the edit's transaction and assemble the result."""
    after = _rescore(conn, account.id)
    return EditResult(
        account_id=account.id,
        account_name=account.name,
        changed=changed,
        event_id=event_id,
        before=before,
        after=after,
        alerts_opened=list(getattr(after, "alerts_opened", []) or []),
        alerts_cleared=list(getattr(after, "alerts_cleared", []) or []),
    )


def _rescore(conn: sqlite3.Connection, account_id: str):
    """`rescore_account` from the scoring engine, in the caller's transaction."""
    from csm_tui.scoring.engine import rescore_account

    return rescore_account(conn, account_id)


# -- words --------------------------------------------------------------------------------------
def _fmt_score(score: float | None) -> str:
    return "–" if score is None else f"{score:.0f}"


def _health_words(before: ScoreSummary, after: Any) -> str:
    if after is None:
        return ""
    band = getattr(after, "band", None)
    new = getattr(after, "score", None)
    if band == "insufficient" or (new is None and before.score is None):
        return "Health: insufficient data"
    if before.score is None:
        return f"Health {_fmt_score(new)} ({band})"
    if _fmt_score(before.score) == _fmt_score(new):
        return f"Health {_fmt_score(new)} ({band}, unchanged)"
    return f"Health {_fmt_score(before.score)} → {_fmt_score(new)} ({band})"


def _alerts_words(what: str, alerts: list[Any]) -> str:
    """Words such as "alert opened: champion left" or "alerts cleared: a, b" ("" if none)."""
    if not alerts:
        return ""
    rules = [(getattr(a, "rule", None) or str(a)).replace("_", " ") for a in alerts]
    return f"alert{'s' if len(rules) > 1 else ''} {what}: {', '.join(rules)}"


def _alert_dict(alert: Any) -> dict[str, Any]:
    return {k: getattr(alert, k, None) for k in ("rule", "severity", "reason")}


def _score_dict(score: Any) -> dict[str, Any] | None:
    if score is None:
        return None
    if hasattr(score, "to_dict"):
        return score.to_dict()  # the engine's full explain: measures, parts, movers
    keys = ("score", "band", "parts", "delta_7", "delta_30", "churn_prob", "risk_segment")
    return {k: getattr(score, k, None) for k in keys}
