"""Renewals windows, totals and call/model disagreement, computed by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from csm_tui.errors import NotFound, ValidationError
from csm_tui.service import renewals
from tests.accounts import insert_accounts

TODAY = date(2026, 11, 23)


def _seed(book) -> None:
    accounts = [
        # id, name, arr, band, score, churn_prob, risk, status
        ("G1", "Green Co", 100_000, "green", 85, 0.10, "low", "active"),
        ("Y1", "Yellow Co", 40_000, "yellow", 60, 0.30, "medium", "active"),
        ("R1", "Red Co", 20_000, "red", 35, None, "high", "active"),
        ("G2", "Green Two", 60_000, "green", 90, 0.05, "low", "active"),
        ("X1", "Gone Co", 50_000, "red", 10, 0.90, "high", "churned"),
    ]
    renewal_rows = [
        # id, account, due, arr_before, call, outcome
        ("RN1", "G1", "2026-12-01", 100_000, "at_risk", None),  # 8 d
        ("RN2", "Y1", "2026-12-20", 40_000, "commit", None),  # 27 d
        ("RN3", "R1", "2027-01-15", 20_000, "likely", None),  # 53 d
        ("RN4", "G2", "2027-04-01", 60_000, None, None),  # 129 d
        ("RN5", "X1", "2026-12-05", 50_000, None, None),  # churned account: never counted
        ("RN6", "G1", "2026-11-30", 90_000, None, "renewed"),  # closed: never counted
    ]
    with book.write() as conn:
        columns = ("id", "name", "arr", "health_band", "health_score", "churn_prob")
        insert_accounts(
            conn,
            [dict(zip((*columns, "risk_segment", "status"), a, strict=True)) for a in accounts],
        )
        conn.executemany(
            "INSERT INTO renewals (id, account_id, due_date, arr_before, csm_call, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            renewal_rows,
        )


def test_window_30_days(book):
    _seed(book)
    view = renewals.renewals_window(book, 30, today=TODAY)
    assert [i.renewal_id for i in view.items] == ["RN1", "RN2"]
    assert [i.days_left for i in view.items] == [8, 27]
    t = view.totals
    # up: 100k + 40k = 140k; at risk: only yellow Y1 = 40k
    # forecast: 100k × 0.90 + 40k × 0.70 = 90k + 28k = 118k
    assert (t.count, t.arr_up, t.arr_at_risk, t.forecast) == (2, 140_000, 40_000, 118_000)
    assert view.forecast_basis == "model"


def test_window_90_days_mixes_band_fallback(book):
    _seed(book)
    view = renewals.renewals_window(book, 90, today=TODAY)
    assert [i.renewal_id for i in view.items] == ["RN1", "RN2", "RN3"]
    red = view.items[2]
    assert (red.churn_prob, red.from_model) == (renewals.BAND_CHURN_RATE["red"], False)
    t = view.totals
    # up: 140k + 20k = 160k; at risk: 40k + 20k (red) = 60k
    # forecast: 118k + 20k × (1 − 0.50) = 128k
    assert (t.arr_up, t.arr_at_risk, t.forecast) == (160_000, 60_000, 128_000)
    assert view.forecast_basis == "mixed"


def test_window_180_days(book):
    _seed(book)
    t = renewals.renewals_window(book, 180, today=TODAY).totals
    # adds G2: up 160k + 60k = 220k; forecast 128k + 60k × 0.95 = 185k
    assert (t.count, t.arr_up, t.forecast) == (4, 220_000, 185_000)


def test_disagreements_marked(book):
    _seed(book)
    items = {i.renewal_id: i for i in renewals.renewals_window(book, 90, today=TODAY).items}
    # G1 called at risk while green with 10 % churn → gap
    assert items["RN1"].gap == "called at risk but green, 10 % churn"
    # Y1 called commit with 30 % churn, yellow → the two agree closely enough
    assert items["RN2"].gap is None
    # R1 called likely while red → gap (band fallback 50 %)
    assert items["RN3"].gap == "called likely but red, 50 % churn"
    assert renewals.renewals_window(book, 90, today=TODAY).totals.disagreements == 2


def test_call_gap_rules():
    assert renewals.call_gap("commit", "yellow", 0.55, "high") is not None
    assert renewals.call_gap("lost", "green", 0.19, "low") is not None
    assert renewals.call_gap("lost", "green", 0.25, "low") is None
    assert renewals.call_gap(None, "red", 0.9, "high") is None


def test_set_csm_call(book):
    _seed(book)
    assert renewals.set_csm_call(book, "RN4", "commit") is None
    assert book.scalar("SELECT csm_call FROM renewals WHERE id='RN4'") == "commit"
    assert renewals.set_csm_call(book, "RN4", None) == "commit"
    assert book.scalar("SELECT csm_call FROM renewals WHERE id='RN4'") is None
    with pytest.raises(ValidationError):
        renewals.set_csm_call(book, "RN4", "maybe")
    with pytest.raises(NotFound):
        renewals.set_csm_call(book, "RN6", "commit")


def test_format_money():
    assert renewals.format_money(48_200) == "$48k"
    assert renewals.format_money(1_250_000) == "$1.2M"
    assert renewals.format_money(950) == "$950"


def test_sql_totals_agree_with_the_row_rules(book):
    _seed(book)
    with book.write() as conn:  # more calls so every gap rule is exercised
        conn.execute("UPDATE renewals SET csm_call = 'lost' WHERE id = 'RN4'")
    for days in renewals.WINDOWS:
        view = renewals.renewals_window(book, days, today=TODAY)
        assert view.totals == renewals.totals(view.items)
