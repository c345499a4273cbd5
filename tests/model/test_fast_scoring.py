"""The fast scoring paths give the same probabilities as scikit-learn's own pipeline."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn

from csm_tui.paths import model_path_for
from csm_tui.scoring.churn import (
    PREDICT_CHUNK,
    FastPipeline,
    build_pipeline,
    load_model,
    model_input,
    positional,
    prepare_features,
    single_threaded,
    train_book_model,
)
from csm_tui.scoring.churn_features import feature_frame


def _fitted(kind: str, n: int = 600, seed: int = 3):
    """A pipeline fitted on a table with missing numbers, rare and missing levels."""
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=n)
    usage[rng.random(n) < 0.2] = np.nan
    plan = rng.choice(["monthly", "annual", "biennial", "rare"], size=n, p=[0.45, 0.4, 0.14, 0.01])
    plan = np.where(rng.random(n) < 0.1, None, plan)
    frame = pd.DataFrame({"usage": usage, "seats": rng.integers(1, 50, n), "plan": plan})
    y = (rng.random(n) < 1 / (1 + np.exp(-np.nan_to_num(usage)))).astype(int)
    X, plan_ = prepare_features(frame)
    design = model_input(X, plan_)
    with single_threaded():
        pipeline = build_pipeline(kind, positional(plan_), n).fit(design, y)
    return pipeline, design


def _sklearn_decision(pipeline, X):
    with single_threaded(), sklearn.config_context(skip_parameter_validation=True):
        return pipeline.decision_function(X)


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_fast_pipeline_reproduces_the_fitted_pipeline(kind):
    pipeline, design = _fitted(kind)
    fast = FastPipeline.build(pipeline)
    assert fast is not None
    np.testing.assert_allclose(
        fast.transform(design), pipeline.named_steps["pre"].transform(design), rtol=0, atol=0
    )
    np.testing.assert_allclose(
        fast.decision_function(design), _sklearn_decision(pipeline, design), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_unknown_and_missing_levels_go_where_sklearn_puts_them(kind):
    pipeline, design = _fitted(kind)
    odd = design[:4].copy()
    odd[0, 2] = "a plan never seen"
    odd[1, 2] = np.nan
    odd[2, 2] = "rare"
    odd[3, :2] = np.nan
    fast = FastPipeline.build(pipeline)
    np.testing.assert_array_equal(fast.transform(odd), pipeline.named_steps["pre"].transform(odd))
    np.testing.assert_allclose(
        fast.decision_function(odd), _sklearn_decision(pipeline, odd), rtol=0, atol=1e-12
    )


def test_a_pipeline_of_another_shape_falls_back_to_sklearn():
    pipeline, _ = _fitted("logistic")
    pipeline.steps[0] = ("pre", sklearn.preprocessing.StandardScaler())
    assert FastPipeline.build(pipeline) is None


def test_one_account_at_a_time_matches_the_whole_book(synth_book):
    """The edit path (one row: numpy) and the full rescore (sklearn, in chunks) agree."""
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    assert model.estimator.fast_path() is not None
    frame = feature_frame(synth_book.conn, custom=model.custom_schema)
    whole = model.predict(frame)
    one_by_one = [
        model.predict(feature_frame(synth_book.conn, account_ids=[a], custom=model.custom_schema))
        for a in frame.index
    ]
    np.testing.assert_allclose(np.concatenate(one_by_one), whole, rtol=0, atol=1e-9)


def test_chunked_prediction_equals_one_sklearn_call(synth_book, monkeypatch):
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    frame = feature_frame(synth_book.conn, custom=model.custom_schema)
    X = model._typed(frame)
    expected = model.estimator.calibrator.predict(_sklearn_decision(model.estimator.pipeline, X))
    monkeypatch.setattr("csm_tui.scoring.churn.PREDICT_CHUNK", 7)
    np.testing.assert_allclose(model.predict(frame), expected, rtol=0, atol=1e-9)
    assert PREDICT_CHUNK > 1000  # the real chunk keeps whole blocks of a big book together


def test_the_compiled_path_is_not_saved_with_the_model(synth_book):
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    model.estimator.fast_path()
    restored = pickle.loads(pickle.dumps(model.estimator))
    assert "_fast" not in vars(restored)
    assert restored.fast_path() is not None


def test_custom_values_are_typed_the_same_for_one_account_and_many(synth_book):
    with synth_book.write() as conn:
        conn.execute(
            "UPDATE accounts SET custom = json_set(custom, '$.score_text', '12', '$.level', 1)"
            " WHERE rowid % 2 = 0"
        )
        conn.execute(
            "UPDATE accounts SET custom = json_set(custom, '$.score_text', 'n/a', '$.level', '1')"
            " WHERE rowid % 2 = 1"
        )
    custom = {"score_text": "numeric", "level": "categorical"}
    frame = feature_frame(synth_book.conn, custom=custom)
    numbers = frame["custom.score_text"].to_numpy()
    assert set(np.unique(numbers[~np.isnan(numbers)])) == {12.0}
    assert np.isnan(numbers).sum() > 0  # "n/a" is not a number
    assert set(frame["custom.level"]) == {"1"}  # JSON 1 and "1" are the same level
    one = feature_frame(synth_book.conn, account_ids=[frame.index[0]], custom=custom)
    assert one["custom.level"].iloc[0] == "1"


def test_whole_book_table_scans_give_the_per_point_features(synth_book, monkeypatch):
    """Scoring a whole book as of one date scans each table once; the features are the same
    as probing every account's rows (the path training and single accounts take)."""
    from csm_tui.scoring import churn_features

    with synth_book.write() as conn:  # recent history, and accounts outside the scored set
        conn.execute("UPDATE accounts SET status = 'churned' WHERE rowid % 7 = 0")
        conn.execute(
            "INSERT INTO tickets(id, account_id, opened_at, severity, status, first_response_at)"
            " SELECT 'TKR' || rowid, id, iif(rowid % 2, '2026-09-2', '2026-11-0')"
            " || (rowid % 9 + 1) || 'T09:00:00',"
            " rowid % 4 + 1, 'open', '2026-11-10T10:30:00' FROM accounts WHERE rowid % 3 = 0"
        )
        conn.execute(
            "INSERT INTO events(id, account_id, at, kind) SELECT 'EVR' || rowid, id,"
            " '2026-10-1' || (rowid % 10) || 'T12:00:00', 'call' FROM accounts WHERE rowid % 2 = 0"
        )
        conn.execute(
            "INSERT INTO contacts(id, account_id, name, role, active, left_on) SELECT 'CTR' ||"
            " rowid, id, 'Pat', 'champion', 0, '2026-10-01' FROM accounts WHERE rowid % 5 = 0"
        )
    calls = []
    real = churn_features._bulk_params

    def spy(conn, pts):
        calls.append(real(conn, pts))
        return calls[-1]

    monkeypatch.setattr(churn_features, "BULK_MIN_POINTS", 1)
    monkeypatch.setattr(churn_features, "_bulk_params", spy)
    scanned = feature_frame(synth_book.conn)
    assert calls[-1] is not None  # the table scans ran
    monkeypatch.setattr(churn_features, "_bulk_params", lambda conn, pts: None)
    probed = feature_frame(synth_book.conn)
    pd.testing.assert_frame_equal(scanned, probed, check_exact=True)
    for recent in ("tickets_30", "open_sev12", "first_response_hours_90", "touches_90"):
        assert scanned[recent].fillna(0).sum() > 0, recent
    assert scanned["departures_90"].sum() > 0 and scanned["renewals_before"].sum() > 0
