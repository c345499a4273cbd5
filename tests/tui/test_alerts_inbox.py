"""The alerts inbox, driven by the keys a user presses: close, snooze, batch, undo, save plan."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import DataTable

from csm_tui.screens.alerts import AlertsScreen
from csm_tui.service.book_session import BookSession
from csm_tui.storage.db import open_book


class InboxApp(App):
    """The alerts screen on a book, as the real app would hold it."""

    def __init__(self, book) -> None:
        super().__init__()
        self.session = BookSession(book.path)

    def on_unmount(self) -> None:
        self.session.close()

    def on_mount(self) -> None:
        self.push_screen(AlertsScreen())


def seed_alerts(book) -> None:
    """Acme (90k, red, sponsor) with a high MAU drop; Beta (20k) with a high and a low alert."""
    with book.write() as conn:
        conn.executemany(
            "INSERT INTO accounts (id, name, arr, owner, health_band, renewal_date) "
            "VALUES (?, ?, ?, 'Alex Morgan', ?, '2027-03-01')",
            [("A1", "Acme", 90_000, "red"), ("B1", "Beta", 20_000, "yellow")],
        )
        conn.execute(
            "INSERT INTO contacts (id, account_id, name, role) VALUES ('C1', 'A1', 'Dana', 'sponsor')"
        )
        conn.executemany(
            "INSERT INTO alerts (id, account_id, rule, severity, fired_at, reason) "
            "VALUES (?, ?, ?, ?, '2026-11-20T08:00:00', ?)",
            [
                (1, "A1", "mau_drop", "high", "MAU 412 → 260, −37 % in 30 days"),
                (2, "B1", "detractor_nps", "high", "NPS 3 from the champion"),
                (3, "B1", "expansion_signal", "low", "Seats 96 % used, NPS 9"),
            ],
        )


@pytest.fixture
def inbox_book(db_path):
    book = open_book(db_path)
    seed_alerts(book)
    yield book
    book.close()


def status(book, alert_id: int) -> tuple:
    return tuple(
        book.query(
            "SELECT status, close_reason, snoozed_until FROM alerts WHERE id = ?", (alert_id,)
        )[0]
    )


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_rows_in_order_with_why(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert [table.get_row_at(i)[2] for i in range(3)] == ["Acme", "Beta", "Beta"]
        assert "MAU 412 → 260" in str(table.get_row_at(0)[4])
        assert "3 open: 2 high, 0 medium, 1 low" in str(
            app.screen.query_one("#alerts-summary").render()
        )


async def test_close_with_listed_reason_then_undo(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "x")  # Beta's detractor alert; the reasons list opens
        await pilot.press("down", "enter")  # "False alarm"
        await settle(pilot)
        assert status(inbox_book, 2) == ("done", "False alarm", None)
        assert len(app.screen.rows) == 2
        await pilot.press("u")
        await settle(pilot)
        assert status(inbox_book, 2) == ("open", None, None)
        assert len(app.screen.rows) == 3


async def test_close_with_typed_reason(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x", "tab")
        await pilot.press(*"dup of CS-12", "enter")
        await settle(pilot)
        assert status(inbox_book, 1) == ("done", "dup of CS-12", None)


async def test_snooze_a_week(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("G", "z", "down", "enter")  # the low alert, 1 week
        await settle(pilot)
        assert status(inbox_book, 3) == ("snoozed", None, "2026-11-30")


async def test_snooze_until_a_typed_date_with_reason(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("z", "down", "down", "enter")  # "Until a date…" focuses the date
        await pilot.press(*"2027-01-05", "tab", *"after holidays", "enter")
        await settle(pilot)
        assert status(inbox_book, 1) == ("snoozed", None, "2027-01-05")
        assert (
            inbox_book.scalar("SELECT snooze_reason FROM alerts WHERE id = 1") == "after holidays"
        )


async def test_bad_snooze_date_is_refused_inline(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("z", "down", "down", "enter", *"2020-01-01", "enter")
        await settle(pilot)
        assert "not after today" in str(app.screen.query_one("#error").render())
        assert status(inbox_book, 1) == ("open", None, None)
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


async def test_batch_close_via_space_and_undo(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")  # selects rows 1 and 2, cursor moves on
        assert app.screen.selected == {1, 2}
        await pilot.press("x", "1")  # "Resolved with customer"
        await settle(pilot)
        assert [status(inbox_book, i)[0] for i in (1, 2, 3)] == ["done", "done", "open"]
        assert app.screen.selected == set()
        await pilot.press("u")
        await settle(pilot)
        assert [status(inbox_book, i)[0] for i in (1, 2, 3)] == ["open", "open", "open"]


async def test_escape_cancels_close(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x", "escape")
        await settle(pilot)
        assert status(inbox_book, 1) == ("open", None, None)


async def test_save_plan_from_an_alert_in_few_keys(inbox_book):
    app = InboxApp(inbox_book)
    keys = ["p", "enter"]  # the app's `2` brings the inbox up: 3 keys in all, at most 6
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(keys[0])
        await settle(pilot)  # the form prefills from the data
        await pilot.press(keys[1])
        await settle(pilot)
        assert len(keys) + 1 <= 6
        plan = inbox_book.query(
            "SELECT account_id, alert_id, risk_level, reasons, sponsor FROM save_plans"
        )
        assert [tuple(p) for p in plan] == [("A1", 1, "high", '["low_adoption"]', "Dana")]
        tasks = inbox_book.scalar("SELECT count(*) FROM tasks WHERE account_id = 'A1'")
        assert tasks > 0
        assert status(inbox_book, 1)[:2] == ("done", "Covered by save plan")
        assert isinstance(app.screen, AlertsScreen)
        assert [r.id for r in app.screen.rows] == [2, 3]


async def test_real_app_alert_to_save_plan_in_at_most_6_keys(app_factory):
    from csm_tui.screens.save_plan import SavePlanForm
    from tests.tui.conftest import wait_for

    app = app_factory()
    keys = ["2", "p", "enter"]  # the inbox, a plan for the top alert, accept the defaults
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(keys[0])
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.rows)
        top = app.screen.rows[0]
        await pilot.press(keys[1])
        await wait_for(pilot, lambda: isinstance(app.screen, SavePlanForm) and app.screen.draft)
        await pilot.press(keys[2])
        book = app.session.book
        await wait_for(pilot, lambda: book.scalar("SELECT count(*) FROM save_plans") == 1)
        plan = book.query("SELECT account_id, alert_id FROM save_plans")[0]
        assert (plan[0], plan[1]) == (top.account_id, top.id)
        assert book.scalar("SELECT status FROM alerts WHERE id = ?", (top.id,)) == "done"
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
    assert len(keys) <= 6


async def test_real_app_enter_opens_the_alerts_account(app_factory):
    from tests.tui.conftest import wait_for

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.rows)
        await pilot.press("j")
        second = app.screen.rows[1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AccountScreen")
        assert app.screen.account_id == second.account_id


async def test_filter_narrows_then_triage_acts_on_the_shown_row(inbox_book):
    app = InboxApp(inbox_book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"beta detractor", "enter")
        await pilot.pause()
        assert [r.id for r in app.screen.rows] == [2]
        assert "1 shown" in str(app.screen.query_one("#alerts-summary").render())
        await pilot.press("x", "2")  # "False alarm" for the one alert shown
        await settle(pilot)
        assert status(inbox_book, 2) == ("done", "False alarm", None)
        await pilot.press("slash", *["backspace"] * 14, "enter")
        await pilot.pause()
        assert [r.id for r in app.screen.rows] == [1, 3]
