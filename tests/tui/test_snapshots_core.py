"""Snapshots (120×40, the fixed demo book, CSM_TODAY fixed) of the portfolio, account, help
and welcome screens. Regenerate after an intended change with `--snapshot-update`."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.tui.conftest import SIZE, read_one, wait_for, wait_rows

#: The welcome screen names the book's file, so its snapshot uses a fixed path.
WELCOME_DIR = Path("/tmp/csm-snapshot-welcome")


def _steady(app) -> None:
    """No blinking cursors or pending toasts in a snapshot."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    app.clear_notifications()


def test_portfolio_snapshot(snap_compare, app_factory) -> None:
    async def ready(pilot) -> None:
        await wait_rows(pilot)
        _steady(pilot.app)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=ready)


def test_portfolio_filtered_snapshot(snap_compare, app_factory) -> None:
    async def ready(pilot) -> None:
        await wait_rows(pilot)
        await pilot.press("r", "y", "S")
        await wait_for(
            pilot,
            lambda: (
                pilot.app.screen.query_one("AccountTable").total is not None
                and not pilot.app.screen.query_one("AccountTable")._fresh
            ),
        )
        _steady(pilot.app)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=ready)


def test_account_snapshot(snap_compare, app_factory, ui_book) -> None:
    account_id = read_one(
        ui_book,
        "SELECT id FROM accounts WHERE status = 'active' AND "
        "health_band = 'yellow' ORDER BY id LIMIT 1",
    )

    async def ready(pilot) -> None:
        app = pilot.app
        await wait_rows(pilot)
        app.open_account(account_id)
        await wait_for(
            pilot,
            lambda: (
                getattr(app.screen, "view", None) is not None and app.screen.drivers is not None
            ),
        )
        _steady(app)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=ready)


def test_help_snapshot(snap_compare, app_factory) -> None:
    async def ready(pilot) -> None:
        await wait_rows(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        _steady(pilot.app)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=ready)


def test_welcome_snapshot(snap_compare, app_factory) -> None:
    shutil.rmtree(WELCOME_DIR, ignore_errors=True)
    WELCOME_DIR.mkdir(parents=True)

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "WelcomeScreen")
        _steady(pilot.app)

    try:
        assert snap_compare(
            app_factory(db_path=WELCOME_DIR / "csm.db"), terminal_size=SIZE, run_before=ready
        )
    finally:
        shutil.rmtree(WELCOME_DIR, ignore_errors=True)
