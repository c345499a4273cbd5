"""Fixtures for the churn model tests: small labelled tables and synthetic books."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.model.synthbook import make_book


def labelled_frame(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """A table with a real signal: churn rises with `usage_drop` and on the "monthly" plan."""
    rng = np.random.default_rng(seed)
    usage_drop = rng.normal(size=n)
    plan = rng.choice(["monthly", "annual", "biennial"], size=n)
    noise = rng.normal(size=n)
    logit = -1.0 + 1.8 * usage_drop + np.where(plan == "monthly", 1.2, -0.4)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer": [f"C{i:05d}" for i in range(n)],
            "usage_drop": usage_drop.round(3).astype(str),
            "plan": plan,
            "noise": noise,
            "Churn": np.where(churned, "Yes", "No"),
        }
    )


@pytest.fixture
def synthetic_frame() -> pd.DataFrame:
    """400 labelled rows with a clear signal (see `labelled_frame`)."""
    return labelled_frame()


@pytest.fixture
def synth_book(book):
    """A book of 400 accounts, each with a past renewal whose outcome follows a hidden risk."""
    truth = make_book(book, n=400)
    book.truth = truth
    return book
