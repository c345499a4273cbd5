"""Playbooks: apply one to an account (→ dated tasks), tick tasks off, edit a template,
close a save plan — by the keys a user presses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from textual.widgets import TextArea

from csm_tui.screens.apply_playbook import ApplyPlaybookForm
from csm_tui.screens.playbooks import EditPlaybookForm, PlaybooksScreen
from csm_tui.service import plans
from csm_tui.storage.db import open_book
from csm_tui.widgets.checklist import Checklist
from tests.tui.conftest import ScreenHost

TODAY = date(2026, 11, 23)


@pytest.fixture
def book_path(db_path):
    book = open_book(db_path)
    with book.write() as conn:
        conn.execute(
            "INSERT INTO accounts (id, name, arr, owner) VALUES ('A1', 'Acme', 48000, 'Alex')"
        )
    book.close()
    return db_path


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_apply_playbook_makes_tasks(book_path):
    app = ScreenHost(book_path, ApplyPlaybookForm("A1", "Acme"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        names = [p.name for p in app.screen.playbooks]
        target = names.index("Low adoption")
        await pilot.press(*["j"] * target, "enter")
        await settle(pilot)
        book = app.session.book
        template = next(p for p in plans.list_playbooks(book) if p.name == "Low adoption")
        rows = book.query("SELECT title, due_date, playbook_id FROM tasks ORDER BY rowid")
        assert [tuple(r) for r in rows] == [
            (s.title, (TODAY + timedelta(days=s.offset_days)).isoformat(), template.id)
            for s in template.steps
        ]
        assert book.scalar("SELECT text FROM events WHERE kind = 'system'").startswith(
            "Playbook applied: Low adoption"
        )
        assert app.results and app.results[0].task_ids == [
            t[0] for t in book.query("SELECT id FROM tasks ORDER BY rowid")
        ]


async def test_checklist_toggle_and_undo(book_path):
    book = open_book(book_path)
    plans.apply_playbook(book, "A1", "pricing", start=TODAY - timedelta(days=30))
    first = plans.open_tasks(book)[0]
    book.close()
    app = ScreenHost(book_path, PlaybooksScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(Checklist)
        assert checklist.has_focus
        pricing = next(p for p in plans.list_playbooks(app.session.book) if p.id == "pricing")
        total = len(pricing.steps)
        assert checklist.progress(first.group) == (0, total)
        assert first.overdue  # started 30 days ago: the first step is past due
        await pilot.press("space")
        await settle(pilot)
        assert app.session.book.scalar("SELECT done FROM tasks WHERE id = ?", (first.id,)) == 1
        assert checklist.progress(first.group) == (1, total)
        assert f"1/{total}" in str(checklist.get_option(f"group:{first.group}").prompt)
        await pilot.press("space")
        await settle(pilot)
        assert app.session.book.scalar("SELECT done FROM tasks WHERE id = ?", (first.id,)) == 0
        assert checklist.progress(first.group) == (0, total)


async def test_edit_template_steps(book_path):
    app = ScreenHost(book_path, PlaybooksScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#templates").focus()
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, EditPlaybookForm)
        template_id = form.template.id
        form.query_one("#steps", TextArea).text = "0  Call the buyer\n10  Send the proposal"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlaybooksScreen)
        steps = app.session.book.query(
            "SELECT position, title, offset_days FROM playbook_steps WHERE playbook_id = ? "
            "ORDER BY position",
            (template_id,),
        )
        assert [tuple(s) for s in steps] == [(1, "Call the buyer", 0), (2, "Send the proposal", 10)]


async def test_bad_step_line_is_shown_and_nothing_saved(book_path):
    app = ScreenHost(book_path, PlaybooksScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#templates").focus()
        await pilot.press("e")
        form = app.screen
        before = plans.format_steps(form.template.steps)
        form.query_one("#steps", TextArea).text = "0  ok\nsoon  call them"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "line 2" in str(form.query_one("#error").render())
        await pilot.press("escape")
        stored = next(p for p in plans.list_playbooks(app.session.book) if p.id == form.template.id)
        assert plans.format_steps(stored.steps) == before


async def test_close_save_plan_as_saved(book_path):
    book = open_book(book_path)
    plan = plans.create_save_plan(book, plans.draft_save_plan(book, "A1"))
    book.close()
    app = ScreenHost(book_path, PlaybooksScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#save-plans").focus()
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#lessons", TextArea).text = "Sponsor re-engaged after QBR"
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = app.session.book.query(
            "SELECT status, lessons FROM save_plans WHERE id = ?", (plan.plan_id,)
        )
        assert tuple(row[0]) == ("saved", "Sponsor re-engaged after QBR")


async def test_real_app_account_b_applies_a_playbook(app_factory, ui_book):
    from csm_tui.screens.account import AccountScreen
    from tests.tui.conftest import wait_for

    book = open_book(ui_book)
    account = book.scalar("SELECT id FROM accounts ORDER BY id LIMIT 1")
    counts = "SELECT count(*) FROM tasks WHERE account_id = ? AND playbook_id = ?"
    before = {p.id: book.scalar(counts, (account, p.id)) for p in plans.list_playbooks(book)}
    book.close()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(AccountScreen(account))
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await pilot.press("b")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ApplyPlaybookForm) and app.screen.playbooks
        )
        first = app.screen.playbooks[0]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        count = app.session.book.scalar(counts, (account, first.id))
        assert count - before[first.id] == len(first.steps)
