"""The playbook templates csm ships with (seeds 002, 003, 004), installed into every book.

A template is a named list of steps, each due a number of days after the playbook is applied.
Templates are installed with INSERT OR IGNORE, so a user's edits to a shipped template (or a
deleted step list the user rebuilt) are never overwritten by a later open or upgrade.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

#: Why an account is at risk; shared by playbooks (`reason`) and save plans (`reasons`).
SAVE_REASONS: tuple[str, ...] = (
    "low_adoption",
    "technical_issues",
    "value_perception",
    "pricing",
    "competitive_threat",
    "champion_left",
    "executive_turnover",
    "budget_cuts",
)

#: Words for each reason, for forms and reports.
REASON_LABELS: dict[str, str] = {
    "low_adoption": "Low adoption",
    "technical_issues": "Technical issues",
    "value_perception": "Value perception",
    "pricing": "Pricing concerns",
    "competitive_threat": "Competitive threat",
    "champion_left": "Champion left",
    "executive_turnover": "Executive turnover",
    "budget_cuts": "Budget cuts",
}


@dataclass(frozen=True)
class PlaybookStep:
    """One checklist item of a template: its title and when it is due after applying."""

    title: str
    offset_days: int


@dataclass(frozen=True)
class Playbook:
    """A playbook template: applying it to an account creates one task per step."""

    id: str
    name: str
    description: str
    reason: str | None
    steps: tuple[PlaybookStep, ...]


def _steps(*pairs: tuple[str, int]) -> tuple[PlaybookStep, ...]:
    return tuple(PlaybookStep(title, days) for title, days in pairs)


SHIPPED_PLAYBOOKS: tuple[Playbook, ...] = (
    Playbook(
        "onboarding-90",
        "Onboarding 30/60/90",
        "Take a new customer to first value in 30 days and full adoption in 90 "
        "(foundation, expansion, optimisation).",
        None,
        _steps(
            ("Kickoff call and account setup", 0),
            ("Admin training (4 sessions)", 7),
            ("Pilot with a first team of users", 14),
            ("Pilot review and adjustments", 21),
            ("Confirm first value reached (activation)", 30),
            ("Roll out to remaining users", 35),
            ("All users trained", 42),
            ("Knowledge base / content creation", 49),
            ("Usage analytics review with the champion", 63),
            ("Best-practices training", 77),
            ("Onboarding review: success criteria met?", 90),
        ),
    ),
    Playbook(
        "low-adoption",
        "Low adoption",
        "Usage or seat utilisation is falling: find out why, retrain, and assign resources.",
        "low_adoption",
        _steps(
            ("Review usage analytics: who stopped, which features unused", 0),
            ("Call the champion to discuss adoption blockers", 2),
            ("Schedule a training session for inactive users", 7),
            ("Share best practices and a short success story", 10),
            ("Assign resources: enablement or professional services", 14),
            ("Set an adoption target (seats active, core features) with the customer", 14),
            ("Check usage against the target", 30),
            ("Adoption review with the sponsor", 45),
        ),
    ),
    Playbook(
        "technical-issues",
        "Technical issues",
        "Open severity-1/2 tickets or a ticket spike: escalate, work around, and rebuild trust.",
        "technical_issues",
        _steps(
            ("Review open tickets and their severity with support", 0),
            ("Escalate to support / engineering with an owner and ETA", 1),
            ("Send the customer a status update and a workaround", 2),
            ("Daily check on escalation progress", 3),
            ("Confirm the fix with the customer's admin", 14),
            ("Post-incident review call (root cause, prevention)", 21),
            ("Check ticket volume is back to normal", 30),
        ),
    ),
    Playbook(
        "value-perception",
        "Value perception",
        "The customer doubts the return: show the value in their numbers and re-align executives.",
        "value_perception",
        _steps(
            ("Gather outcomes data: baseline vs current for each objective", 0),
            ("Build an ROI analysis", 5),
            ("Share a relevant case study", 7),
            ("Executive alignment meeting with the sponsor", 14),
            ("Refresh the success plan with measurable objectives", 21),
            ("Value review (mini QBR)", 45),
        ),
    ),
    Playbook(
        "pricing",
        "Pricing concerns",
        "The price is the objection: understand the budget, then discuss tier and payment options.",
        "pricing",
        _steps(
            ("Understand the objection: budget, usage or value?", 0),
            ("Review seat utilisation and the plan actually needed", 3),
            ("Discuss tier adjustments with the account manager", 7),
            ("Offer a payment plan or term options", 10),
            ("Present the options to the decision-maker", 14),
            ("Agree the commercial outcome in writing", 30),
        ),
    ),
    Playbook(
        "competitive-threat",
        "Competitive threat",
        "The customer is evaluating a competitor: compare honestly, preview the roadmap, "
        "and use the relationship.",
        "competitive_threat",
        _steps(
            ("Find out which competitor and what triggered the evaluation", 0),
            ("Prepare a feature comparison for their use cases", 3),
            ("Roadmap preview with product", 7),
            ("Executive-to-executive call", 10),
            ("Involve happy peer references", 14),
            ("Decision checkpoint with the champion", 21),
        ),
    ),
    Playbook(
        "champion-left",
        "Champion left",
        "The champion or executive sponsor has left: rebuild the relationship before renewal.",
        "champion_left",
        _steps(
            ("Confirm the departure and who inherits their responsibilities", 0),
            ("Identify a new champion candidate", 3),
            ("Introduction meeting with the new stakeholder", 7),
            ("Re-onboard the new champion (value so far, success plan)", 14),
            ("Meet the executive sponsor to re-confirm objectives", 21),
            ("Map the wider stakeholder set (multi-thread the account)", 30),
        ),
    ),
    Playbook(
        "renewal-prep",
        "Renewal preparation (90 days out)",
        "Start the renewal 90 days before the due date: value review, risks, and the commercial "
        "conversation.",
        None,
        _steps(
            ("Review health, usage and open risks", 0),
            ("Document value delivered against objectives", 7),
            ("Renewal conversation with the champion", 14),
            ("Value review / QBR with the executive sponsor", 30),
            ("Send the renewal proposal (include expansion if green)", 45),
            ("Contract negotiation support", 60),
            ("Confirm the signed renewal; update the CSM call", 80),
        ),
    ),
    Playbook(
        "expansion",
        "Expansion",
        "Green, highly adopted, NPS 8+: build the case for more seats, a higher tier or a new "
        "module.",
        None,
        _steps(
            ("Qualify readiness: green health, strong adoption, sponsor in place", 0),
            ("Identify the expansion: seats, upsell tier or cross-sell module", 3),
            ("Build the business case with ROI and success metrics", 10),
            ("Align with the customer's decision-makers", 14),
            ("Hand off to sales for the commercial proposal", 21),
            ("Track the expansion to close", 45),
        ),
    ),
)


def install_shipped_playbooks(conn: sqlite3.Connection) -> int:
    """Insert the shipped templates that are missing (never overwriting an edited one).

    Call inside a write transaction; returns how many templates were new.
    """
    added = 0
    for playbook in SHIPPED_PLAYBOOKS:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO playbooks(id, name, description, reason) VALUES (?, ?, ?, ?)",
            (playbook.id, playbook.name, playbook.description, playbook.reason),
        )
        if cursor.rowcount != 1:
            continue  # the user's copy (perhaps edited) stays as it is
        added += 1
        conn.executemany(
            "INSERT OR IGNORE INTO playbook_steps(playbook_id, position, title, offset_days) "
            "VALUES (?, ?, ?, ?)",
            [(playbook.id, i, s.title, s.offset_days) for i, s in enumerate(playbook.steps, 1)],
        )
    return added


def shipped_playbook(playbook_id: str) -> Playbook | None:
    """The shipped template with this id, if any (for "reset to the shipped version")."""
    return next((p for p in SHIPPED_PLAYBOOKS if p.id == playbook_id), None)
