"""Snapshots (120×40) of the alerts inbox, renewals and playbooks screens on the fixed UI book."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from csm_tui.service import plans, renewals
from csm_tui.storage.db import open_book
from tests.tui.conftest import SIZE, wait_for

#: "fired 6 h ago" must not depend on when the test runs.
FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("csm_tui.clock.now", lambda: FIXED_NOW)


def _screen_ready(pilot, name: str, attr: str) -> bool:
    screen = pilot.app.screen
    return type(screen).__name__ == name and getattr(screen, attr, None) is not None


@pytest.fixture
def fixed_alert_times(ui_book):
    """The engine stamps alerts with the time the book was built: pin them for the picture."""
    book = open_book(ui_book)
    with book.write() as conn:
        conn.execute("UPDATE alerts SET fired_at = '2026-11-23T06:00:00'")
    book.close()


def test_alerts_inbox_snapshot(snap_compare, app_factory, fixed_alert_times):
    async def run_before(pilot):
        await pilot.press("2")
        await wait_for(pilot, lambda: _screen_ready(pilot, "AlertsScreen", "rows"))
        await wait_for(pilot, lambda: len(pilot.app.screen.rows) > 0)
        await pilot.app.workers.wait_for_complete()
        await pilot.press("j", "space")  # one alert selected for a batch
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=run_before)


def test_renewals_snapshot(snap_compare, app_factory, ui_book):
    book = open_book(ui_book)  # a red account called "commit": the row a review should discuss
    renewal = book.scalar(
        "SELECT r.id FROM renewals r JOIN accounts a ON a.id = r.account_id "
        "WHERE r.outcome IS NULL AND a.health_band = 'red' ORDER BY r.due_date LIMIT 1"
    )
    renewals.set_csm_call(book, renewal, "commit")
    book.close()

    async def run_before(pilot):
        await pilot.press("3")
        await wait_for(pilot, lambda: _screen_ready(pilot, "RenewalsScreen", "view"))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=run_before)


def test_playbooks_snapshot(snap_compare, app_factory, ui_book):
    book = open_book(ui_book)
    account = book.scalar("SELECT id FROM accounts WHERE health_band = 'red' ORDER BY id LIMIT 1")
    plans.apply_playbook(book, account, "onboarding-90", start=date(2026, 10, 20))
    plans.create_save_plan(book, plans.draft_save_plan(book, account))
    book.close()

    async def run_before(pilot):
        await pilot.press("4")
        await wait_for(pilot, lambda: _screen_ready(pilot, "PlaybooksScreen", "data"))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=run_before)
