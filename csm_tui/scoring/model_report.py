"""`csm model report`: the churn model's quality, and whether the health score itself works.

Health scores are often a black box that stays green until the customer churns. This report
replays the book's past renewals: for each renewal with a known outcome it takes the health
snapshot the CSM would have seen a month before (the latest `health` row dated on or before
``due_date − 30 days``, at most ``SNAPSHOT_MAX_AGE_DAYS`` older), then measures how well
"100 − score" ranked the churners (ROC-AUC, top-decile lift) and the churn rate per band.
A score that deserves trust has red churning far more often than green.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from csm_tui.clock import today as clock_today

BANDS = ("green", "yellow", "red", "insufficient")
#: A snapshot older than this (before the as-of date) says nothing about that renewal.
SNAPSHOT_MAX_AGE_DAYS = 90
#: Fewest scored renewals of each outcome before a ROC-AUC means anything.
MIN_PER_CLASS = 10

_PAST_SQL = """
SELECT id, account_id, date(due_date, '-30 days') AS as_of,
    date(due_date, '-30 days', '-' || :max_age || ' days') AS since, outcome
FROM renewals WHERE outcome IS NOT NULL AND date(due_date, '-30 days') <= :today
"""


@dataclass
class BandOutcome:
    """Past renewals whose account was in one band a month before: how many churned."""

    band: str
    renewals: int
    churned: int
    churn_rate: float | None


@dataclass
class HealthCheck:
    """How the health score would have ranked the past renewal outcomes."""

    outcomes: int  # renewals with a known outcome (as of at least 30 days ago)
    scored: int  # … of which had a health snapshot a month before
    churned: int
    renewed: int
    roc_auc: float | None
    lift_top_decile: float | None
    bands: list[BandOutcome] = field(default_factory=list)
    status: str | None = None  # plain words when there is too little to judge

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        out = asdict(self)
        for key in ("roc_auc", "lift_top_decile"):
            out[key] = None if out[key] is None else round(out[key], 4)
        return out


def health_check(conn: sqlite3.Connection, today: date | None = None) -> HealthCheck:
    """Replay past renewals against the health snapshot taken a month before each."""
    today = today or clock_today()
    rows = _snapshots_before(conn, today)
    churn = (rows["outcome"] == "churned").to_numpy(dtype=np.int8)
    band = rows["band"].where(rows["band"].isin(BANDS), "insufficient")
    has_snapshot = rows["snap_date"].notna().to_numpy()
    score = pd.to_numeric(rows["score"], errors="coerce").to_numpy(dtype=float)
    ranked = has_snapshot & ~np.isnan(score)
    check = HealthCheck(
        outcomes=len(rows),
        scored=int(has_snapshot.sum()),
        churned=int(churn[has_snapshot].sum()),
        renewed=int((1 - churn[has_snapshot]).sum()),
        roc_auc=None,
        lift_top_decile=None,
        bands=_band_table(band[has_snapshot], churn[has_snapshot]),
    )
    check.status = _too_little(check, churn[ranked])
    if check.status is None:
        check.roc_auc, check.lift_top_decile = _ranking(churn[ranked], 100 - score[ranked])
    return check


def _snapshots_before(conn: sqlite3.Connection, today: date) -> pd.DataFrame:
    """Each past renewal's outcome with the account's latest snapshot (date, score, band)
    within SNAPSHOT_MAX_AGE_DAYS before a month ahead of its due date."""
    from csm_tui.storage.history import latest_snapshot

    out = []
    params = {"today": today.isoformat(), "max_age": SNAPSHOT_MAX_AGE_DAYS}
    for rid, account, as_of, since, outcome in conn.execute(_PAST_SQL, params).fetchall():
        snap = latest_snapshot(conn, account, until=as_of, since=since) or {}
        out.append((rid, outcome, snap.get("date"), snap.get("score"), snap.get("band")))
    return pd.DataFrame(out, columns=["id", "outcome", "snap_date", "score", "band"])


def _band_table(band: pd.Series, churn: np.ndarray) -> list[BandOutcome]:
    table = []
    for name in BANDS:
        mask = (band == name).to_numpy()
        count, churned = int(mask.sum()), int(churn[mask].sum())
        table.append(BandOutcome(name, count, churned, churned / count if count else None))
    return table


def _too_little(check: HealthCheck, churn_ranked: np.ndarray) -> str | None:
    if check.outcomes == 0:
        return "no past renewals with a known outcome yet, so nothing to check the score against"
    if check.scored == 0:
        return (
            f"{check.outcomes} past renewals have a known outcome, but none has a health snapshot "
            "from the month before; the check becomes possible as daily snapshots accumulate"
        )
    positives = int(churn_ranked.sum())
    negatives = len(churn_ranked) - positives
    if min(positives, negatives) < MIN_PER_CLASS:
        return (
            f"too little history to judge the score: {len(churn_ranked)} scored past renewals "
            f"({positives} churned, {negatives} renewed); need {MIN_PER_CLASS} of each"
        )
    return None


def _ranking(churn: np.ndarray, risk: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    from csm_tui.scoring.churn import lift_top_decile

    return float(roc_auc_score(churn, risk)), lift_top_decile(churn, risk)


@dataclass
class ModelSection:
    """The churn model's side of the report: its saved CV metrics, or why there are none."""

    status: str  # "trained", "evaluated", "not enough history", "out of date", "none"
    message: str
    metrics: dict | None = None


def model_section(book, model_path: Path) -> ModelSection:
    """The saved model's metrics; with none saved, a fresh (unsaved) cross-validation."""
    from csm_tui.scoring.churn import ModelMismatch, NotEnoughHistory, fit_model, read_metadata
    from csm_tui.scoring.churn_features import training_frame

    try:
        meta = read_metadata(model_path)
        if meta is not None:
            _check_saved_model(book, model_path)
    except ModelMismatch as exc:
        return ModelSection("out of date", exc.message)
    if meta is not None:
        when = meta.get("trained_at", "an unknown time")
        return ModelSection(
            "trained", f"model trained {when} on {meta['rows']} renewals", meta.get("metrics")
        )
    with book.read() as conn:
        data = training_frame(conn)
    try:
        _, report = fit_model(data.X, data.y, what="renewal outcomes")
    except NotEnoughHistory as exc:
        return ModelSection("not enough history", exc.message)
    return ModelSection(
        "evaluated",
        "no model saved yet: cross-validated now; run `csm model train` to use it for risk",
        report.to_dict(),
    )


def _check_saved_model(book, model_path: Path) -> None:
    """Raise ModelMismatch if the saved model no longer fits the book's current features."""
    from csm_tui.scoring.churn import load_model
    from csm_tui.scoring.churn_features import feature_frame

    model = load_model(model_path)
    with book.read() as conn:
        one = conn.execute("SELECT id FROM accounts WHERE status = 'active' LIMIT 1").fetchone()
        if model is not None and one is not None:
            model.check_features(feature_frame(conn, account_ids=[one[0]]))


def full_report(book, model_path: Path) -> dict:
    """Everything `csm model report` shows, as one JSON-ready dict."""
    section = model_section(book, model_path)
    with book.read() as conn:
        health = health_check(conn)
    return {
        "model": {"status": section.status, "message": section.message, **(section.metrics or {})},
        "health_score": health.to_dict(),
    }
