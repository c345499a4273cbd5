"""Portfolio metrics on a hand-made book (tests/metrics/conftest.py), worked out by hand.

2026-Q3 = 2026-07-01..2026-09-30; today is 2026-11-23.

Renewals due in Q3 with an outcome (ARR up for renewal):
    A1 100,000 → 120,000 expanded   (+20,000 expansion)
    A2  50,000 →  40,000 downgraded (10,000 contraction)
    A3  30,000 churned              (30,000 churned)
    A4  20,000 →  20,000 renewed
    A7  25,000 churned              (25,000 churned)
    start ARR 225,000; churned 55,000; contraction 10,000; expansion 20,000
    GRR = (225,000 − 55,000 − 10,000) / 225,000 = 160,000 / 225,000 = 71.11 %
    NRR = (160,000 + 20,000) / 225,000 = 180,000 / 225,000 = 80.00 %

Active on 2026-06-30 (the cohort): A1 A2 A3 A4 A6 (came back in 2025) A7 (its first renewal
was due 2025-07-20, so it was a customer although its start date was reset) A9 A10 = 8.
Not: A5 (starts 08-01), A8 (churned 2026-01-15).
    logo churn = churned in Q3 {A3, A7} / 8 = 25.00 %
    active on 09-30: A7 came back (start 09-01 after its 07-20 churn); only A3 lost
    retention = 7 / 8 = 87.50 %; expansion rate = {A1} / 8 = 12.50 %

Renewal success: due in Q3, decided or past due = A1 A2 A3 A4 A7 A9 = 6;
    on time = A1 (closed 07-10 ≤ 07-15), A4 (09-20 ≤ 09-20) = 2 → 33.33 %

NPS, latest per contact (contactless: per account) in Q3:
    C1 10 (its 6 is older) promoter · C2 7 passive (its 0 is in Q4) · A3 3 detractor
    (its 9 is older) · A4 9 promoter · C3 10 promoter → (3 − 1) / 5 = +40
CSAT: 5, 3, 4 → mean 4.00; satisfied (4–5) 2 / 3 = 66.67 %
Save plans closed in Q3: A2 saved, A3 lost → 1 / 2 = 50.00 %
Time to value (activated in Q3): A5 20 days, A7 14 days → 17.0 days
Health at renewal (latest snapshot on/before each due date, renewals due as above):
    A1 80 (07-01; the 07-20 one is after) · A2 55 · A3 40 · A4 none · A7 30 (same day) ·
    A9 60 → (80 + 55 + 40 + 30 + 60) / 5 = 53.0
"""

from __future__ import annotations

from datetime import date

import pytest

from csm_tui.scoring.metrics import compute_metrics, load_metric_data, monthly_trends, nps_by
from csm_tui.scoring.periods import parse_period
from tests.metrics.builder import add_account, add_renewal

Q3 = parse_period("2026-Q3")


@pytest.fixture
def q3(q3_book):
    return compute_metrics(q3_book, Q3)


def test_grr_and_nrr_to_the_cent(q3) -> None:
    assert q3["grr"].numerator == 160000
    assert q3["grr"].denominator == 225000
    assert q3["grr"].value == pytest.approx(71.11, abs=0.005)
    assert q3["nrr"].numerator == 180000
    assert q3["nrr"].value == pytest.approx(80.00, abs=0.005)
    assert q3["grr"].detail == {
        "start_arr": 225000, "churned_arr": 55000, "contraction": 10000,
        "expansion": 20000, "renewals": 5,
    }  # fmt: skip
    assert q3["grr"].status == "missed" and q3["nrr"].status == "missed"


def test_logo_churn_retention_and_expansion_rate(q3) -> None:
    assert (q3["logo_churn"].numerator, q3["logo_churn"].denominator) == (2, 8)
    assert q3["logo_churn"].value == 25.0
    assert (q3["retention"].numerator, q3["retention"].denominator) == (7, 8)
    assert q3["retention"].value == 87.5
    assert q3["retention"].status == "near"  # within 5 points of ≥ 90
    assert (q3["expansion_rate"].numerator, q3["expansion_rate"].value) == (1, 12.5)


def test_renewal_success_counts_only_on_time_renewals(q3) -> None:
    metric = q3["renewal_success"]
    assert (metric.numerator, metric.denominator) == (2, 6)
    assert metric.value == pytest.approx(33.33, abs=0.005)


def test_nps_uses_latest_response_per_contact(q3) -> None:
    metric = q3["nps"]
    assert (metric.numerator, metric.denominator, metric.value) == (2, 5, 40.0)
    assert metric.detail == {"promoters": 3, "passives": 1, "detractors": 1, "responses": 5}
    assert metric.status == "near"  # target ≥ 50, within 10


def test_csat_save_rate_time_to_value_and_health_at_renewal(q3) -> None:
    assert (q3["csat"].value, q3["csat"].numerator, q3["csat"].denominator) == (4.0, 12, 3)
    assert q3["csat_satisfied"].value == pytest.approx(66.67, abs=0.005)
    assert (q3["save_rate"].numerator, q3["save_rate"].denominator) == (1, 2)
    assert q3["time_to_value"].value == 17.0 and q3["time_to_value"].status == "met"
    assert (q3["activated_30"].numerator, q3["activated_30"].denominator) == (2, 2)
    assert q3["health_at_renewal"].value == 53.0
    assert q3["health_at_renewal"].denominator == 5


def test_health_distribution_at_period_end(q3) -> None:
    # active on 09-30: A1 A2 A4 A5 A6 A7 A9 A10; latest snapshots: A1 green, A2 yellow,
    # A7 red, A9 yellow; the rest have none → insufficient.
    detail = q3["health_distribution"].detail
    assert (detail["green"], detail["yellow"], detail["red"], detail["insufficient"]) == (
        1, 2, 1, 4,
    )  # fmt: skip
    assert detail["yellow_arr"] == 80000  # A2 40,000 + A9 40,000
    assert q3["health_distribution"].value == 12.5


def test_nps_by_segment(q3_book) -> None:
    data = load_metric_data(q3_book, Q3.start, Q3.end)
    groups = {g.group: g for g in nps_by(data, Q3, "segment")}
    assert groups["Enterprise"].nps == 100.0  # C1 promoter
    assert groups["Mid-Market"].nps == 0.0  # C2 passive
    assert groups["SMB"].nps == pytest.approx(33.3, abs=0.05)  # A3 D, A4 P, C3 P
    assert groups["SMB"].responses == 3


def test_empty_period_is_no_data_not_an_error(q3_book) -> None:
    result = compute_metrics(q3_book, parse_period("2019-Q1"))
    for key in ("grr", "nrr", "logo_churn", "retention", "nps", "renewal_success", "save_rate"):
        assert result[key].value is None, key
        assert result[key].status == "no data"
        assert result[key].display == "no data"


def test_period_without_responses_has_no_nps_but_other_figures(q3_book) -> None:
    # January 2026: A8's renewal churned (12,000 up for renewal, all churned); no responses.
    result = compute_metrics(q3_book, parse_period("2026-01"))
    assert result["nps"].value is None and result["nps"].denominator == 0
    assert result["grr"].value == 0.0 and result["grr"].denominator == 12000


def test_expansion_and_contraction_of_one_account_in_one_period(book) -> None:
    # One account, two renewals in October: 10,000 → 14,000 (+4,000) then 14,000 → 11,000
    # (−3,000). GRR = (24,000 − 3,000) / 24,000 = 87.5 %; NRR = 25,000 / 24,000 = 104.17 %.
    with book.write() as conn:
        add_account(conn, "X", "Xray", arr=11000, start_date="2024-01-01")
        add_renewal(conn, "X", "2026-10-01", 10000, 14000, "expanded", "2026-09-30")
        add_renewal(conn, "X", "2026-10-20", 14000, 11000, "downgraded", "2026-10-20")
    result = compute_metrics(book, parse_period("2026-10"))
    assert result["grr"].numerator == 21000 and result["grr"].denominator == 24000
    assert result["grr"].value == 87.5
    assert result["nrr"].value == pytest.approx(104.17, abs=0.005)
    assert result["renewal_success"].value == 100.0


def test_metric_json_shape(q3) -> None:
    data = q3["grr"].to_dict()
    assert {"value", "numerator", "denominator", "unit", "target", "status"} <= set(data)
    assert data["target"] == "≥ 90"


def test_today_caps_renewals_not_yet_due(book) -> None:
    # A renewal due after today without an outcome is not yet a failure.
    with book.write() as conn:
        add_account(conn, "F", "Future", arr=5000, start_date="2024-01-01")
        add_renewal(conn, "F", "2026-12-15", 5000)
    result = compute_metrics(book, parse_period("2026-Q4"), today=date(2026, 11, 23))
    assert result["renewal_success"].denominator == 0


def test_monthly_trends_agree_with_each_months_own_metrics(q3_book) -> None:
    trends = monthly_trends(q3_book, 12, today=date(2026, 11, 23))
    assert trends.labels[0] == "Dec" and trends.labels[-1] == "Nov"
    for month in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-01"):
        position = trends.labels.index(date.fromisoformat(month + "-01").strftime("%b"))
        own = compute_metrics(q3_book, parse_period(month))
        assert trends.grr[position] == own["grr"].value, month
        assert trends.nrr[position] == own["nrr"].value, month
        assert trends.nps[position] == own["nps"].value, month
    # July: A1 100,000 → 120,000 and A7 25,000 churned → GRR 100,000 / 125,000 = 80 %
    assert trends.grr[trends.labels.index("Jul")] == 80.0
    # July health snapshots: A1 green ×2, A2 yellow, A7 red → green 50 %
    assert trends.health_share["green"][trends.labels.index("Jul")] == 50.0


def test_an_account_marked_churned_without_a_renewal_row(book) -> None:
    # Marked churned on 2026-08-12 (its renewal date 2027-03-01 lies ahead): it is lost in Q3.
    with book.write() as conn:
        add_account(conn, "M", "Marked", arr=1000, start_date="2024-01-01", status="churned",
                    renewal_date="2027-03-01", updated_at="2026-08-12T10:00:00")  # fmt: skip
        add_account(conn, "K", "Kept", arr=1000, start_date="2024-01-01")
    result = compute_metrics(book, Q3)
    assert (result["logo_churn"].numerator, result["logo_churn"].denominator) == (1, 2)
    assert result["retention"].value == 50.0
