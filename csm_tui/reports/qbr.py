"""The quarterly business review of seed 002's template, filled from one account's data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from csm_tui.reports.facts import AccountFacts, load_facts
from csm_tui.reports.markdown import (
    is_missing,
    money,
    nice_date,
    number,
    percent,
    signed,
    table,
    text,
    words,
    write_private,
)

STATUS_WORDS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
                "done": "Done"}  # fmt: skip
PARTS = (("usage", "Usage", 40), ("engagement", "Engagement", 30),
         ("outcomes", "Business outcomes", 20), ("sentiment", "Sentiment", 10))  # fmt: skip
#: Seat use at or above this share is the expansion signal (SPEC's alert rule).
SEAT_SIGNAL = 0.9
DAYS_TO_NEXT_QBR = 91


def write_qbr(book, account_id: str, path: Path, today: date | None = None) -> Path:
    """Write the account's QBR as Markdown to `path` (0600); return the path."""
    return write_private(Path(path), qbr_markdown(book, account_id, today))


def qbr_markdown(book, account_id: str, today: date | None = None) -> str:
    """The account's QBR as Markdown text."""
    facts = load_facts(book, account_id, today)
    quarter = (facts.today.month - 1) // 3 + 1
    acc = facts.account
    header = [
        f"# Quarterly Business Review: {facts.name} - Q{quarter} {facts.today.year}",
        "",
        f"*Prepared {facts.today.isoformat()} from the csm book. Account {acc['id']} · "
        f"CSM {text(acc['owner'], 'unassigned')} · {text(acc['segment'], 'no segment')} · "
        f"{text(acc['tier'], 'no tier')} tier · ARR {money(acc['arr'])}.*",
    ]
    sections = [
        header, _summary(facts), _objectives(facts), _usage(facts), _value(facts),
        _health(facts), _challenges(facts), _opportunities(facts), _action_items(facts),
        _next_qbr(facts),
    ]  # fmt: skip
    return "\n\n".join("\n".join(part) for part in sections) + "\n"


# -- executive summary -------------------------------------------------------------------------


def _summary(facts: AccountFacts) -> list[str]:
    return ["## Executive Summary", "", _health_sentence(facts), "",
            _adoption_sentence(facts), "", _outlook_sentence(facts)]  # fmt: skip


def _health_sentence(facts: AccountFacts) -> str:
    acc = facts.account
    if is_missing(acc["health_score"]):
        return (f"{facts.name} does not have enough data yet for a confident health score; "
                "the usage and engagement figures below are what the book holds.")  # fmt: skip
    sentence = (f"{facts.name} is **{acc['health_band']}** with a health score of "
                f"{number(acc['health_score'])}/100")  # fmt: skip
    if not is_missing(acc["health_delta_30"]):
        sentence += f" ({signed(acc['health_delta_30'])} points in 30 days)"
    objectives = facts.objectives
    if objectives:
        good = sum(o["status"] in ("on_track", "done") for o in objectives)
        noun = "objective is" if len(objectives) == 1 else "objectives are"
        sentence += f". {good} of {len(objectives)} business {noun} on track or done"
    return sentence + "."


def _adoption_sentence(facts: AccountFacts) -> str:
    usage = facts.usage_now
    if not usage:
        return f"No product usage is recorded for {facts.name} yet."
    parts = []
    if usage["seats"] and not is_missing(usage["active_users"]):
        share = usage["active_users"] / usage["seats"]
        parts.append(f"{number(usage['active_users'])} of {number(usage['seats'])} licensed "
                     f"seats are active ({percent(share)})")  # fmt: skip
    if usage["mau"] and not is_missing(usage["dau"]):
        parts.append(f"daily/monthly stickiness is {percent(usage['dau'] / usage['mau'])}")
    if usage["features_total"] and not is_missing(usage["features_used"]):
        parts.append(f"{number(usage['features_used'])} of {number(usage['features_total'])} "
                     "core features are in use")  # fmt: skip
    if not parts:
        return f"The latest usage snapshot ({nice_date(usage['date'])}) has no adoption figures."
    return f"As of {nice_date(usage['date'])}, " + "; ".join(parts) + "."


def _outlook_sentence(facts: AccountFacts) -> str:
    risks = len(facts.alerts_open)
    sentence = (f"There {'is' if risks == 1 else 'are'} {risks} open risk "
                f"alert{'' if risks == 1 else 's'} and {len(facts.tickets_open)} open support "
                f"ticket{'' if len(facts.tickets_open) == 1 else 's'}.")  # fmt: skip
    renewal = facts.renewal_open
    if renewal:
        days = (date.fromisoformat(renewal["due_date"][:10]) - facts.today).days
        when = f"in {days} days" if days >= 0 else f"{-days} days ago"
        sentence += (f" The renewal of {money(renewal['arr_before'])} is due on "
                     f"{renewal['due_date'][:10]} ({when})")  # fmt: skip
        if renewal["csm_call"]:
            sentence += f"; the CSM's call is {words(renewal['csm_call'])}"
        sentence += "."
    return sentence + " Recommendation: " + _recommendation(facts)


def _recommendation(facts: AccountFacts) -> str:
    band = facts.account["health_band"]
    if band == "red" or any(a["severity"] == "high" for a in facts.alerts_open):
        return "work the challenges below first and agree a save plan with the sponsor."
    if any(o["status"] in ("at_risk", "off_track") for o in facts.objectives):
        return "agree a recovery plan for the objectives that are behind."
    if facts.account["expansion_candidate"]:
        return "discuss expansion: the account meets the expansion signal."
    return "keep the current cadence and prepare the renewal with the value delivered below."


# -- objectives, usage, value --------------------------------------------------------------------


def objective_progress(objective: dict) -> float | None:
    """Share of the way from baseline to target (None without the three figures)."""
    base, target, current = objective["baseline"], objective["target"], objective["current"]
    if any(is_missing(v) for v in (base, target, current)) or target == base:
        return None
    return (current - base) / (target - base)


def with_unit(value, unit) -> str:
    """An objective figure with its unit ("3 hours", "76 %")."""
    if is_missing(value):
        return "not recorded"
    return f"{number(value, 1).removesuffix('.0')} {text(unit, '')}".strip()


def _objectives(facts: AccountFacts) -> list[str]:
    lines = ["## Business Objectives Progress", ""]
    if not facts.objectives:
        return lines + [f"No success-plan objectives are recorded for {facts.name}. Agree two "
                        "or three measurable objectives at this review."]  # fmt: skip
    for k, objective in enumerate(facts.objectives, 1):
        unit = objective["unit"]
        lines += [
            f"### Objective {k}: {objective['title']}",
            f"**Status**: {STATUS_WORDS.get(objective['status'], words(objective['status']))}",
            "",
            f"- Baseline: {with_unit(objective['baseline'], unit)}",
            f"- Current: {with_unit(objective['current'], unit)}" + _progress_note(objective),
            f"- Target: {with_unit(objective['target'], unit)}",
            f"- Due: {nice_date(objective['due_date'])}",
            "",
        ]
    rows = [
        (o["title"], with_unit(o["baseline"], o["unit"]), with_unit(o["current"], o["unit"]),
         with_unit(o["target"], o["unit"]), percent(objective_progress(o), missing="n/a"),
         STATUS_WORDS.get(o["status"], words(o["status"])))
        for o in facts.objectives
    ]  # fmt: skip
    return lines + [table(("Objective", "Start", "Now", "Target", "Progress", "Status"), rows)]


def _progress_note(objective: dict) -> str:
    share = objective_progress(objective)
    return "" if share is None else f" ({percent(share)} of the way from baseline to target)"


def _usage(facts: AccountFacts) -> list[str]:
    lines = ["## Product Usage", "", "### Adoption Metrics"]
    usage = facts.usage_now
    if not usage:
        return lines + ["", f"No usage snapshots are recorded for {facts.name}."]
    lines += ["", *_adoption_lines(usage), *_usage_change(facts), ""]
    lines += ["### Top Features Used", ""]
    used, total = usage["features_used"], usage["features_total"]
    if is_missing(used) or not total:
        lines.append("This book has no feature-level usage data for the account, so top and "
                     "under-used features cannot be named.")  # fmt: skip
        return lines
    lines += [f"Feature-level usage is not recorded in this book: the usage data counts core "
              f"features in use ({number(used)} of {number(total)}) but does not name them.", "",
              "### Underutilized Features", ""]  # fmt: skip
    idle = int(total - used)
    lines.append(f"{idle} of {number(total)} core features are not in use yet; recommendation: "
                 "a short enablement session on them." if idle > 0 else
                 "Every core feature is in use.")  # fmt: skip
    return lines


def _adoption_lines(usage: dict) -> list[str]:
    lines = []
    if usage["seats"] and not is_missing(usage["active_users"]):
        share = usage["active_users"] / usage["seats"]
        lines.append(f"- **Seat utilisation**: {number(usage['active_users'])}/"
                     f"{number(usage['seats'])} active users ({percent(share)})")  # fmt: skip
    if usage["mau"] and not is_missing(usage["dau"]):
        lines.append(f"- **DAU/MAU (stickiness)**: {number(usage['dau'])}/{number(usage['mau'])} "
                     f"({percent(usage['dau'] / usage['mau'])})")  # fmt: skip
    if usage["features_total"] and not is_missing(usage["features_used"]):
        share = usage["features_used"] / usage["features_total"]
        lines.append(f"- **Feature adoption**: {number(usage['features_used'])}/"
                     f"{number(usage['features_total'])} core features ({percent(share)})")  # fmt: skip
    if not is_missing(usage["logins"]):
        lines.append(f"- **Logins**: {number(usage['logins'])}")
    lines.append(f"- Snapshot of {nice_date(usage['date'])}")
    return lines


def _usage_change(facts: AccountFacts) -> list[str]:
    now, before = facts.usage_now, facts.usage_before
    if not before or not before["mau"] or is_missing(now["mau"]):
        return []
    change = (now["mau"] - before["mau"]) / before["mau"]
    return [f"- Monthly active users {number(before['mau'])} on {nice_date(before['date'])} → "
            f"{number(now['mau'])} now ({signed(100 * change)}%)"]  # fmt: skip


def _value(facts: AccountFacts) -> list[str]:
    lines = ["## Value Delivered", ""]
    moved = [o for o in facts.objectives if (objective_progress(o) or 0) > 0]
    for objective in moved:
        lines.append(
            f"- {objective['title']}: {with_unit(objective['baseline'], objective['unit'])} → "
            f"{with_unit(objective['current'], objective['unit'])} "
            f"({percent(min(objective_progress(objective), 9.99))} of the goal)"
        )
    for task in facts.tasks_done_quarter[:5]:
        lines.append(f"- Completed {nice_date(task['done_at'])}: {task['title']}")
    if len(lines) == 2:
        lines.append("No progress on objectives or completed milestones is recorded for the "
                     "last 90 days; capture the customer's view of value at this review.")  # fmt: skip
    return lines


# -- health, challenges, opportunities, actions ------------------------------------------------


def _health(facts: AccountFacts) -> list[str]:
    acc, snapshot = facts.account, facts.health
    lines = ["## Customer Health Score", ""]
    if is_missing(acc["health_score"]):
        lines.append("**Overall**: insufficient data for a confident score")
    else:
        lines.append(f"**Overall**: {number(acc['health_score'])}/100 "
                     f"({acc['health_band']})")  # fmt: skip
    if snapshot:
        lines += ["", f"Parts on {nice_date(snapshot['date'])} (weight in brackets):", ""]
        for key, label, weight in PARTS:
            value = snapshot.get(key)
            shown = "not enough data" if is_missing(value) else f"{number(value)}/100"
            lines.append(f"- {label} ({weight}%): {shown}")
    lines += ["", *_sentiment_lines(facts)]
    return lines


def _sentiment_lines(facts: AccountFacts) -> list[str]:
    lines = []
    for response in facts.nps_latest[:5]:
        who = text(response.get("contact_name"), "a contact")
        lines.append(f"- NPS {number(response['score'])} from {who} on "
                     f"{nice_date(response['date'])}")  # fmt: skip
    if facts.csat:
        mean = sum(facts.csat) / len(facts.csat)
        lines.append(f"- CSAT {mean:.1f}/5 over {len(facts.csat)} responses in 90 days")
    return lines or ["- No NPS or CSAT responses are recorded."]


def _challenges(facts: AccountFacts) -> list[str]:
    owner = f"CSM ({text(facts.account['owner'], 'unassigned')})"
    rows = []
    for alert in facts.alerts_open:
        status = ("snoozed until " + nice_date(alert["snoozed_until"])
                  if alert["status"] == "snoozed" else "open")  # fmt: skip
        rows.append((alert["reason"], alert["severity"].capitalize(),
                     _alert_action(facts, alert), owner, status))  # fmt: skip
    for ticket in facts.tickets_open:
        impact = "High" if ticket["severity"] <= 2 else "Medium"
        subject = text(ticket["subject"], "support ticket")
        rows.append((f"Ticket {ticket['id']}: {subject} (sev {ticket['severity']}, open since "
                     f"{nice_date(ticket['opened_at'])})", impact,
                     "Follow up with support until resolved", "Support", ticket["status"]))  # fmt: skip
    lines = ["## Challenges and Actions", ""]
    if not rows:
        return lines + ["No open risk alerts or support tickets."]
    return lines + [table(("Challenge", "Impact", "Action Plan", "Owner", "Status"), rows)]


def _alert_action(facts: AccountFacts, alert: dict) -> str:
    plan = next((p for p in facts.save_plans if p["alert_id"] == alert["id"]), None)
    if plan:
        return f"Save plan {plan['id']} ({plan['status']}, target {nice_date(plan['target_date'])})"
    return "Review with the customer and agree a next step"


def _opportunities(facts: AccountFacts) -> list[str]:
    acc, usage = facts.account, facts.usage_now
    lines = ["## Upcoming Opportunities", ""]
    seat_use = None
    if usage and usage["seats"] and not is_missing(usage["active_users"]):
        seat_use = usage["active_users"] / usage["seats"]
    nps = facts.nps_latest[0]["score"] if facts.nps_latest else None
    if acc["expansion_candidate"]:
        lines.append(f"1. **Expansion**: {facts.name} meets the expansion signal (green, seats "
                     f"used {percent(seat_use)}, latest NPS {number(nps)}); propose more seats "
                     "or the next plan.")  # fmt: skip
    elif seat_use is not None and seat_use >= SEAT_SIGNAL:
        lines.append(f"1. **Seats**: {percent(seat_use)} of licensed seats are in use; plan "
                     "the seat increase before the renewal.")  # fmt: skip
    else:
        lines.append(f"1. **Expansion**: not yet: {_not_ready(acc, seat_use, nps)}.")
    lines.append(f"2. **Renewal**: {_renewal_line(facts)}")
    return lines


def _not_ready(acc: dict, seat_use: float | None, nps) -> str:
    reasons = []
    if acc["health_band"] != "green":
        reasons.append(f"health is {text(acc['health_band'], 'unscored')}, not green")
    if seat_use is None:
        reasons.append("seat use is not recorded")
    elif seat_use < SEAT_SIGNAL:
        reasons.append(f"seat use is {percent(seat_use)} (signal at {percent(SEAT_SIGNAL)})")
    if nps is None or nps < 8:
        reasons.append("no NPS of 8 or more" if nps is None else f"latest NPS is {number(nps)}")
    return "; ".join(reasons) or "no expansion signal has fired"


def _renewal_line(facts: AccountFacts) -> str:
    renewal = facts.renewal_open
    if not renewal:
        return f"no open renewal; renewal date {nice_date(facts.account['renewal_date'])}."
    call = f", CSM call {words(renewal['csm_call'])}" if renewal["csm_call"] else ""
    return f"{money(renewal['arr_before'])} due {nice_date(renewal['due_date'])}{call}."


def _action_items(facts: AccountFacts) -> list[str]:
    owner = f"CSM ({text(facts.account['owner'], 'unassigned')})"
    lines = ["## Action Items", ""]
    if not facts.tasks_open:
        return lines + ["No open tasks are recorded; add the actions agreed at this review "
                        "(a playbook on the account screen creates them with due dates)."]  # fmt: skip
    rows = [(task["title"], owner, nice_date(task["due_date"], "no due date"))
            for task in facts.tasks_open[:15]]  # fmt: skip
    return lines + [table(("Action", "Owner", "Due Date"), rows)]


def next_qbr(facts: AccountFacts) -> tuple[date, str]:
    """The next review's date and focus: in a quarter, or a month before a renewal that
    falls before the review after next (never sooner than a week from today)."""
    next_date = facts.today + timedelta(days=DAYS_TO_NEXT_QBR)
    renewal = facts.account["renewal_date"]
    focus = "adoption, objectives and value delivered"
    if not is_missing(renewal):
        due = date.fromisoformat(str(renewal)[:10])
        if facts.today < due <= next_date + timedelta(days=90):
            focus = "renewal preparation and expansion discussion"
            next_date = min(next_date, due - timedelta(days=30))
            next_date = max(next_date, facts.today + timedelta(days=7))
    return next_date, focus


def _next_qbr(facts: AccountFacts) -> list[str]:
    next_date, focus = next_qbr(facts)
    last = f" (last QBR {nice_date(facts.last_qbr)})" if facts.last_qbr else ""
    return ["## Next QBR", "", f"**Date**: {next_date.isoformat()}{last}", f"**Focus**: {focus}"]
