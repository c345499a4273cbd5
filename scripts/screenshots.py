"""Render every screen of the real app on a deterministic demo book to SVG in screenshots/.

    python3 scripts/screenshots.py            # writes screenshots/*.svg (for the README)

The book is the demo (fixed seed, CSM_TODAY fixed), built in a temporary directory;
the app runs headless at 120×40. Screens of other engineers (alerts, renewals, playbooks,
dashboard, save plan) are included when they are installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
TODAY = "2026-11-23"
SIZE = (120, 40)
ACCOUNTS = 200
SEED = 7


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def _settle(
    pilot, condition: Callable[[], bool] | None = None, timeout: float = 15.0
) -> None:
    """Wait for `condition` (or just for workers to finish), then one more refresh."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while condition is not None and not condition() and loop.time() < deadline:
        await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause()


def _table_ready(app) -> bool:
    tables = app.screen.query("AccountTable")
    return bool(tables) and tables.first().total is not None


async def _shoot(app, pilot, name: str) -> None:
    app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"  screenshots/{name}.svg")


async def _portfolio(app, pilot) -> None:
    await _settle(pilot, lambda: _table_ready(app))
    await _shoot(app, pilot, "01-portfolio")
    await pilot.press("r", "y", "d", "d", "d")
    await _settle(pilot, lambda: _table_ready(app))
    await _shoot(app, pilot, "02-portfolio-red-yellow-renewing-90d")
    await pilot.press("escape", "question_mark")
    await _settle(pilot)
    await _shoot(app, pilot, "03-help")
    await pilot.press("escape", "ctrl+p")
    for key in "red/yellow":
        await pilot.press(key)
    await _settle(pilot)
    await pilot.pause(0.5)
    await _shoot(app, pilot, "04-command-palette")
    await pilot.press("escape")
    await _settle(pilot)


async def _account(app, pilot) -> None:
    account_id = _first_yellow(app)
    app.open_account(account_id)
    await _settle(pilot, lambda: getattr(app.screen, "drivers", None) is not None)
    await _shoot(app, pilot, "05-account")
    for key, name in (
        ("e", "06-edit-account"),
        ("n", "07-note"),
        ("l", "08-log-activity"),
        ("r", "09-record-nps"),
    ):
        await pilot.press(key)
        await _settle(pilot)
        await _shoot(app, pilot, name)
        await pilot.press("escape")
        await _settle(pilot)
    if _has("csm_tui.screens.save_plan"):
        await pilot.press("p")
        await _settle(pilot)
        await _shoot(app, pilot, "10-save-plan")
        await pilot.press("escape")
        await _settle(pilot)
    await pilot.press("escape")


def _first_yellow(app) -> str:
    rows = app.session.reader.query(
        "SELECT id FROM accounts WHERE status = 'active' AND health_band = 'yellow' "
        "AND health_delta_7 IS NOT NULL ORDER BY health_delta_7 LIMIT 1"
    )
    return rows[0]["id"]


async def _other_screens(app, pilot) -> None:
    for key, name in (
        ("2", "11-alerts"),
        ("3", "12-renewals"),
        ("4", "13-playbooks"),
        ("5", "14-dashboard"),
    ):
        if key in app.available:
            await pilot.press(key)
            await _settle(pilot)
            await _shoot(app, pilot, name)
    await pilot.press("1")


async def _welcome(empty: Path) -> None:
    import shutil

    from csm_tui.app import CsmApp

    shutil.rmtree(empty.parent, ignore_errors=True)  # a first run: no book yet

    app = CsmApp(db_path=empty)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen")
        await _shoot(app, pilot, "00-welcome")


async def _run(book: Path, empty: Path) -> None:
    from csm_tui.app import CsmApp

    await _welcome(empty)
    app = CsmApp(db_path=book)
    steps: list[Callable[[object, object], Awaitable[None]]] = [
        _portfolio,
        _account,
        _other_screens,
    ]
    async with app.run_test(size=SIZE) as pilot:
        for step in steps:
            await step(app, pilot)


def main() -> int:
    """Build the demo book, render every screen, print what was written."""
    os.environ["CSM_TODAY"] = TODAY
    sys.path.insert(0, str(ROOT))
    from csm_tui.service.demo_book import create_demo_book, train_demo_model
    from csm_tui.storage.db import open_book

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CSM_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["CSM_CONFIG_DIR"] = str(Path(tmp) / "config")
        book_path = Path(tmp) / "demo.db"
        book = open_book(book_path)
        create_demo_book(book, accounts=ACCOUNTS, seed=SEED, today=date.fromisoformat(TODAY))
        train_demo_model(book)  # as `csm --demo` does: churn risk from the model
        book.close()
        print(f"Rendering csm's screens ({SIZE[0]}×{SIZE[1]}, demo book of {ACCOUNTS} accounts):")
        asyncio.run(_run(book_path, Path("/tmp/csm-screenshots/your-book.db")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
