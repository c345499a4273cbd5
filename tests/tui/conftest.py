"""Shared UI fixtures: a small deterministic book (built once per session, copied per test)
and a factory for the real app on it.

    async def test_x(app_factory):
        app = app_factory()                       # CsmApp on a fresh copy of the book
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: ...)    # poll until workers have delivered
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.book_fixture import build_book

#: Terminal size of snapshot and Pilot tests.
SIZE = (120, 40)


@pytest.fixture(scope="session")
def ui_book_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book, built once per test session. Never write to it: use `ui_book`."""
    return build_book(tmp_path_factory.mktemp("ui-book") / "template.db")


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

        return CsmApp(db_path=db_path or ui_book, poll_interval=kwargs.pop("poll_interval", 0.3),
                      **kwargs)

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
