"""The generic churn pipeline: column typing, label parsing, cross-validated report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csm_tui.scoring.churn import (
    BadLabel,
    NotEnoughHistory,
    ScoreCalibrator,
    _clean_text,
    convert_column,
    fit_report,
    history_status,
    lift_top_decile,
    parse_label,
    prepare_features,
    risk_segment,
)
from tests.model.conftest import labelled_frame


def test_pipeline_beats_chance_clearly_on_a_real_signal(synthetic_frame):
    report = fit_report(synthetic_frame, "Churn", id_col="customer")
    assert report.roc_auc > 0.8
    assert report.lift_top_decile > 1.8
    assert report.n == 400
    assert report.positives + report.negatives == 400
    assert report.positives == (synthetic_frame["Churn"] == "Yes").sum()
    assert report.estimator in {"logistic", "boosting"}
    assert set(report.candidates) == {"logistic", "boosting"}
    assert report.dropped_columns["customer"] == "the id column"
    assert sum(b.count for b in report.calibration) == 400
    assert report.calibration_method == "sigmoid"  # 400 rows: too few for isotonic


def test_report_json_has_the_documented_keys(synthetic_frame):
    out = fit_report(synthetic_frame, "Churn", id_col="customer").to_dict()
    for key in (
        "roc_auc",
        "pr_auc",
        "brier",
        "lift_top_decile",
        "n",
        "positive_rate",
        "estimator",
        "calibration",
        "positives",
        "negatives",
        "fit_seconds",
    ):
        assert key in out
    assert 0 < out["brier"] < 0.25
    assert out["positive_rate"] == pytest.approx(out["positives"] / out["n"], abs=1e-4)


def test_noise_alone_scores_near_chance():
    frame = labelled_frame(seed=3)
    frame["Churn"] = np.random.default_rng(9).permutation(frame["Churn"].to_numpy())
    report = fit_report(frame.drop(columns=["customer"]), "Churn")
    assert 0.35 < report.roc_auc < 0.65


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        ("Yes", "No"),
        ("1", "0"),
        ("True", "False"),
        ("churned", "renewed"),
        ("Churned", "Retained"),
        ("1.0", "0.0"),
        (" yes ", "NO"),
    ],
)
def test_label_values_are_understood(positive, negative):
    parsed = parse_label(pd.Series([positive, negative, negative, positive]), "label")
    assert parsed.tolist() == [1, 0, 0, 1]


def test_numeric_labels_from_a_number_column():
    assert parse_label(pd.Series([1, 0, 1]), "y").tolist() == [1, 0, 1]


def test_unknown_label_values_are_named():
    with pytest.raises(BadLabel) as err:
        parse_label(pd.Series(["Yes", "No", "maybe", "maybe", "??"]), "Churn")
    assert "'maybe' (2 rows)" in err.value.message
    assert "'??' (1 rows)" in err.value.message
    assert "Churn" in err.value.message


def test_empty_labels_name_their_rows():
    with pytest.raises(BadLabel) as err:
        parse_label(pd.Series(["Yes", "", "No", None]), "Churn")
    assert "rows 3, 5" in err.value.message  # CSV rows: header is row 1


def test_missing_label_column_lists_the_columns(synthetic_frame):
    with pytest.raises(BadLabel, match="no column named 'Outcome'.*usage_drop"):
        fit_report(synthetic_frame, "Outcome")


def test_columns_are_typed_robustly():
    frame = pd.DataFrame(
        {
            "total": ["10.5", " ", "20", "1,234.5"] * 30,  # a blank for new customers
            "price": ["$5", "$7.50", "$1,200", "$3"] * 30,
            "contract": ["monthly", "annual", "monthly", "annual"] * 30,
            "email": [f"user{i}@example.com" for i in range(120)],
            "constant": ["x"] * 120,
            "empty": [""] * 120,
            "signed_up": ["2024-01-05", "2024-03-01T10:00:00", "", "2025-12-31"] * 30,
        }
    )
    typed, plan = prepare_features(frame)
    assert plan.numeric == ["total", "price", "signed_up"]
    assert typed["signed_up"].iloc[1] - typed["signed_up"].iloc[0] == 56  # days apart
    assert plan.categorical == ["contract"]
    assert typed["total"].isna().sum() == 30
    assert typed["total"].iloc[3] == 1234.5
    assert typed["price"].iloc[2] == 1200.0
    assert "distinct values" in plan.dropped["email"]
    assert plan.dropped["constant"] == "the same value in every row"
    assert plan.dropped["empty"] == "always empty"


def test_too_little_history_is_a_plain_status():
    frame = labelled_frame(n=40)
    with pytest.raises(NotEnoughHistory) as err:
        fit_report(frame, "Churn")
    positives = int((frame["Churn"] == "Yes").sum())
    assert err.value.message == (
        f"not enough history to train: 40 known outcomes ({positives} churned, "
        f"{40 - positives} renewed); need at least 50 with 10 of each"
    )


def test_too_few_of_one_class_is_not_enough():
    assert history_status(5, 500) is not None
    assert history_status(10, 40) is None
    assert history_status(10, 39) is not None


def test_lift_and_risk_segments():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 10)
    score = np.where(y == 1, 0.9, 0.1)
    assert lift_top_decile(y, score) == pytest.approx(5.0)
    assert [risk_segment(p) for p in (0.7, 0.5, 0.3, 0.2, 0.05)] == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
    ]
    assert risk_segment(0.4, high=0.35, medium=0.1) == "high"
    assert risk_segment(None) is None


def test_text_is_cleaned_the_same_on_the_one_account_path():
    values = pd.Series([" a ", "", None, np.nan, 3, "b", "  "], dtype=object)
    slow = convert_column(values, "text").tolist()
    fast = [_clean_text(v) for v in values.tolist()]
    assert (
        [str(v) for v in fast]
        == [str(v) for v in slow]
        == ["a", "nan", "nan", "nan", "3", "b", "nan"]
    )


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_matches_the_fitted_estimator(method):
    rng = np.random.default_rng(0)
    score = rng.normal(size=500)
    y = (rng.random(500) < 1 / (1 + np.exp(-2 * score))).astype(int)
    cal = ScoreCalibrator(method).fit(score, y)
    probe = np.linspace(-4, 4, 50)
    if method == "isotonic":
        expected = cal.model.predict(probe)
    else:
        expected = cal.model.predict_proba(probe[:, None])[:, 1]
    assert np.allclose(cal.predict(probe), expected)
    assert np.all(np.diff(cal.predict(probe)) >= 0)
