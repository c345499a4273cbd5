"""Playbooks → tasks, task toggling, template editing, and save plans (atomic)."""

from __future__ import annotations

from datetime import date

import pytest

from csm_tui.errors import NotFound, ValidationError
from csm_tui.service import plans
from tests.accounts import set_health


def _seed(book) -> None:
    """A red account renewing 2027-02-15 with a sponsor, a MAU-drop and a sev-1 alert."""
    with book.write() as conn:
        conn.execute(
            "INSERT INTO accounts (id, name, arr, owner, health_band, churn_prob, risk_segment, "
            "renewal_date) VALUES ('A1', 'Acme', 48000, 'Alex Morgan', 'red', NULL, 'high', "
            "'2027-02-15')"
        )
        set_health(conn, "A1", health_score=41)
        conn.execute(
            "INSERT INTO accounts (id, name, arr, health_band) VALUES ('A2', 'Beta', 10, 'green')"
        )
        conn.execute(
            "INSERT INTO renewals (id, account_id, due_date, arr_before) "
            "VALUES ('RN1', 'A1', '2027-02-15', 48000)"
        )
        conn.executemany(
            "INSERT INTO contacts (id, account_id, name, role, active) VALUES (?, 'A1', ?, ?, ?)",
            [("C1", "Old Boss", "sponsor", 0), ("C2", "Dana Lee", "sponsor", 1)],
        )
        conn.executemany(
            "INSERT INTO alerts (id, account_id, rule, severity, fired_at, reason) "
            "VALUES (?, 'A1', ?, 'high', '2026-11-22T09:00:00', 'why')",
            [(1, "mau_drop"), (2, "ticket_spike")],
        )


def _counts(book) -> tuple[int, int, int]:
    return (
        book.scalar("SELECT count(*) FROM save_plans"),
        book.scalar("SELECT count(*) FROM tasks"),
        book.scalar("SELECT count(*) FROM events"),
    )


def test_apply_playbook_makes_dated_tasks_and_event(book):
    _seed(book)
    template = next(p for p in plans.list_playbooks(book) if p.id == "low-adoption")
    result = plans.apply_playbook(book, "A1", "low-adoption", start=date(2026, 12, 1))
    tasks = book.query("SELECT title, due_date FROM tasks WHERE account_id='A1' ORDER BY rowid")
    expected = [
        (s.title, date.fromordinal(date(2026, 12, 1).toordinal() + s.offset_days).isoformat())
        for s in template.steps
    ]
    assert [(t[0], t[1]) for t in tasks] == expected
    assert len(result.task_ids) == len(template.steps)
    event = book.query("SELECT kind, text FROM events WHERE id = ?", (result.event_id,))[0]
    assert event["kind"] == "system" and "Low adoption" in event["text"]


def test_apply_unknown_playbook_writes_nothing(book):
    _seed(book)
    with pytest.raises(NotFound):
        plans.apply_playbook(book, "A1", "no-such-playbook")
    assert _counts(book) == (0, 0, 0)


def test_open_tasks_progress_and_toggle(book):
    _seed(book)
    plans.apply_playbook(book, "A1", "technical-issues", start=date(2026, 11, 1))
    items = plans.open_tasks(book)
    assert items and all(i.group == items[0].group for i in items)
    assert items[0].group_label == "Acme — Technical issues"
    # started 2026-11-01: steps due before the fixed today (2026-11-23) are overdue
    assert [i.overdue for i in items] == [i.due_date < "2026-11-23" for i in items]
    first = items[0].id
    assert plans.toggle_task(book, first) is True
    assert book.scalar("SELECT done_at FROM tasks WHERE id = ?", (first,)).startswith("2026-11-23")
    assert plans.toggle_task(book, first) is False
    assert book.query("SELECT done, done_at FROM tasks WHERE id = ?", (first,))[0][:] == (0, None)


def test_fully_done_runs_leave_the_checklist(book):
    _seed(book)
    plans.apply_playbook(book, "A1", "pricing")
    assert plans.open_tasks(book, owner="Someone Else") == []
    mine = plans.open_tasks(book, owner="Alex Morgan")
    assert mine
    for item in mine:
        plans.toggle_task(book, item.id)
    assert plans.open_tasks(book) == []


def test_edit_template_rename_reorder_offsets(book):
    template = next(p for p in plans.list_playbooks(book) if p.id == "pricing")
    text = "14  Second step\n 0  First step\n\n-3  Prep before"
    template.name, template.steps = "Pricing talk", plans.parse_steps(text)
    saved = plans.save_playbook(book, template)
    assert saved.name == "Pricing talk"
    assert [(s.title, s.offset_days) for s in saved.steps] == [
        ("Second step", 14),
        ("First step", 0),
        ("Prep before", -3),
    ]
    assert plans.parse_steps(plans.format_steps(saved.steps)) == saved.steps


def test_parse_steps_names_the_bad_line():
    with pytest.raises(ValidationError, match="line 2"):
        plans.parse_steps("0 ok\nno day here")
    with pytest.raises(ValidationError, match="line 1: day 9999"):
        plans.parse_steps("9999 far away")


def test_save_playbook_refuses_empty(book):
    template = plans.list_playbooks(book)[0]
    template.steps = []
    with pytest.raises(ValidationError, match="at least one step"):
        plans.save_playbook(book, template)


def test_draft_is_prefilled_from_the_data(book):
    _seed(book)
    draft = plans.draft_save_plan(book, "A1", alert_id=1)
    assert draft.risk_level == "high"  # red band
    assert draft.reasons == ["low_adoption", "technical_issues"]  # mau_drop, ticket_spike
    assert draft.playbook_ids == ["low-adoption", "technical-issues"]
    assert (draft.owner, draft.sponsor) == ("Alex Morgan", "Dana Lee")
    assert draft.target_date == "2027-01-16"  # renewal 2027-02-15 − 30 days
    assert draft.success_criteria.startswith("Health back to green")


def test_target_date_rules():
    today = date(2026, 11, 23)
    assert plans.target_date(None, today) == date(2026, 12, 23)
    assert plans.target_date("2026-12-10", today) == date(2026, 12, 10)  # − 30 would be past
    assert plans.target_date("2026-01-01", today) == date(2026, 12, 23)  # renewal already past


def test_create_save_plan_writes_plan_tasks_event_and_closes_alert(book):
    _seed(book)
    draft = plans.draft_save_plan(book, "A1", alert_id=1)
    steps = sum(len(p.steps) for p in draft.playbooks if p.id in draft.playbook_ids)
    result = plans.create_save_plan(book, draft)
    plan = book.query("SELECT * FROM save_plans WHERE id = ?", (result.plan_id,))[0]
    assert (plan["risk_level"], plan["status"], plan["sponsor"]) == ("high", "open", "Dana Lee")
    assert plan["reasons"] == '["low_adoption", "technical_issues"]'
    n = book.scalar("SELECT count(*) FROM tasks WHERE save_plan_id = ?", (result.plan_id,))
    assert n == steps == len(result.task_ids)
    assert book.scalar("SELECT kind FROM events WHERE id = ?", (result.event_id,)) == "system"
    alert = book.query("SELECT status, close_reason FROM alerts WHERE id = 1")[0]
    assert tuple(alert) == ("done", "Covered by save plan") and result.alert_closed
    summary = plans.open_save_plans(book, "A1")[0]
    assert (summary.tasks_done, summary.tasks_total) == (0, steps)


def test_create_save_plan_is_all_or_nothing(book, monkeypatch):
    _seed(book)
    draft = plans.draft_save_plan(book, "A1", alert_id=1)

    def broken_rescore(conn, account_id):
        raise RuntimeError("scoring failed midway")

    monkeypatch.setattr(plans, "_rescore", broken_rescore)
    with pytest.raises(RuntimeError):
        plans.create_save_plan(book, draft)
    assert _counts(book) == (0, 0, 0)
    assert book.scalar("SELECT status FROM alerts WHERE id = 1") == "open"


def test_create_save_plan_validates(book):
    _seed(book)
    draft = plans.draft_save_plan(book, "A1")
    draft.target_date = "next week"
    with pytest.raises(ValidationError, match="target date"):
        plans.create_save_plan(book, draft)
    assert _counts(book) == (0, 0, 0)


def test_close_save_plan(book):
    _seed(book)
    result = plans.create_save_plan(book, plans.draft_save_plan(book, "A1"))
    message = plans.close_save_plan(book, result.plan_id, "saved", "Exec sponsor re-engaged")
    assert message == "Save plan for Acme closed as saved"
    row = book.query("SELECT status, lessons FROM save_plans WHERE id = ?", (result.plan_id,))[0]
    assert tuple(row) == ("saved", "Exec sponsor re-engaged")
    with pytest.raises(NotFound):
        plans.close_save_plan(book, result.plan_id, "lost")
    assert plans.open_save_plans(book) == []


def test_risk_level_and_reasons():
    assert plans.risk_level("green", 0.6, "low") == "high"
    assert plans.risk_level("yellow", None, None) == "medium"
    assert plans.risk_level("green", 0.1, "low") == "low"
    assert plans.reasons_for_rules(["detractor_nps", "champion_left", "score_drop"]) == [
        "value_perception",
        "champion_left",
    ]
    left = ["stakeholder_left", "stakeholder_left"]
    details = [{"left_role": "champion"}, {"left_role": "sponsor"}]
    assert plans.reasons_for_rules(left, details) == ["champion_left", "executive_turnover"]
