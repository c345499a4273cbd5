"""`csm model report`: does the health score a month before each renewal rank the outcomes?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csm_tui.paths import model_path_for
from csm_tui.scoring.churn import train_book_model
from csm_tui.scoring.model_report import full_report, health_check


def _snapshots(book, truth, *, informative: bool, days_before_as_of: int = 5) -> None:
    """One health row per past renewal, `days_before_as_of` before due − 30 days."""
    rng = np.random.default_rng(3)
    signal = -18 * truth["risk"] if informative else 0
    score = np.clip(70 + signal + rng.normal(0, 8, len(truth["ids"])), 0, 100)
    band = np.where(score >= 75, "green", np.where(score >= 50, "yellow", "red"))
    day = pd.Timestamp("2026-11-23") + pd.to_timedelta(
        truth["due"] - 30 - days_before_as_of, unit="D"
    )
    rows = zip(truth["ids"], day.strftime("%Y-%m-%d"), score.tolist(), band.tolist(), strict=True)
    with book.write() as conn:
        conn.executemany("INSERT INTO health(account_id, date, score, band) VALUES (?,?,?,?)", rows)


def test_an_informative_score_ranks_churners_and_red_churns_most(synth_book):
    _snapshots(synth_book, synth_book.truth, informative=True)
    check = health_check(synth_book.conn)
    assert check.outcomes == check.scored == 400
    assert check.roc_auc > 0.7
    assert check.lift_top_decile > 1.5
    rates = {b.band: b for b in check.bands}
    assert sum(b.renewals for b in check.bands) == 400
    assert sum(b.churned for b in check.bands) == synth_book.truth["churned"].sum()
    assert rates["red"].churn_rate > rates["yellow"].churn_rate > rates["green"].churn_rate
    assert check.status is None


def test_an_uninformative_score_is_shown_as_near_chance(synth_book):
    _snapshots(synth_book, synth_book.truth, informative=False)
    check = health_check(synth_book.conn)
    assert 0.4 < check.roc_auc < 0.6


def test_snapshots_after_the_as_of_date_or_too_old_are_not_used(synth_book):
    _snapshots(synth_book, synth_book.truth, informative=True, days_before_as_of=-1)
    assert health_check(synth_book.conn).scored == 0
    _snapshots(synth_book, synth_book.truth, informative=True, days_before_as_of=120)
    check = health_check(synth_book.conn)
    assert check.scored == 0
    assert "none has a health snapshot from the month before" in check.status


def test_no_history_says_so_in_plain_words(book):
    check = health_check(book.conn)
    assert check.roc_auc is None
    assert check.status.startswith("no past renewals with a known outcome yet")


def test_full_report_without_a_saved_model_cross_validates_without_saving(synth_book):
    path = model_path_for(synth_book.path)
    report = full_report(synth_book, path)
    assert report["model"]["status"] == "evaluated"
    assert report["model"]["roc_auc"] > 0.7
    assert not path.exists()
    train_book_model(synth_book)
    report = full_report(synth_book, path)
    assert report["model"]["status"] == "trained"
    assert report["model"]["n"] == 400
    assert "health_score" in report
