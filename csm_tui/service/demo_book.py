"""A scored demo book: the generator's data plus 12 months of health history, in one go."""

from __future__ import annotations

from datetime import date
from typing import Any

from csm_tui.storage.demo import DemoSummary, generate_demo


def score_as_of(book: Any, as_of: date, history_only: bool) -> None:
    """The scoring engine's full rescore as of `as_of` (history rows only for past dates)."""
    from csm_tui.scoring import engine

    engine.rescore_all(book, today=as_of, history_only=history_only)


def create_demo_book(book: Any, **options: Any) -> DemoSummary:
    """Write a demo book (see `generate_demo` for the options) and score it, atomically."""
    return generate_demo(book, score=score_as_of, **options)


def train_demo_model(book: Any) -> bool:
    """Train the churn model on the demo's renewal history and refresh every account's risk.

    Returns False (and leaves risk on the health band) when the book has too little history,
    as a small demo of a few dozen accounts does.
    """
    from csm_tui.scoring import engine
    from csm_tui.scoring.churn import NotEnoughHistory, train_book_model

    try:
        train_book_model(book)
    except NotEnoughHistory:
        return False
    engine.rescore_all(book)
    return True
