"""Transforms, weighting, renormalisation, insufficient data and the explain arithmetic."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_tui.scoring import health
from csm_tui.scoring.config import Category, Measure, default_config
from csm_tui.scoring.health import explain_row, score_matrix, transform

CFG = default_config()
KEYS = [m.key for m in CFG.measures]


def raw_row(**values: float) -> np.ndarray:
    """A 1 × M raw matrix with the given measures set (others missing)."""
    row = np.full((1, len(KEYS)), np.nan)
    for key, value in values.items():
        row[0, KEYS.index(key)] = value
    return row


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("last_touch", 0, 100), ("last_touch", 14, 100), ("last_touch", 52, 50),
        ("last_touch", 90, 0), ("last_touch", 400, 0),
        ("usage_trend", -50, 0), ("usage_trend", -30, 0), ("usage_trend", -15, 35),
        ("usage_trend", 0, 70), ("usage_trend", 10, 85), ("usage_trend", 20, 100),
        ("usage_trend", 90, 100),
        ("nps", 0, 0), ("nps", 6, 40), ("nps", 8, 75), ("nps", 10, 100),
        ("csat", 1, 0), ("csat", 3, 50), ("csat", 5, 100),
        ("escalations", 0, 100), ("escalations", 1, 50), ("escalations", 5, 0),
        ("sponsor", 0, 0), ("sponsor", 1, 100),
        ("support_load", 0, 100), ("support_load", 15, 40), ("support_load", 60, 0),
        ("seat_utilisation", 85, 100), ("seat_utilisation", 150, 100),
    ],
)  # fmt: skip
def test_transform_break_points_and_clamping(key, raw, expected):
    assert float(transform(raw, CFG.measure(key).points)) == pytest.approx(expected)


def test_transform_keeps_missing_missing():
    assert math.isnan(float(transform(np.nan, CFG.measure("nps").points)))


@pytest.mark.parametrize("measure", CFG.measures, ids=lambda m: m.key)
@given(a=st.floats(-1000, 1000), b=st.floats(-1000, 1000))
def test_every_default_transform_is_monotone_and_bounded(measure, a, b):
    lo, hi = sorted((a, b))
    va, vb = transform(np.array([lo, hi]), measure.points)
    assert 0 <= va <= 100 and 0 <= vb <= 100
    rising = measure.points[-1][1] >= measure.points[0][1]
    assert (va <= vb + 1e-9) if rising else (va >= vb - 1e-9)


def test_category_is_weighted_mean_and_overall_renormalises():
    # usage: seat 85 % → 100 (weight 30), stickiness 10 % → 40 (weight 25); others missing.
    # sentiment: NPS 8 → 75 (50), escalations 0 → 100 (30). Engagement/outcomes: no data.
    cfg = replace(CFG, min_data_share=0.0)
    raw = raw_row(seat_utilisation=85, stickiness=10, nps=8, escalations=0)
    arrays = score_matrix(raw, cfg)
    usage = (100 * 30 + 40 * 25) / 55
    sentiment = (75 * 50 + 100 * 30) / 80
    assert arrays.parts[0, 0] == pytest.approx(usage)
    assert np.isnan(arrays.parts[0, 1]) and np.isnan(arrays.parts[0, 2])
    assert arrays.parts[0, 3] == pytest.approx(sentiment)
    assert arrays.score[0] == pytest.approx((usage * 40 + sentiment * 10) / 50)


def test_coverage_is_share_of_total_nominal_weight():
    raw = raw_row(seat_utilisation=50, stickiness=20, feature_adoption=50, usage_trend=0)
    arrays = score_matrix(raw, CFG)
    assert arrays.coverage[0] == pytest.approx(0.4)


def test_too_little_data_is_insufficient_never_a_number():
    raw = raw_row(seat_utilisation=50, stickiness=20, feature_adoption=50, usage_trend=0)
    arrays = score_matrix(raw, CFG)  # 40 % of the weight < 50 %
    assert np.isnan(arrays.score[0])
    assert arrays.band[0] == "insufficient"
    assert all(m.points is None for m in explain_row(raw, arrays, CFG))
    empty = score_matrix(raw_row(), CFG)
    assert empty.band[0] == "insufficient" and empty.coverage[0] == 0


def test_enough_data_scores_and_bands():
    full = {
        k: v
        for k, v in zip(KEYS, [85, 40, 80, 20, 0, 100, 5, 30, 100, 1, 1, 10, 5, 0], strict=True)
    }
    arrays = score_matrix(raw_row(**full), CFG)
    assert arrays.score[0] == pytest.approx(100)
    assert arrays.band[0] == "green"
    low = dict(
        full,
        seat_utilisation=0,
        stickiness=0,
        feature_adoption=0,
        usage_trend=-40,
        last_touch=120,
        nps=0,
        objectives=0,
    )
    assert score_matrix(raw_row(**low), CFG).band[0] == "red"


@given(st.lists(st.one_of(st.none(), st.floats(-50, 500)), min_size=len(KEYS), max_size=len(KEYS)))
def test_explain_points_sum_to_the_score(values):
    raw = np.array([[np.nan if v is None else v for v in values]])
    arrays = score_matrix(raw, CFG)
    rows = explain_row(raw, arrays, CFG)
    if np.isnan(arrays.score[0]):
        assert all(m.points is None for m in rows)
        return
    assert sum(m.points for m in rows if m.points is not None) == pytest.approx(
        arrays.score[0], abs=0.05
    )
    assert sum(m.weight for m in rows if m.weight) == pytest.approx(1.0, abs=1e-3)
    for m in rows:
        if m.value is not None:
            assert m.points == pytest.approx(m.value * m.weight, abs=0.05)


def test_a_category_with_zero_weight_drops_out():
    cats = tuple(replace(c, weight=0.0) if c.key == "sentiment" else c for c in CFG.categories)
    cfg = replace(CFG, categories=cats, min_data_share=0.0)
    raw = raw_row(seat_utilisation=85, nps=0)
    assert score_matrix(raw, cfg).score[0] == pytest.approx(100)


def test_vectorised_rows_match_single_rows():
    rng = np.random.default_rng(0)
    raw = rng.uniform(-20, 120, (50, len(KEYS)))
    raw[rng.random(raw.shape) < 0.4] = np.nan
    many = score_matrix(raw, CFG)
    for i in range(50):
        one = score_matrix(raw[i : i + 1], CFG)
        assert np.allclose(one.score, many.score[i : i + 1], equal_nan=True)
        assert one.band[0] == many.band[i]


def test_custom_measure_config_is_used():
    cfg = replace(
        CFG,
        categories=(Category("usage", "Usage", 1.0),),
        measures=(Measure("nps", "NPS", "usage", "", 1.0, ((0, 0), (10, 100))),),
    )
    assert score_matrix(np.array([[7.0]]), cfg).score[0] == pytest.approx(70)


def test_a_book_scored_in_blocks_equals_one_pass(monkeypatch):
    rng = np.random.default_rng(4)
    raw = rng.uniform(-20, 400, (1_000, len(CFG.measures)))
    raw[rng.random(raw.shape) < 0.3] = np.nan
    raw[rng.random(len(raw)) < 0.1] = np.nan  # whole rows without data: insufficient
    whole = score_matrix(raw, CFG)
    monkeypatch.setattr(health, "BLOCK_ROWS", 64)  # 16 blocks, the last one short
    blocked = score_matrix(raw, CFG)
    assert (blocked.band == "insufficient").sum() >= 100
    for f in fields(whole):
        np.testing.assert_array_equal(getattr(blocked, f.name), getattr(whole, f.name))


def test_a_book_scored_without_explain_has_the_same_scores(monkeypatch):
    rng = np.random.default_rng(5)
    raw = rng.uniform(-20, 400, (300, len(CFG.measures)))
    raw[rng.random(raw.shape) < 0.3] = np.nan
    whole = score_matrix(raw, CFG)
    for rows in (64, 1_000):  # in blocks, and in one
        monkeypatch.setattr(health, "BLOCK_ROWS", rows)
        lean = score_matrix(raw, CFG, explain=False)
        assert lean.values.shape == lean.weights.shape == (0, len(CFG.measures))
        for name in ("points", "parts", "coverage", "score", "band"):
            np.testing.assert_array_equal(getattr(lean, name), getattr(whole, name))
