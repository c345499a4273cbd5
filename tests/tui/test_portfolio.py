"""The portfolio, driven by the keys a user presses; checked against the book itself."""

from __future__ import annotations

from datetime import date, timedelta

from csm_tui.screens.account import AccountScreen
from csm_tui.screens.portfolio import PortfolioScreen
from csm_tui.widgets.account_table import AccountTable
from tests.conftest import TEST_TODAY
from tests.tui.conftest import SIZE, read_one, type_text, wait_for, wait_rows


def _table(app) -> AccountTable:
    return app.screen.query_one(AccountTable)


async def test_opens_on_the_portfolio_with_every_active_account(app_factory, ui_book) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        assert isinstance(app.screen, PortfolioScreen)
        active = read_one(ui_book, "SELECT count(*) FROM accounts WHERE status = 'active'")
        assert _table(app).total == active
        first = _table(app).loaded_rows()[0]
        worst = read_one(
            ui_book,
            "SELECT id FROM accounts WHERE status = 'active' AND health_band = 'red' "
            "AND renewal_date IS NOT NULL ORDER BY renewal_date, rowid LIMIT 1",
        )
        assert first.id == worst  # the morning story: red, renewing soonest, on top


async def test_s_sorts_by_name_and_S_reverses(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: _table(app).sort_key == "name" and not _table(app)._fresh)
        names = [r.name.lower() for r in _table(app).loaded_rows()]
        assert names == sorted(names)
        await pilot.press("S")
        await wait_for(pilot, lambda: _table(app).sort_descending and not _table(app)._fresh)
        names = [r.name.lower() for r in _table(app).loaded_rows()]
        assert names == sorted(names, reverse=True)


async def test_filter_narrows_rows_as_you_type(app_factory, ui_book) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        word = read_one(ui_book, "SELECT name FROM accounts WHERE status='active' LIMIT 1")
        token = word.split()[0][:5].lower()
        await pilot.press("slash")
        await type_text(pilot, token)
        expected = read_one(
            ui_book,
            "SELECT count(*) FROM accounts WHERE status = 'active' AND lower(name) LIKE ?",
            (f"%{token}%",),
        )
        await wait_for(pilot, lambda: _table(app).total == expected and not _table(app)._fresh)
        assert 0 < expected < read_one(ui_book, "SELECT count(*) FROM accounts")
        assert all(token in r.name.lower() for r in _table(app).loaded_rows())


async def test_quick_filters_combine(app_factory, ui_book) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("r", "y")  # red and yellow
        both = read_one(
            ui_book,
            "SELECT count(*) FROM accounts WHERE status = 'active' "
            "AND health_band IN ('red', 'yellow')",
        )
        await wait_for(pilot, lambda: _table(app).total == both)
        await pilot.press("d", "d", "d")  # renewing within 30 → 60 → 90 days
        end = (date.fromisoformat(TEST_TODAY) + timedelta(days=90)).isoformat()
        within = read_one(
            ui_book,
            "SELECT count(*) FROM accounts WHERE status = 'active' AND health_band IN "
            "('red', 'yellow') AND renewal_date BETWEEN ? AND ?",
            (TEST_TODAY, end),
        )
        await wait_for(pilot, lambda: _table(app).total == within)
        assert 0 < within < both
        rows = _table(app).loaded_rows()
        assert all(r.health_band in ("red", "yellow") and 0 <= r.days_left <= 90 for r in rows)
        await pilot.press("escape")  # clears every filter
        await wait_for(pilot, lambda: _table(app).total and _table(app).total > both)


async def test_enter_opens_the_account_under_the_cursor(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("down", "down")
        chosen = _table(app).current
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        assert app.screen.account_id == chosen.id
        await wait_for(pilot, lambda: app.screen.view is not None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))


async def test_page_down_moves_a_screenful(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(100, 20)) as pilot:
        await wait_rows(pilot)
        await pilot.press("pagedown")
        table = _table(app)
        assert table.cursor == table.size.height - 2
        assert table.current is not None
        await pilot.press("end")
        assert table.cursor == table.total - 1
