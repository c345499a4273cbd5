"""Playbooks, tasks and save plans: applying templates, ticking tasks off, saving accounts.

Every write here is ONE durable transaction: a save plan, its tasks, its timeline event, the
alert it answers and the account's rescore commit together or not at all.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from csm_tui import clock
from csm_tui.errors import NotFound, ValidationError
from csm_tui.service.triage import COVERED_BY_SAVE_PLAN
from csm_tui.storage.history import latest_snapshot
from csm_tui.storage.ids import new_id
from csm_tui.storage.playbooks import REASON_LABELS, SAVE_REASONS

RISK_LEVELS = ("high", "medium", "low")
OUTCOMES = ("saved", "lost")
MAX_TEXT = 5000
MAX_STEPS = 100
#: Offsets a template step may have (a year before to two years after applying).
OFFSET_RANGE = (-365, 730)
#: The user's open tasks shown at once (the checklist lists the soonest due).
MAX_TASKS = 1000

#: Alert rule words → the save-plan reason they point to (matched inside the rule id).
RULE_REASON_WORDS = (
    ("champion", "champion_left"),
    ("sponsor", "executive_turnover"),
    ("stakeholder", "champion_left"),
    ("mau", "low_adoption"),
    ("usage", "low_adoption"),
    ("adoption", "low_adoption"),
    ("onboarding", "low_adoption"),
    ("activat", "low_adoption"),
    ("ticket", "technical_issues"),
    ("sev", "technical_issues"),
    ("escalat", "technical_issues"),
    ("nps", "value_perception"),
    ("detractor", "value_perception"),
)
#: Reasons without a playbook of their own borrow the closest one's.
REASON_PLAYBOOK_FALLBACK = {"executive_turnover": "champion_left", "budget_cuts": "pricing"}
#: A weak health category hints at the reason when no alert names one.
CATEGORY_REASON = {
    "usage": "low_adoption",
    "engagement": "technical_issues",
    "outcomes": "value_perception",
    "sentiment": "value_perception",
}
CRITERIA = {
    "low_adoption": "Monthly active users back to their level of 60 days ago",
    "technical_issues": "No open sev-1/2 tickets; ticket volume back to its usual level",
    "value_perception": "Value review held; next NPS response 7 or higher",
    "pricing": "Commercial terms agreed with the buyer",
    "competitive_threat": "Competitor evaluation closed in our favour",
    "champion_left": "New champion named and engaged in a call",
    "executive_turnover": "New executive sponsor met and engaged",
    "budget_cuts": "Renewal budget confirmed by the buyer",
}


# -- records ------------------------------------------------------------------------------------
@dataclass
class TemplateStep:
    """One step of a playbook template."""

    title: str
    offset_days: int


@dataclass
class PlaybookTemplate:
    """A playbook template as stored in the book (editable by the user)."""

    id: str
    name: str
    description: str
    reason: str | None
    steps: list[TemplateStep] = field(default_factory=list)


@dataclass(frozen=True)
class TaskItem:
    """One task on the user's checklist, with the plan or playbook it belongs to."""

    id: str
    account_id: str
    account_name: str
    title: str
    due_date: str | None
    done: bool
    group: str  # tasks of one playbook application / save plan share a group
    group_label: str
    overdue: bool


@dataclass(frozen=True)
class ApplyResult:
    """What applying a playbook created."""

    account_id: str
    account_name: str
    playbook_name: str
    task_ids: list[str]
    event_id: str
    last_due: str | None


@dataclass
class SavePlanDraft:
    """A save plan before it is created: prefilled from the data, then edited in the form."""

    account_id: str
    account_name: str
    alert_id: int | None
    risk_level: str
    reasons: list[str]
    playbook_ids: list[str]
    owner: str
    sponsor: str
    target_date: str
    success_criteria: str
    playbooks: list[PlaybookTemplate] = field(default_factory=list)  # all, for the form


@dataclass(frozen=True)
class SavePlanResult:
    """What creating a save plan wrote."""

    plan_id: str
    account_id: str
    account_name: str
    task_ids: list[str]
    event_id: str
    alert_closed: bool
    score: Any  # the account's AccountScore after the rescore (None without the engine)

    def summary(self) -> str:
        """In words, for a toast."""
        text = f"Save plan created for {self.account_name}: {len(self.task_ids)} tasks"
        return text + ("; alert closed (covered by save plan)" if self.alert_closed else "")


@dataclass(frozen=True)
class SavePlanSummary:
    """An open save plan, for lists."""

    id: str
    account_id: str
    account_name: str
    risk_level: str
    reasons: list[str]
    target_date: str | None
    tasks_done: int
    tasks_total: int


# -- playbook templates -------------------------------------------------------------------------
def list_playbooks(book) -> list[PlaybookTemplate]:
    """Every playbook template in the book, with its steps, by name."""
    with book.read() as conn:
        heads = conn.execute(
            "SELECT id, name, description, reason FROM playbooks ORDER BY name COLLATE NOCASE"
        ).fetchall()
        steps = conn.execute(
            "SELECT playbook_id, title, offset_days FROM playbook_steps "
            "ORDER BY playbook_id, position"
        ).fetchall()
    by_id = {h["id"]: PlaybookTemplate(h[0], h[1], h[2], h[3]) for h in heads}
    for s in steps:
        if s[0] in by_id:
            by_id[s[0]].steps.append(TemplateStep(s[1], int(s[2])))
    return list(by_id.values())


def _load_playbook(conn: sqlite3.Connection, playbook_id: str) -> PlaybookTemplate:
    head = conn.execute(
        "SELECT id, name, description, reason FROM playbooks WHERE id = ?", (playbook_id,)
    ).fetchone()
    if head is None:
        raise NotFound(f"no playbook {playbook_id!r} in this book")
    steps = conn.execute(
        "SELECT title, offset_days FROM playbook_steps WHERE playbook_id = ? ORDER BY position",
        (playbook_id,),
    ).fetchall()
    return PlaybookTemplate(*head, [TemplateStep(s[0], int(s[1])) for s in steps])


def format_steps(steps: list[TemplateStep]) -> str:
    """Steps as editable text: one per line, "DAY  TITLE" (e.g. "7  Admin training")."""
    return "\n".join(f"{s.offset_days:>3}  {s.title}" for s in steps)


_STEP_LINE = re.compile(r"^\s*(?:day\s*)?([+-]?\d+)\s*[|:.,-]?\s+(\S.*)$", re.IGNORECASE)


def parse_steps(text: str) -> list[TemplateStep]:
    """Parse "DAY  TITLE" lines (blank lines ignored); a bad line is named by its number."""
    steps = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        match = _STEP_LINE.match(line)
        if not match:
            raise ValidationError(
                "steps", f"line {number}: {line.strip()!r} — write the day, then the title"
            )
        offset, title = int(match[1]), match[2].strip()
        if not OFFSET_RANGE[0] <= offset <= OFFSET_RANGE[1]:
            raise ValidationError(
                "steps",
                f"line {number}: day {offset} is outside {OFFSET_RANGE[0]}…{OFFSET_RANGE[1]}",
            )
        steps.append(TemplateStep(title[:200], offset))
    return steps


def save_playbook(book, template: PlaybookTemplate) -> PlaybookTemplate:
    """Replace a template's name, description and steps (one durable transaction)."""
    name = " ".join((template.name or "").split())
    if not name:
        raise ValidationError("name", "is empty; give the playbook a name")
    if not template.steps:
        raise ValidationError("steps", "a playbook needs at least one step")
    if len(template.steps) > MAX_STEPS:
        raise ValidationError("steps", f"{len(template.steps)} steps; at most {MAX_STEPS}")
    with book.write(durable=True) as conn:
        _load_playbook(conn, template.id)  # raises NotFound
        conn.execute(
            "UPDATE playbooks SET name = ?, description = ? WHERE id = ?",
            (name[:200], (template.description or "").strip()[:MAX_TEXT], template.id),
        )
        conn.execute("DELETE FROM playbook_steps WHERE playbook_id = ?", (template.id,))
        conn.executemany(
            "INSERT INTO playbook_steps (playbook_id, position, title, offset_days) "
            "VALUES (?, ?, ?, ?)",
            [(template.id, i, s.title, s.offset_days) for i, s in enumerate(template.steps, 1)],
        )
        return _load_playbook(conn, template.id)


# -- applying playbooks -------------------------------------------------------------------------
def apply_playbook(
    book, account_id: str, playbook_id: str, start: date | None = None
) -> ApplyResult:
    """Turn a playbook's steps into the account's tasks, due start + offset; log it."""
    first_day = start or clock.today()
    with book.write(durable=True) as conn:
        name = _account_name(conn, account_id)
        playbook = _load_playbook(conn, playbook_id)
        if not playbook.steps:
            raise ValidationError("playbook", f"{playbook.name} has no steps; add some first")
        task_ids = _insert_tasks(conn, account_id, playbook, first_day, None)
        event_id = _system_event(
            conn, account_id, f"Playbook applied: {playbook.name} ({len(task_ids)} tasks)"
        )
    last = max(first_day + timedelta(days=s.offset_days) for s in playbook.steps)
    return ApplyResult(account_id, name, playbook.name, task_ids, event_id, last.isoformat())


def _insert_tasks(
    conn: sqlite3.Connection,
    account_id: str,
    playbook: PlaybookTemplate,
    start: date,
    plan_id: str | None,
) -> list[str]:
    created = clock.now_iso()
    rows = [
        (
            new_id("TK"),
            account_id,
            step.title,
            (start + timedelta(days=step.offset_days)).isoformat(),
            playbook.id,
            plan_id,
            created,
        )
        for step in playbook.steps
    ]
    conn.executemany(
        "INSERT INTO tasks (id, account_id, title, due_date, playbook_id, save_plan_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return [r[0] for r in rows]


def _account_name(conn: sqlite3.Connection, account_id: str) -> str:
    row = conn.execute("SELECT name FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise NotFound(f"no account with id {account_id!r}")
    return row[0]


def _system_event(conn: sqlite3.Connection, account_id: str, text: str) -> str:
    event_id = new_id("EV")
    conn.execute(
        "INSERT INTO events (id, account_id, at, kind, text, author) "
        "VALUES (?, ?, ?, 'system', ?, 'csm')",
        (event_id, account_id, clock.now_iso(), text),
    )
    return event_id


# -- tasks --------------------------------------------------------------------------------------
def current_user(book) -> str | None:
    """The user's name from the book's meta ('user_name'), if set."""
    value = book.scalar("SELECT value FROM meta WHERE key = 'user_name'")
    return value or None


def open_tasks(book, owner: str | None = None, limit: int = MAX_TASKS) -> list[TaskItem]:
    """Tasks of every plan/playbook run that still has open tasks (done ones too, for progress).

    `owner` keeps accounts owned by that person. Runs are ordered by their soonest open due date.
    """
    sql = """
        SELECT t.id, t.account_id, a.name AS account_name, t.title, t.due_date, t.done,
               t.save_plan_id, t.playbook_id, t.created_at, p.name AS playbook_name,
               sp.risk_level
        FROM tasks t JOIN accounts a ON a.id = t.account_id
        LEFT JOIN playbooks p ON p.id = t.playbook_id
        LEFT JOIN save_plans sp ON sp.id = t.save_plan_id
        WHERE (:owner IS NULL OR a.owner = :owner)
          AND EXISTS (SELECT 1 FROM tasks o WHERE o.account_id = t.account_id AND o.done = 0
                      AND (o.save_plan_id = t.save_plan_id
                           OR (t.save_plan_id IS NULL AND o.save_plan_id IS NULL
                               AND o.playbook_id IS t.playbook_id
                               AND o.created_at = t.created_at)))
        ORDER BY t.due_date, t.id
        LIMIT :limit"""
    today = clock.today().isoformat()
    rows = book.query(sql, {"owner": owner, "limit": limit})
    items = [_task_item(r, today) for r in rows]
    soonest: dict[str, str] = {}
    for item in items:
        if not item.done:
            soonest.setdefault(item.group, item.due_date or "9999")
    items.sort(key=lambda i: (soonest.get(i.group, "9999"), i.group, i.due_date or "9999", i.id))
    return items


def _task_item(r: sqlite3.Row, today: str) -> TaskItem:
    if r["save_plan_id"]:
        group, what = r["save_plan_id"], f"Save plan ({r['risk_level']} risk)"
    else:
        group = f"{r['account_id']}|{r['playbook_id']}|{r['created_at']}"
        what = r["playbook_name"] or "Tasks"
    due = r["due_date"]
    return TaskItem(
        id=r["id"],
        account_id=r["account_id"],
        account_name=r["account_name"],
        title=r["title"],
        due_date=due,
        done=bool(r["done"]),
        group=group,
        group_label=f"{r['account_name']} — {what}",
        overdue=bool(due) and not r["done"] and due < today,
    )


def toggle_task(book, task_id: str) -> bool:
    """Mark a task done (or not done again) in one durable transaction; returns the new state."""
    with book.write(durable=True) as conn:
        row = conn.execute("SELECT done FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            raise NotFound(f"task {task_id} no longer exists")
        done = not row[0]
        conn.execute(
            "UPDATE tasks SET done = ?, done_at = ? WHERE id = ?",
            (int(done), clock.now_iso() if done else None, task_id),
        )
    return done


# -- save plans ---------------------------------------------------------------------------------
def risk_level(band: str | None, churn_prob: float | None, risk_segment: str | None) -> str:
    """high / medium / low from the health band and the churn model (the worse of the two)."""
    if band == "red" or risk_segment == "high" or (churn_prob or 0) >= 0.5:
        return "high"
    if band in ("yellow", "insufficient") or risk_segment == "medium" or (churn_prob or 0) >= 0.25:
        return "medium"
    return "low"


def reasons_for_rules(rules: list[str], details: list[dict] | None = None) -> list[str]:
    """The save-plan reasons the account's alert rules point to, in the reasons' own order.

    A departed stakeholder is told apart by the alert's detail: a sponsor who left is
    executive turnover, a champion who left is champion left.
    """
    found = set()
    for rule, detail in zip(rules, details or [{}] * len(rules), strict=True):
        if detail.get("left_role") == "sponsor":
            found.add("executive_turnover")
            continue
        found |= {reason for word, reason in RULE_REASON_WORDS if word in rule.lower()}
    return [r for r in SAVE_REASONS if r in found]


def suggested_playbooks(reasons: list[str], playbooks: list[PlaybookTemplate]) -> list[str]:
    """The ids of the templates answering these reasons (borrowing a close one's if needed)."""
    by_reason = {p.reason: p.id for p in playbooks if p.reason}
    chosen: list[str] = []
    for reason in reasons:
        pid = by_reason.get(reason) or by_reason.get(REASON_PLAYBOOK_FALLBACK.get(reason, ""))
        if pid and pid not in chosen:
            chosen.append(pid)
    return chosen


def draft_save_plan(book, account_id: str, alert_id: int | None = None) -> SavePlanDraft:
    """A save plan prefilled from the account's scores, alerts, sponsor and renewal."""
    with book.read() as conn:
        facts = _plan_facts(conn, account_id, alert_id)
    playbooks = list_playbooks(book)
    reasons = reasons_for_rules(facts["rules"], facts["details"]) or _weakest_reason(facts["parts"])
    today = clock.today()
    return SavePlanDraft(
        account_id=account_id,
        account_name=facts["name"],
        alert_id=alert_id,
        risk_level=risk_level(facts["band"], facts["churn_prob"], facts["risk_segment"]),
        reasons=reasons,
        playbook_ids=suggested_playbooks(reasons, playbooks),
        owner=facts["owner"] or "",
        sponsor=facts["sponsor"] or "",
        target_date=target_date(facts["renewal"], today).isoformat(),
        success_criteria=success_criteria(reasons),
        playbooks=playbooks,
    )


def _plan_facts(conn: sqlite3.Connection, account_id: str, alert_id: int | None) -> dict:
    acc = conn.execute(
        "SELECT name, owner, health_band, churn_prob, risk_segment, renewal_date "
        "FROM accounts WHERE id = ?",
        (account_id,),
    ).fetchone()
    if acc is None:
        raise NotFound(f"no account with id {account_id!r}")
    one = lambda sql: (conn.execute(sql, (account_id,)).fetchone() or (None,))[0]  # noqa: E731
    alerts = conn.execute(
        "SELECT rule, detail FROM alerts WHERE account_id = ? AND (status != 'done' OR id = ?)",
        (account_id, alert_id),
    ).fetchall()
    renewal = (
        one("SELECT min(due_date) FROM renewals WHERE account_id = ? AND outcome IS NULL")
        or acc["renewal_date"]
    )
    user = conn.execute("SELECT value FROM meta WHERE key = 'user_name'").fetchone()
    parts = latest_snapshot(conn, account_id)
    return {
        "name": acc["name"],
        "owner": acc["owner"] or (user[0] if user else None),
        "band": acc["health_band"],
        "churn_prob": acc["churn_prob"],
        "risk_segment": acc["risk_segment"],
        "renewal": renewal,
        "rules": [a[0] for a in alerts],
        "details": [_json_dict(a[1]) for a in alerts],
        "sponsor": one(
            "SELECT name FROM contacts WHERE account_id = ? AND role = 'sponsor' AND active = 1 "
            "ORDER BY name LIMIT 1"
        ),
        "parts": {k: parts[k] for k in ("usage", "engagement", "outcomes", "sentiment")}
        if parts
        else {},
    }


def _weakest_reason(parts: dict) -> list[str]:
    """No alert names a reason: take the weakest health category's (if any was scored)."""
    scored = {k: v for k, v in parts.items() if v is not None}
    if not scored:
        return []
    return [CATEGORY_REASON[min(scored, key=scored.get)]]


def target_date(renewal: str | None, today: date) -> date:
    """Renewal − 30 days; the renewal itself if that is past; today + 30 without a renewal."""
    if renewal:
        due = date.fromisoformat(renewal[:10])
        if due - timedelta(days=30) > today:
            return due - timedelta(days=30)
        if due > today:
            return due
    return today + timedelta(days=30)


def success_criteria(reasons: list[str]) -> str:
    """Prefilled, measurable criteria: back to green plus one line per reason."""
    lines = ["Health back to green (75 or more) and the renewal called commit"]
    lines += [CRITERIA[r] for r in reasons if r in CRITERIA]
    return "; ".join(lines)


def create_save_plan(book, draft: SavePlanDraft) -> SavePlanResult:
    """Create the plan, its playbooks' tasks and a timeline event; close the alert it answers
    (covered by save plan) and rescore the account — all in ONE durable transaction."""
    _validate_draft(draft)
    plan_id = new_id("SP")
    start = clock.today()
    with book.write(durable=True) as conn:
        name = _account_name(conn, draft.account_id)
        conn.execute(
            "INSERT INTO save_plans (id, account_id, alert_id, risk_level, reasons, owner, "
            "sponsor, target_date, success_criteria, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                plan_id, draft.account_id, draft.alert_id, draft.risk_level,
                json.dumps(draft.reasons), draft.owner.strip() or None,
                draft.sponsor.strip() or None, draft.target_date,
                draft.success_criteria.strip(), clock.now_iso(),
            ),
        )  # fmt: skip
        task_ids: list[str] = []
        for playbook_id in draft.playbook_ids:
            playbook = _load_playbook(conn, playbook_id)
            task_ids += _insert_tasks(conn, draft.account_id, playbook, start, plan_id)
        event_id = _system_event(conn, draft.account_id, _plan_event_text(draft, len(task_ids)))
        alert_closed = _close_answered_alert(conn, draft.alert_id, draft.account_id)
        score = _rescore(conn, draft.account_id)
    return SavePlanResult(plan_id, draft.account_id, name, task_ids, event_id, alert_closed, score)


def _validate_draft(draft: SavePlanDraft) -> None:
    if draft.risk_level not in RISK_LEVELS:
        raise ValidationError("risk level", f"{draft.risk_level!r}; use high, medium or low")
    unknown = [r for r in draft.reasons if r not in SAVE_REASONS]
    if unknown:
        raise ValidationError("reasons", f"unknown reason {unknown[0]!r}")
    try:
        target = date.fromisoformat(draft.target_date.strip())
    except ValueError:
        raise ValidationError(
            "target date", f"{draft.target_date!r} is not a date; use YYYY-MM-DD"
        ) from None
    if target < clock.today():
        raise ValidationError("target date", f"{target.isoformat()} is in the past")
    draft.target_date = target.isoformat()
    for label, text in (("owner", draft.owner), ("sponsor", draft.sponsor)):
        if len(text or "") > 200:
            raise ValidationError(label, "is longer than 200 characters")
    if len(draft.success_criteria or "") > MAX_TEXT:
        raise ValidationError("success criteria", f"is longer than {MAX_TEXT} characters")


def _plan_event_text(draft: SavePlanDraft, task_count: int) -> str:
    reasons = ", ".join(REASON_LABELS.get(r, r).lower() for r in draft.reasons) or "no reason given"
    return (
        f"Save plan opened ({draft.risk_level} risk): {reasons}; {task_count} tasks; "
        f"target {draft.target_date}"
    )


def _close_answered_alert(conn: sqlite3.Connection, alert_id: int | None, account_id: str) -> bool:
    if alert_id is None:
        return False
    cursor = conn.execute(
        "UPDATE alerts SET status = 'done', closed_at = ?, close_reason = ?, "
        "snoozed_until = NULL, snooze_reason = NULL "
        "WHERE id = ? AND account_id = ? AND status != 'done'",
        (clock.now_iso(), COVERED_BY_SAVE_PLAN, alert_id, account_id),
    )
    return cursor.rowcount == 1


def _rescore(conn: sqlite3.Connection, account_id: str) -> Any:
    """The scoring engine's `rescore_account`, in the caller's transaction (None if absent)."""
    try:
        from csm_tui.scoring.engine import rescore_account
    except ModuleNotFoundError as exc:
        if exc.name in ("csm_tui.scoring", "csm_tui.scoring.engine"):
            return None  # a build without the scoring engine: the plan is still valid
        raise
    return rescore_account(conn, account_id)


def close_save_plan(book, plan_id: str, outcome: str, lessons: str = "") -> str:
    """Close an open save plan as saved or lost, with lessons learned; log it; say what happened."""
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", f"{outcome!r}; use saved or lost")
    text = (lessons or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError("lessons", f"is longer than {MAX_TEXT} characters")
    with book.write(durable=True) as conn:
        row = conn.execute(
            "SELECT account_id FROM save_plans WHERE id = ? AND status = 'open'", (plan_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"save plan {plan_id} is not open (already closed or removed)")
        conn.execute(
            "UPDATE save_plans SET status = ?, closed_at = ?, lessons = ? WHERE id = ?",
            (outcome, clock.now_iso(), text or None, plan_id),
        )
        name = _account_name(conn, row[0])
        note = f" — lessons: {text}" if text else ""
        _system_event(conn, row[0], f"Save plan closed: {outcome}{note}")
    return f"Save plan for {name} closed as {outcome}"


def open_save_plans(book, account_id: str | None = None) -> list[SavePlanSummary]:
    """Open save plans (of one account, or all), soonest target first, with task progress."""
    rows = book.query(
        """SELECT sp.id, sp.account_id, a.name, sp.risk_level, sp.reasons, sp.target_date,
                  (SELECT count(*) FROM tasks t WHERE t.save_plan_id = sp.id AND t.done = 1),
                  (SELECT count(*) FROM tasks t WHERE t.save_plan_id = sp.id)
           FROM save_plans sp JOIN accounts a ON a.id = sp.account_id
           WHERE sp.status = 'open' AND (:account IS NULL OR sp.account_id = :account)
           ORDER BY sp.target_date, sp.id""",
        {"account": account_id},
    )
    return [
        SavePlanSummary(r[0], r[1], r[2], r[3], _json_list(r[4]), r[5], r[6], r[7]) for r in rows
    ]


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _json_dict(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
