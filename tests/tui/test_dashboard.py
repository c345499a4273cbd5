"""Pilot tests of the dashboard (`5`) and the account lists, on the hand-made Q3 book.

The book's figures are worked out in tests/metrics/test_metrics.py: in 2026-Q3 GRR is
160,000 / 225,000 = 71.1 %; in 2026-Q4 (today is 2026-11-23) the only decided renewal is
A10's 8,000 → 8,000, so GRR is 100 %.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from csm_tui.storage.db import open_book
from tests.metrics.builder import add_account, add_contact, add_response
from tests.metrics.q3_book import build_q3_book

SIZE = (120, 40)


def pilot_test(fn):
    """Run an async Pilot scenario as a plain test (no async plugin needed)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return run


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (workers deliver asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)
    await pilot.pause()


def make_app(path: Path):
    """The real app on `path`."""
    from csm_tui.app import CsmApp

    return CsmApp(db_path=path, poll_interval=0.3)


@pytest.fixture
def q3_path(tmp_path: Path) -> Path:
    """The Q3 book, plus one green promoter with a sponsor (an advocacy candidate)."""
    path = tmp_path / "q3.db"
    book = open_book(path)
    with book.write() as conn:
        build_q3_book(conn)
        add_account(conn, "K1", "Kilo", segment="SMB", arr=9000, start_date="2025-01-01",
                    health_band="green", health_score=88)  # fmt: skip
        add_contact(conn, "CK", "K1", "Kim Ko", role="sponsor")
        add_response(conn, "K1", "2026-11-01", 10, contact_id="CK")
    book.close()
    return path


def _tile_text(app, key: str) -> str:
    tile = app.screen.query_one(f"#tile-{key}")
    return f"{tile.value_text} {tile.ratio_text}"


async def _open_dashboard(pilot) -> None:
    await pilot.press("5")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "DashboardScreen")
    await wait_for(pilot, lambda: pilot.app.screen.data is not None)


@pilot_test
async def test_period_switch_changes_the_figures(q3_path) -> None:
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        screen = app.screen
        assert screen.period.label == "2026-Q4"
        assert _tile_text(app, "grr") == "100.0% $8.0k / $8.0k"
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: screen.data.period.label == "2026-Q3")
        assert _tile_text(app, "grr") == "71.1% $160k / $225k"
        # Kilo (added here) is a ninth account at the start: logo churn 2 / 9 = 22.2 %
        assert _tile_text(app, "logo_churn") == "22.2% 2 / 9"
        assert _tile_text(app, "nps") == "+40 3P 1D / 5"
        assert screen.query_one("#tile-grr").status == "missed"
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.data.period.label == "Sep 2026")
        # September: A3 30,000 churned, A4 20,000 renewed → 20,000 / 50,000 = 40 %
        assert _tile_text(app, "grr") == "40.0% $20.0k / $50.0k"
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.data.period.label == "2026")


@pilot_test
async def test_enter_on_a_tile_lists_the_accounts_behind_it(q3_path) -> None:
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.screen.data.period.label == "2026-Q3")
        await pilot.press("down")  # from GRR to the tile below it: NPS
        assert app.focused.id == "tile-nps"
        await pilot.press("up", "right", "right")  # back to GRR, then NRR, then logo churn
        assert app.focused.id == "tile-logo_churn"
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AccountListScreen")
        await wait_for(pilot, lambda: app.screen.listing is not None)
        book = open_book(q3_path)
        churned = {
            r[0]
            for r in book.query(
                "SELECT account_id FROM renewals WHERE outcome = 'churned' "
                "AND due_date BETWEEN '2026-07-01' AND '2026-09-30'"
            )
        }
        book.close()
        assert set(app.screen.account_ids) == churned == {"A3", "A7"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")


@pilot_test
async def test_list_keys_open_the_quick_action_lists(q3_path) -> None:
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: getattr(app.screen, "listing", None) is not None)
        assert app.screen.account_ids == ["K1"]  # the only green account with NPS 9–10
        await pilot.press("escape")
        await pilot.press("n")
        await wait_for(pilot, lambda: getattr(app.screen, "listing", None) is not None)
        assert app.screen.listing.key == "nps_segment"


@pilot_test
async def test_enter_on_a_listed_account_opens_it(q3_path) -> None:
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: getattr(app.screen, "listing", None) is not None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AccountScreen")


@pilot_test
async def test_enter_on_a_segment_row_lists_its_respondents(q3_path) -> None:
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.screen.data.period.label == "2026-Q3")
        await pilot.press("n")
        await wait_for(pilot, lambda: getattr(app.screen, "listing", None) is not None)
        segments = [row.name for row in app.screen.listing.rows]
        assert segments == ["Enterprise", "Mid-Market", "SMB"]
        await pilot.press("down", "down", "enter")  # SMB
        await wait_for(pilot, lambda: app.screen.list_key == "segment_nps:SMB")
        await wait_for(pilot, lambda: app.screen.listing is not None)
        assert sorted(app.screen.account_ids) == ["A3", "A4", "A4"]


@pilot_test
async def test_w_writes_the_portfolio_report_of_the_period(q3_path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(q3_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_dashboard(pilot)
        await pilot.press("w")
        report = tmp_path / "portfolio-2026-Q4.md"
        await wait_for(pilot, report.exists)
        assert report.stat().st_mode & 0o777 == 0o600
        assert report.read_text().startswith("# Portfolio Summary: ")
