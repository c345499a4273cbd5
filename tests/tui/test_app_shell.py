"""The shell: start-up stays light, header counts, help, palette, keymap, screen keys,
worker failures become notices, and changes from another process appear on their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from csm_tui.screens.account import AccountScreen
from csm_tui.screens.help import HelpScreen
from csm_tui.screens.portfolio import PortfolioScreen
from csm_tui.screens.welcome import WelcomeScreen
from csm_tui.storage.db import open_book
from csm_tui.widgets.account_table import AccountTable
from tests.tui.conftest import SIZE, read_one, type_text, wait_for, wait_rows

ROOT = Path(__file__).resolve().parents[2]


def test_heavy_modules_stay_off_the_app_start_up_path() -> None:
    code = (
        "import sys\n"
        "from csm_tui.app import CsmApp\n"
        "CsmApp(db_path='unused.db')\n"
        "print(','.join(m for m in ('pandas', 'sklearn', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


async def test_header_names_the_book_and_counts_it(app_factory, ui_book) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.book_summary is not None)
        summary = app.book_summary
        assert summary.name == read_one(ui_book, "SELECT value FROM meta WHERE key='book_name'")
        assert summary.accounts == read_one(
            ui_book, "SELECT count(*) FROM accounts WHERE status = 'active'"
        )
        assert summary.open_alerts == read_one(
            ui_book, "SELECT count(*) FROM alerts WHERE status = 'open'"
        )
        header = str(app.screen.query_one("BookHeader").render())
        assert summary.name in header and f"{summary.open_alerts} open alerts" in header


async def test_help_lists_the_keys_of_the_current_screen(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen._table()
        ids = list(table.columns[2].cells)
        assert "portfolio.filter" in ids and "portfolio.sort" in ids and "app.quit" in ids
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))


async def test_a_user_keymap_moves_a_binding(app_factory, isolated_env) -> None:
    config = isolated_env / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "keymap.toml").write_text('"portfolio.filter" = "f"\n')
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("f")
        assert app.screen.query_one("#filter").has_focus


async def test_a_broken_keymap_is_reported_and_the_defaults_stay(app_factory, isolated_env) -> None:
    config = isolated_env / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "keymap.toml").write_text('"portfolio.filter" = \n')
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        assert any("keymap.toml" in n.message for n in app._notifications)
        await pilot.press("slash")
        assert app.screen.query_one("#filter").has_focus


async def test_number_keys_switch_screens_and_come_back(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        other = sorted(k for k in app.available if k != "1")
        assert other, "at least one other screen is installed"
        await pilot.press(other[0])
        await wait_for(pilot, lambda: app.current_mode == app.available[other[0]][0])
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))


async def test_a_missing_screen_leaves_its_key_unbound(app_factory, monkeypatch) -> None:
    import csm_tui.app as app_module

    screens = dict(app_module.SCREENS)
    screens["5"] = ("dashboard", "csm_tui.screens.no_such_screen", "Nothing")
    monkeypatch.setattr(app_module, "SCREENS", screens)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        assert "5" not in app.available
        assert app.check_action("show", ("5",)) is None
        await pilot.press("5")
        assert isinstance(app.screen, PortfolioScreen)


async def test_palette_quick_action_filters_the_portfolio(app_factory, ui_book) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "red/yellow")
        await pilot.pause(0.5)
        await pilot.press("enter")
        expected = read_one(
            ui_book,
            "SELECT count(*) FROM accounts WHERE status = 'active' "
            "AND health_band IN ('red', 'yellow')",
        )
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PortfolioScreen)
                and app.screen.query_one(AccountTable).total == expected
            ),
        )
        assert app.screen.portfolio_query.bands == {"red", "yellow"}


async def test_palette_finds_an_account_by_part_of_its_name(app_factory, ui_book) -> None:
    name = read_one(ui_book, "SELECT name FROM accounts WHERE status = 'active' ORDER BY id")
    fragment = name.split()[0][:6].lower()
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, f"health {fragment}")
        await pilot.pause(0.8)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        opened = read_one(
            ui_book, "SELECT lower(name) FROM accounts WHERE id = ?", (app.screen.account_id,)
        )
        assert fragment in opened


async def test_theme_key_changes_the_theme(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        before = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != before


async def test_a_failing_worker_becomes_a_notice_and_the_app_keeps_running(
    app_factory, monkeypatch
) -> None:
    from csm_tui.service import account_view

    def broken(book, account_id):
        raise RuntimeError("Secret Customer Inc has 12 seats")

    monkeypatch.setattr(account_view, "load_account", broken)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.severity == "error" for n in app._notifications))
        messages = " ".join(n.message for n in app._notifications)
        assert "Secret Customer" not in messages and "reading the account" in messages
        await pilot.press("escape", "1")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))
        assert app.is_running


async def test_a_missing_account_is_a_clear_notice(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        app.open_account("NO-SUCH-ID")
        await wait_for(pilot, lambda: any("NO-SUCH-ID" in n.message for n in app._notifications))
        assert app.is_running


async def test_a_change_by_another_process_appears_on_its_own(app_factory, ui_book) -> None:
    app = app_factory(poll_interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        first = app.screen.query_one(AccountTable).loaded_rows()[0]
        other = open_book(ui_book)  # another connection, as another csm process would have
        with other.write() as conn:
            conn.execute(
                "UPDATE accounts SET name = 'Renamed Elsewhere Ltd' WHERE id = ?", (first.id,)
            )
        other.close()
        await wait_for(
            pilot,
            lambda: any(
                r.name == "Renamed Elsewhere Ltd"
                for r in app.screen.query_one(AccountTable).loaded_rows()
            ),
            timeout=5,
        )


async def test_an_empty_book_opens_the_welcome(app_factory, tmp_path) -> None:
    app = app_factory(db_path=tmp_path / "empty.db")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        text = str(app.screen.query_one("#welcome").render())
        assert "csm import" in text and "empty.db" in text


async def test_palette_plan_qbr_writes_the_review(app_factory, ui_book, isolated_env) -> None:
    name = read_one(ui_book, "SELECT name FROM accounts WHERE status = 'active' ORDER BY id")
    account_id = read_one(ui_book, "SELECT id FROM accounts WHERE name = ?", (name,))
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, f"qbr {name.split()[0]}")
        await pilot.pause(0.8)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any("QBR review written" in n.message for n in app._notifications),
            timeout=20,
        )
    written = list((isolated_env / "data" / "reports").glob(f"qbr-{account_id}-*.md"))
    assert len(written) == 1 and name in written[0].read_text()
