"""`csm model train | report | evaluate` through the real command line entry point."""

from __future__ import annotations

import json

import pytest

from csm_tui.cli import main
from csm_tui.paths import model_path_for
from tests.model.synthbook import make_book


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_on_telco_reaches_the_published_baseline(capsys, telco_csv):
    code, out, err = _run(
        capsys,
        "model",
        "evaluate",
        "--data",
        str(telco_csv),
        "--label",
        "Churn",
        "--id",
        "customerID",
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["roc_auc"] >= 0.84
    assert report["n"] == 7043 and report["positives"] == 1869
    assert report["positive_rate"] == pytest.approx(0.2654, abs=1e-4)
    assert "TotalCharges" in report["features"]  # text with blanks, read as a number
    assert report["lift_top_decile"] > 2
    for key in ("pr_auc", "brier", "estimator", "calibration", "negatives"):
        assert key in report


def test_evaluate_with_a_bad_label_names_the_values(capsys, telco_csv):
    code, out, err = _run(
        capsys, "model", "evaluate", "--data", str(telco_csv), "--label", "Contract"
    )
    assert code == 2 and out == ""
    assert "'Month-to-month'" in err and "Traceback" not in err


def test_evaluate_a_missing_or_empty_file(capsys, tmp_path):
    code, _, err = _run(
        capsys, "model", "evaluate", "--data", str(tmp_path / "no.csv"), "--label", "Churn"
    )
    assert code == 2 and "no such file" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _run(capsys, "model", "evaluate", "--data", str(empty), "--label", "Churn")
    assert code == 2 and "the file is empty" in err


def test_evaluate_a_small_file_says_not_enough_history(capsys, tmp_path):
    data = tmp_path / "small.csv"
    data.write_text("id,x,churned\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(30)))
    code, _, err = _run(capsys, "model", "evaluate", "--data", str(data), "--label", "churned")
    assert code == 1
    assert "not enough history to train: 30 known outcomes (15 churned, 15 renewed)" in err


def test_train_then_report(capsys, book):
    make_book(book, n=300)
    code, out, err = _run(capsys, "model", "train", "--db", str(book.path), "--json")
    assert code == 0, err
    trained = json.loads(out)
    assert trained["roc_auc"] > 0.7 and trained["n"] == 300
    assert model_path_for(book.path).exists()
    code, out, err = _run(capsys, "model", "report", "--db", str(book.path))
    assert code == 0, err
    assert "ROC-AUC" in out and "Does the health score predict churn?" in out
    assert "none has a health snapshot" in out


def test_train_with_too_little_history_says_so(capsys, book):
    make_book(book, n=20)
    code, out, err = _run(capsys, "model", "train", "--db", str(book.path))
    assert code == 1
    assert err.startswith("csm: not enough history to train: 20 known renewal outcomes")
    assert not model_path_for(book.path).exists()
