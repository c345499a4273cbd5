"""A small demo book (the demo generator, scored by the engine), built once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from csm_tui.service.demo_book import create_demo_book
from csm_tui.storage.db import open_book

DEMO_ACCOUNTS = 60


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo book's file (read it; never write to it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    book = open_book(path)
    create_demo_book(book, accounts=DEMO_ACCOUNTS, today=date(2026, 11, 23))
    book.close()
    return path


@pytest.fixture
def demo_book(demo_path: Path):
    """The demo book, open for this test."""
    book = open_book(demo_path)
    yield book
    book.close()
