"""Shared UI fixtures: a small deterministic book (built once per session, copied per test)
and a factory for the real app on it.

    async def test_x(app_factory):
        app = app_factory()                       # CsmApp on a fresh copy of the book
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: ...)    # poll until workers have delivered
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App

from tests.conftest import TEST_TODAY

#: Terminal size of snapshot and Pilot tests.
SIZE = (120, 40)
#: The UI fixture book: the demo generator at this size and seed, scored as of
#: TEST_TODAY — deterministic, and it holds every alert situation of SPEC.md.
UI_BOOK_ACCOUNTS = 60
UI_BOOK_SEED = 7


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (no asyncio plugin is installed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(scope="session")
def ui_book_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book, built once per test session. Never write to it: use `ui_book`."""
    from datetime import date

    from csm_tui.service.demo_book import create_demo_book
    from csm_tui.storage.db import open_book

    path = tmp_path_factory.mktemp("ui-book") / "template.db"
    book = open_book(path)
    try:
        create_demo_book(
            book, accounts=UI_BOOK_ACCOUNTS, seed=UI_BOOK_SEED, today=date.fromisoformat(TEST_TODAY)
        )
    finally:
        book.close()
    return path


@pytest.fixture
def ui_book(ui_book_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the fixture book for one test (safe to edit)."""
    target = tmp_path / "book.db"
    shutil.copyfile(ui_book_template, target)  # closed cleanly: the WAL is checkpointed
    return target


@pytest.fixture
def app_factory(ui_book: Path) -> Callable[..., object]:
    """Make a CsmApp on the test's copy of the book (or on `db_path=` if given)."""

    def make(db_path: Path | None = None, **kwargs):
        from csm_tui.app import CsmApp

        return CsmApp(
            db_path=db_path or ui_book, poll_interval=kwargs.pop("poll_interval", 0.3), **kwargs
        )

    return make


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (workers deliver asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_rows(pilot) -> None:
    """Until the portfolio shows rows and knows its total."""
    from csm_tui.widgets.account_table import AccountTable

    def ready() -> bool:
        tables = pilot.app.screen.query(AccountTable)
        return (
            bool(tables)
            and tables.first().total is not None
            and bool(tables.first().loaded_rows() or tables.first().total == 0)
        )

    await wait_for(pilot, ready)


async def type_text(pilot, text: str) -> None:
    """Type `text` key by key, as a user would."""
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def read_one(db_path: Path, sql: str, params: tuple = ()):
    """One value from the book, read through a fresh connection (what another process sees)."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


class ScreenHost(App):
    """A bare app on a book session that opens one screen, as the real app would push it;
    whatever the screen dismisses with lands in `results`."""

    def __init__(self, path: Path, first_screen) -> None:
        super().__init__()
        from csm_tui.service.book_session import BookSession

        self.session = BookSession(path)
        self.first_screen = first_screen
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self.first_screen, self.results.append)

    def on_unmount(self) -> None:
        self.session.close()
