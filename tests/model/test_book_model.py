"""The book's churn model: training on past renewals, persistence, mismatch refusal, drivers."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from csm_tui.paths import model_path_for
from csm_tui.scoring.churn import (
    ModelMismatch,
    NotEnoughHistory,
    load_model,
    read_metadata,
    train_book_model,
)
from csm_tui.scoring.churn_features import feature_frame
from csm_tui.scoring.model_report import model_section
from tests.model.synthbook import make_book


def test_train_saves_a_private_model_that_ranks_churners(synth_book):
    report = train_book_model(synth_book)
    path = model_path_for(synth_book.path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert report.roc_auc > 0.7
    assert report.n == 400
    meta = read_metadata(path)
    assert meta["rows"] == 400
    assert meta["trained_at"] == report.trained_at
    assert set(meta["versions"]) == {"python", "sklearn", "pandas", "numpy"}
    assert meta["metrics"]["roc_auc"] == pytest.approx(report.roc_auc, abs=1e-4)
    assert "custom.region" in meta["features"]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_loaded_model_predicts_probabilities_for_active_accounts(synth_book):
    with synth_book.write() as conn:  # a custom attribute stored as text that reads as numbers
        conn.execute(
            "UPDATE accounts SET custom = json_set(custom, '$.size_band', CAST(seats / 100 AS TEXT))"
        )
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    assert model.feature_types["custom.size_band"] == "numeric"
    frame = feature_frame(synth_book.conn)
    prob = model.predict(frame)
    active = synth_book.scalar("SELECT count(*) FROM accounts WHERE status = 'active'")
    assert prob.shape == (active,)
    assert ((prob >= 0) & (prob <= 1)).all()
    # scoring one account with the model's own custom schema gives the same number
    one = feature_frame(synth_book.conn, account_ids=[frame.index[3]], custom=model.custom_schema)
    assert model.predict(one)[0] == pytest.approx(prob[3])


def test_drivers_name_what_raises_an_accounts_risk(synth_book):
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    frame = feature_frame(synth_book.conn)
    riskiest = frame.iloc[[int(np.argmax(model.predict(frame)))]]
    drivers = model.drivers(riskiest, k=3)
    assert model.drivers(riskiest.iloc[0], k=3) == drivers  # a row as a Series works too
    assert 1 <= len(drivers) <= 3
    assert all(d.points > 0 for d in drivers)
    assert drivers == sorted(drivers, key=lambda d: -d.points)
    assert "pts" in drivers[0].text() and "typical" in drivers[0].text()
    assert "_" not in drivers[0].label  # words, not column names


def test_no_model_file_means_none(book):
    assert load_model(model_path_for(book.path)) is None


def test_a_new_custom_attribute_makes_the_model_refuse(synth_book):
    train_book_model(synth_book)
    model = load_model(model_path_for(synth_book.path))
    with synth_book.write() as conn:
        conn.execute(
            "UPDATE accounts SET custom = json_set(custom, '$.csm_pod', 'blue') "
            "WHERE status = 'active'"
        )
    with pytest.raises(ModelMismatch, match=r"new: custom\.csm_pod.*csm model train"):
        model.predict(feature_frame(synth_book.conn))
    section = model_section(synth_book, model_path_for(synth_book.path))
    assert section.status == "out of date" and "csm model train" in section.message


def test_a_model_from_other_library_versions_is_refused(synth_book):
    train_book_model(synth_book)
    path = model_path_for(synth_book.path)
    with path.open("rb") as fh:
        meta, model = pickle.load(fh), pickle.load(fh)
    meta["versions"]["sklearn"] = "0.24.2"
    with path.open("wb") as fh:
        pickle.dump(meta, fh)
        pickle.dump(model, fh)
    with pytest.raises(ModelMismatch, match=r"sklearn 0\.24\.2.*csm model train"):
        load_model(path)


def test_a_damaged_model_file_is_refused_not_crashed(book):
    path = model_path_for(book.path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(ModelMismatch, match="cannot be read"):
        load_model(path)


def test_too_little_history_trains_nothing(book):
    make_book(book, n=30)
    with pytest.raises(NotEnoughHistory, match=r"^not enough history to train: 30 known renewal"):
        train_book_model(book)
    assert not model_path_for(book.path).exists()


def test_training_does_not_leave_a_half_written_file(synth_book, monkeypatch):
    path = model_path_for(synth_book.path)
    train_book_model(synth_book)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        train_book_model(synth_book)
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_model_saved_in_an_older_format_asks_to_retrain(book):
    path = model_path_for(book.path)
    with path.open("wb") as fh:
        pickle.dump({"format": 0, "rows": 10}, fh)
    with pytest.raises(ModelMismatch, match="another csm version.*csm model train"):
        load_model(path)
