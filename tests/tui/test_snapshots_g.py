"""Snapshots (120×40, the fixed demo book, CSM_TODAY fixed) of the dashboard and a list.
Regenerate after an intended change with `--snapshot-update`."""

from __future__ import annotations

from tests.tui.conftest import SIZE, wait_for


def _steady(app) -> None:
    """No pending toasts in a snapshot."""
    app.clear_notifications()


async def _dashboard_ready(pilot) -> None:
    await pilot.press("5")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "DashboardScreen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.data is not None and screen.trends is not None)
    _steady(pilot.app)


def test_dashboard_snapshot(snap_compare, app_factory) -> None:
    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=_dashboard_ready)


def test_renewals_list_snapshot(snap_compare, app_factory) -> None:
    async def ready(pilot) -> None:
        await _dashboard_ready(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "listing", None) is not None)
        _steady(pilot.app)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=ready)
