"""On the demo book, the churn model learns the real signal the demo plants."""

from __future__ import annotations

import json

from csm_tui.cli import main
from csm_tui.storage.demo import generate_demo


def test_model_report_on_a_demo_book_ranks_churners_well(capsys, book):
    generate_demo(book, accounts=1000, rescore=False)
    code = main(["model", "report", "--db", str(book.path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    model = json.loads(out)["model"]
    assert model["status"] == "evaluated"
    assert model["n"] >= 300
    assert model["roc_auc"] > 0.75
    assert model["lift_top_decile"] > 2
