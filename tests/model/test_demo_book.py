"""On the demo book, the churn model learns the real signal the demo plants."""

from __future__ import annotations

import json

from csm_tui.cli import main
from csm_tui.service.demo_book import create_demo_book


def test_model_report_on_a_demo_book(capsys, book):
    summary = create_demo_book(book, accounts=1000)
    code = main(["model", "report", "--db", str(book.path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    model = report["model"]
    assert model["status"] == "evaluated"
    assert model["n"] >= 300
    assert model["roc_auc"] > 0.75
    assert model["lift_top_decile"] > 2
    health = report["health_score"]
    assert health["outcomes"] == model["n"]
    assert summary.rescored  # the engine backfilled health history: every renewal is replayed
    assert health["scored"] == health["outcomes"]
    assert sum(b["renewals"] for b in health["bands"]) == health["scored"]
    assert sum(b["churned"] for b in health["bands"]) == model["positives"]
    assert 0.5 < health["roc_auc"] <= 1
