"""The save-plan modal: prefilled from the data, edited by key, validated inline, atomic."""

from __future__ import annotations

import pytest
from textual.widgets import Input, SelectionList

from csm_tui.screens.save_plan import SavePlanForm
from csm_tui.storage.db import open_book
from tests.tui.conftest import ScreenHost


@pytest.fixture
def plan_path(db_path):
    """Yellow Acme renewing 2027-03-01, sponsor Dana, an open detractor-NPS alert."""
    book = open_book(db_path)
    with book.write() as conn:
        conn.execute(
            "INSERT INTO accounts (id, name, arr, owner, health_band, churn_prob, renewal_date) "
            "VALUES ('A1', 'Acme', 48000, 'Alex Morgan', 'yellow', 0.3, '2027-03-01')"
        )
        conn.execute(
            "INSERT INTO contacts (id, account_id, name, role) VALUES ('C1', 'A1', 'Dana', 'sponsor')"
        )
        conn.execute(
            "INSERT INTO alerts (id, account_id, rule, severity, fired_at, reason) "
            "VALUES (7, 'A1', 'detractor_nps', 'high', '2026-11-20T08:00:00', 'NPS 4')"
        )
    book.close()
    return db_path


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def plan_count(app) -> int:
    return app.session.book.scalar("SELECT count(*) FROM save_plans")


async def test_prefilled_then_edited_by_key(plan_path):
    app = ScreenHost(plan_path, SavePlanForm("A1"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        form = app.first_screen
        reasons = form.query_one("#reasons", SelectionList)
        playbooks = form.query_one("#playbooks", SelectionList)
        assert reasons.selected == ["value_perception"]  # from the detractor NPS alert
        assert playbooks.selected == ["value-perception"]
        assert form.query_one("#sponsor", Input).value == "Dana"
        assert form.query_one("#owner", Input).value == "Alex Morgan"
        assert form.query_one("#target", Input).value == "2027-01-30"  # renewal − 30 days
        assert form.query_one("#risk-medium").value  # yellow, 30 % churn
        reasons.focus()
        await pilot.pause()
        values = [reasons.get_option_at_index(i).value for i in range(reasons.option_count)]
        pricing = values.index("pricing")
        for _ in range(6):
            if reasons.highlighted == pricing:
                break
            await pilot.press("down")
        await pilot.press("space")  # tick "Pricing concerns"
        await pilot.pause()
        assert set(reasons.selected) == {"value_perception", "pricing"}
        assert "pricing" in playbooks.selected  # its playbook is suggested at once
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = app.session.book.query("SELECT reasons, risk_level, target_date FROM save_plans")
        assert tuple(row[0]) == ('["value_perception", "pricing"]', "medium", "2027-01-30")
        assert app.results[0].plan_id


async def test_bad_target_date_shown_inline_nothing_written(plan_path):
    app = ScreenHost(plan_path, SavePlanForm("A1"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        target = app.first_screen.query_one("#target", Input)
        target.value = "31/12/2026"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Target date" in str(app.first_screen.query_one("#error").render())
        assert plan_count(app) == 0
        await pilot.press("escape")
        await settle(pilot)
        assert plan_count(app) == 0 and app.results == [None]


async def test_enter_accepts_the_defaults(plan_path):
    app = ScreenHost(plan_path, SavePlanForm("A1", 7))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        book = app.session.book
        assert plan_count(app) == 1
        assert book.scalar("SELECT count(*) FROM tasks") > 0
        assert book.scalar("SELECT status FROM alerts WHERE id = 7") == "done"
        assert book.scalar("SELECT text FROM events").startswith("Save plan opened (medium risk)")


async def test_real_app_account_p_then_enter_creates_a_plan(app_factory, ui_book):
    from csm_tui.screens.account import AccountScreen
    from tests.tui.conftest import wait_for

    book = open_book(ui_book)
    account = book.scalar("SELECT id FROM accounts WHERE health_band = 'red' ORDER BY id LIMIT 1")
    plans_of = "SELECT count(*) FROM save_plans WHERE account_id = ? AND alert_id IS NULL"
    before = book.scalar(plans_of, (account,))
    book.close()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(AccountScreen(account))
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, SavePlanForm) and app.screen.draft)
        assert app.screen.draft.risk_level == "high"  # a red account
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await wait_for(pilot, lambda: app.session.book.scalar(plans_of, (account,)) == before + 1)
