"""Fixtures for the metric tests: the hand-made 2026-Q3 book (see q3_book.py)."""

from __future__ import annotations

import pytest

from tests.metrics.q3_book import build_q3_book


@pytest.fixture
def q3_book(book):
    """The hand-made book (see build_q3_book) in a fresh database."""
    with book.write() as conn:
        build_q3_book(conn)
    return book
