"""The quick-action lists and the accounts behind each metric tile."""

from __future__ import annotations

from datetime import date

import pytest

from csm_tui.scoring.lists import open_list
from csm_tui.scoring.periods import parse_period
from tests.metrics.builder import add_account, add_contact, add_response

TODAY = date(2026, 11, 23)
Q3 = parse_period("2026-Q3")


def _usage(conn, account_id: str, used: int, total: int = 10, active: int = 50, seats: int = 100):
    conn.execute(
        "INSERT INTO usage (account_id, date, seats, active_users, features_used, "
        "features_total) VALUES (?, '2026-11-15', ?, ?, ?, ?)",
        (account_id, seats, active, used, total),
    )


@pytest.fixture
def readiness_book(book):
    """Four green SMB accounts and one yellow one, differing in one readiness criterion each."""
    with book.write() as conn:
        for aid, band, used in [("G1", "green", 9), ("G2", "green", 9), ("G3", "green", 9),
                                ("G4", "green", 2), ("Y1", "yellow", 9)]:  # fmt: skip
            add_account(conn, aid, f"Acct {aid}", segment="SMB", arr=1000, health_band=band,
                        health_score=85 if band == "green" else 60, start_date="2025-01-01")  # fmt: skip
            _usage(conn, aid, used)
            add_contact(conn, f"S-{aid}", aid, "Sam Sponsor", role="sponsor")
        # segment adoption average = (0.9 * 4 + 0.2) / 5 = 0.76: G4 (0.2) is below it.
        conn.execute("UPDATE contacts SET active = 0 WHERE id = 'S-G3'")  # G3: sponsor left
        for aid, score in [("G1", 9), ("G2", 7), ("G3", 10), ("G4", 10), ("Y1", 10)]:
            add_response(conn, aid, "2026-10-01", score)
    return book


def test_expansion_candidates_apply_all_four_criteria(readiness_book) -> None:
    # G1 meets all; G2 NPS 7 < 8; G3 no active sponsor; G4 adoption below segment average;
    # Y1 not green.
    listing = open_list(readiness_book, "expansion", today=TODAY)
    assert listing.account_ids == ["G1"]
    assert "adoption 90%" in listing.rows[0].detail and "NPS 9" in listing.rows[0].detail


def test_advocacy_candidates_are_green_promoters(readiness_book) -> None:
    listing = open_list(readiness_book, "advocacy", today=TODAY)
    assert sorted(listing.account_ids) == ["G1", "G3", "G4"]  # Y1 is yellow, G2 scored 7


def test_onboarding_pipeline_puts_stalled_accounts_first(book) -> None:
    with book.write() as conn:
        add_account(conn, "N1", "New One", start_date="2026-11-10")  # day 13
        add_account(conn, "N2", "Slow Two", start_date="2026-09-01", onboarding_pct=40)
        add_account(conn, "N3", "Done Three", start_date="2026-09-01", activated_on="2026-09-20")
    listing = open_list(book, "onboarding", today=TODAY)
    assert listing.account_ids == ["N2", "N1"]
    assert "stalled" in listing.rows[0].detail and "40% onboarded" in listing.rows[0].detail
    assert "stalled" not in listing.rows[1].detail


def test_renewals_next_90_days(book) -> None:
    with book.write() as conn:
        add_account(conn, "R1", "Soon", renewal_date="2026-12-01")
        add_account(conn, "R2", "Later", renewal_date="2027-02-20")  # 89 days
        add_account(conn, "R3", "Too late", renewal_date="2027-02-22")  # 91 days
        add_account(conn, "R4", "Gone", renewal_date="2026-12-05", status="churned")
    listing = open_list(book, "renewals90", today=TODAY)
    assert listing.account_ids == ["R1", "R2"]
    assert "in 8 days" in listing.rows[0].detail


def test_nps_by_segment_rows_drill_into_respondents(q3_book) -> None:
    listing = open_list(q3_book, "nps_segment", Q3, today=TODAY)
    by_name = {row.name: row for row in listing.rows}
    assert set(by_name) == {"Enterprise", "Mid-Market", "SMB"}
    assert by_name["SMB"].detail.startswith("NPS +33")
    respondents = open_list(q3_book, by_name["SMB"].drill, Q3, today=TODAY)
    assert sorted(respondents.account_ids) == ["A3", "A4", "A4"]  # A4: contactless and C3


def test_accounts_behind_logo_churn_match_the_database(q3_book) -> None:
    listing = open_list(q3_book, "metric:logo_churn", Q3, today=TODAY)
    churned_in_q3 = {
        r[0]
        for r in q3_book.query(
            "SELECT account_id FROM renewals WHERE outcome = 'churned' "
            "AND due_date BETWEEN '2026-07-01' AND '2026-09-30'"
        )
    }
    assert set(listing.account_ids) == churned_in_q3 == {"A3", "A7"}


def test_accounts_behind_grr_are_the_decided_renewals(q3_book) -> None:
    listing = open_list(q3_book, "metric:grr", Q3, today=TODAY)
    assert sorted(listing.account_ids) == ["A1", "A2", "A3", "A4", "A7"]
    alpha = next(r for r in listing.rows if r.account_id == "A1")
    assert alpha.detail == "2026-07-15: $100,000 → $120,000 (expanded)"


def test_accounts_behind_retention_show_the_lost_first(q3_book) -> None:
    listing = open_list(q3_book, "metric:retention", Q3, today=TODAY)
    assert len(listing.rows) == 8
    assert listing.rows[0].account_id == "A3" and listing.rows[0].detail == "lost by the end"


def test_accounts_behind_renewal_success_and_health(q3_book) -> None:
    renewals = open_list(q3_book, "metric:renewal_success", Q3, today=TODAY)
    assert sorted(renewals.account_ids) == ["A1", "A2", "A3", "A4", "A7", "A9"]
    india = next(r for r in renewals.rows if r.account_id == "A9")
    assert india.detail == "due 2026-09-28: not decided yet"
    health = open_list(q3_book, "metric:health_distribution", Q3, today=TODAY)
    assert health.rows[0].account_id == "A7"  # red first
    assert len(health.rows) == 8


def test_unknown_list_is_a_clear_error(book) -> None:
    with pytest.raises(ValueError, match="no list named 'bogus'"):
        open_list(book, "bogus", today=TODAY)


def test_accounts_behind_save_rate_show_the_plans_outcome(q3_book) -> None:
    # A3's plan was lost while A3 itself is churned; A2's plan saved while A2 is active.
    listing = open_list(q3_book, "metric:save_rate", Q3, today=TODAY)
    details = {row.account_id: row.detail for row in listing.rows}
    assert details == {"A2": "save plan saved on 2026-08-10", "A3": "save plan lost on 2026-09-02"}
