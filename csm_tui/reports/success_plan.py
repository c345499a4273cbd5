"""Seed 002's customer success plan, filled from one account's objectives, tasks and people."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from csm_tui.reports.facts import AccountFacts, load_facts
from csm_tui.reports.markdown import (
    is_missing,
    money,
    nice_date,
    number,
    percent,
    table,
    text,
    words,
    write_private,
)
from csm_tui.reports.qbr import STATUS_WORDS, next_qbr, objective_progress, with_unit

ENGAGEMENT = {"sponsor": "High (sponsor)", "champion": "High (champion)",
              "admin": "Medium (admin)", "user": "Medium (user)"}  # fmt: skip
MAX_MILESTONES = 20


def write_success_plan(book, account_id: str, path: Path, today: date | None = None) -> Path:
    """Write the account's success plan as Markdown to `path` (0600); return the path."""
    return write_private(Path(path), success_plan_markdown(book, account_id, today))


def success_plan_markdown(book, account_id: str, today: date | None = None) -> str:
    """The account's success plan as Markdown text."""
    facts = load_facts(book, account_id, today)
    milestones = _all_tasks(book, account_id)
    sections = [
        _header(facts), _profile(facts), _objectives(facts), _criteria(facts),
        _milestones(milestones), _stakeholders(facts), _risks(facts), _metrics(facts),
        _schedule(facts),
    ]  # fmt: skip
    return "\n\n".join("\n".join(part) for part in sections) + "\n"


def _all_tasks(book, account_id: str) -> list[dict]:
    rows = book.query(
        "SELECT title, due_date, done, done_at FROM tasks WHERE account_id = ? "
        "ORDER BY due_date IS NULL, due_date, id LIMIT ?",
        (account_id, MAX_MILESTONES),
    )
    return [dict(r) for r in rows]


def _sponsor(facts: AccountFacts) -> dict | None:
    return next((c for c in facts.contacts if c["role"] == "sponsor" and c["active"]), None)


def _header(facts: AccountFacts) -> list[str]:
    acc, sponsor = facts.account, _sponsor(facts)
    who = "none recorded: identify one"
    if sponsor:
        who = sponsor["name"] + (f", {sponsor['title']}" if sponsor["title"] else "")
    return [
        f"# Customer Success Plan: {facts.name}",
        "",
        f"**Customer**: {facts.name} ({acc['id']})  ",
        f"**Start Date**: {nice_date(acc['start_date'])}  ",
        f"**CSM**: {text(acc['owner'], 'unassigned')}  ",
        f"**Executive Sponsor** (Customer side): {who}",
    ]


def _profile(facts: AccountFacts) -> list[str]:
    acc = facts.account
    onboarding = "activated on " + nice_date(acc["activated_on"]) if acc["activated_on"] else (
        f"not activated yet ({number(acc['onboarding_pct'])}% onboarded)"
        if not is_missing(acc["onboarding_pct"]) else "not activated yet")  # fmt: skip
    return [
        "## Customer Profile",
        "",
        f"- **Industry**: {text(acc['industry'])}",
        f"- **Size**: {number(acc['seats'])} licensed seats · {text(acc['segment'], 'no segment')}"
        f" · {text(acc['tier'], 'no tier')} tier",
        f"- **Plan**: {text(acc['plan'])} · lifecycle stage {text(acc['stage'])}",
        f"- **Contract**: {money(acc['arr'])} ARR, {nice_date(acc['start_date'])} - "
        f"{nice_date(acc['renewal_date'])}",
        f"- **Onboarding**: {onboarding}",
    ]


def _objectives(facts: AccountFacts) -> list[str]:
    lines = ["## Business Objectives", ""]
    if not facts.objectives:
        return lines + ["No objectives are recorded yet. Agree two or three measurable "
                        "objectives (baseline, target, due date) with the sponsor."]  # fmt: skip
    for k, o in enumerate(facts.objectives, 1):
        lines += [
            f"{k}. **Objective**: {o['title']}",
            f"   - **Baseline**: {with_unit(o['baseline'], o['unit'])}",
            f"   - **Target**: {with_unit(o['target'], o['unit'])}",
            f"   - **Current**: {with_unit(o['current'], o['unit'])}",
            f"   - **Timeline**: due {nice_date(o['due_date'])}",
            f"   - **Status**: {STATUS_WORDS.get(o['status'], words(o['status']))}",
        ]
    return lines


def _criteria(facts: AccountFacts) -> list[str]:
    lines = ["## Success Criteria", ""]
    for o in facts.objectives:
        mark = "x" if o["status"] == "done" else " "
        lines.append(f"- [{mark}] {o['title']}: {with_unit(o['target'], o['unit'])} "
                     f"(by {nice_date(o['due_date'])})")  # fmt: skip
    acc = facts.account
    mark = "x" if acc["activated_on"] else " "
    lines.append(f"- [{mark}] First value reached (activation)")
    return lines


def _milestones(tasks: list[dict]) -> list[str]:
    lines = ["## Milestones", ""]
    if not tasks:
        return lines + ["No milestones yet: apply an onboarding or adoption playbook to the "
                        "account to create them with due dates."]  # fmt: skip
    for task in tasks:
        mark = "x" if task["done"] else " "
        when = f"done {nice_date(task['done_at'])}" if task["done"] else (
            f"due {nice_date(task['due_date'], 'no due date')}")  # fmt: skip
        lines.append(f"- [{mark}] {task['title']} ({when})")
    return lines


def _stakeholders(facts: AccountFacts) -> list[str]:
    lines = ["## Stakeholders", ""]
    if not facts.contacts:
        return lines + ["No contacts are recorded: add the sponsor, the champion and key users."]
    rows = []
    for c in facts.contacts:
        level = ENGAGEMENT.get(c["role"], words(c["role"]).capitalize())
        if not c["active"]:
            level = f"Left ({nice_date(c['left_on'], 'date not recorded')})"
        role = text(c["title"], words(c["role"]).capitalize())
        rows.append((c["name"], role, level, words(c["sentiment"]).capitalize()))
    return lines + [table(("Name", "Role", "Engagement Level", "Sentiment"), rows)]


def _risks(facts: AccountFacts) -> list[str]:
    rows = [(a["reason"], a["severity"].capitalize(), _mitigation(facts, a["id"]))
            for a in facts.alerts_open]  # fmt: skip
    for plan in facts.save_plans:
        if plan["status"] == "open":
            reasons = ", ".join(words(r) for r in _reasons(plan["reasons"])) or "risk of churn"
            rows.append((f"Save plan {plan['id']}: {reasons}", plan["risk_level"].capitalize(),
                         text(plan["success_criteria"], "success criteria not set")))  # fmt: skip
    lines = ["## Risks and Mitigation", ""]
    if not rows:
        return lines + ["No open risk alerts or save plans."]
    return lines + [table(("Risk", "Impact", "Mitigation"), rows)]


def _reasons(raw) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return [str(raw)]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _mitigation(facts: AccountFacts, alert_id: int) -> str:
    plan = next((p for p in facts.save_plans if p["alert_id"] == alert_id), None)
    if plan:
        return f"Save plan {plan['id']} (owner {text(plan['owner'], 'unassigned')})"
    return "Agree a next step with the customer; open a save plan if it persists"


def _metrics(facts: AccountFacts) -> list[str]:
    rows = [(o["title"], with_unit(o["baseline"], o["unit"]), with_unit(o["current"], o["unit"]),
             with_unit(o["target"], o["unit"]), percent(objective_progress(o), missing="n/a"))
            for o in facts.objectives]  # fmt: skip
    acc, now, before = facts.account, facts.usage_now, facts.usage_before
    if now and now["seats"] and not is_missing(now["active_users"]):
        start = percent(before["active_users"] / before["seats"]) if (
            before and before["seats"] and not is_missing(before["active_users"])) else "n/a"  # fmt: skip
        rows.append(("Seat utilisation", start, percent(now["active_users"] / now["seats"]),
                     "80%", "n/a"))  # fmt: skip
    if not is_missing(acc["health_score"]):
        rows.append(("Health score", "n/a", number(acc["health_score"]), "75 (green)", "n/a"))
    lines = ["## Success Metrics", ""]
    if not rows:
        return lines + ["No measurable figures are recorded yet."]
    return lines + [table(("Metric", "Baseline", "Now", "Target", "Progress"), rows)]


def _schedule(facts: AccountFacts) -> list[str]:
    review, focus = next_qbr(facts)
    lines = ["## Business Review Schedule", ""]
    if facts.last_qbr:
        lines.append(f"- Last business review: {nice_date(facts.last_qbr)}")
    lines.append(f"- Next business review: {review.isoformat()} ({focus})")
    lines.append(f"- Renewal: {nice_date(facts.account['renewal_date'])}")
    return lines
