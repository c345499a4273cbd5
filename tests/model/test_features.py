"""Point-in-time churn features: nothing dated on or after the as-of date may leak in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csm_tui.scoring.churn_features import (
    FEATURE_LABELS,
    custom_schema,
    describe_value,
    feature_frame,
    training_frame,
)
from tests.model.synthbook import make_book

AS_OF = "2026-06-01"


def _add_future_data(conn, account: str, day: str) -> None:
    """Signals dated on `day` (the as-of date itself) and after it."""
    conn.executemany(
        "INSERT OR REPLACE INTO usage(account_id, date, seats, active_users, dau, mau)"
        " VALUES (?, ?, 100, 99, 90, 99)",
        [(account, day), (account, "2026-06-10")],
    )
    conn.execute(
        "INSERT INTO tickets(id, account_id, opened_at, severity, status, first_response_at)"
        " VALUES ('TKF1', ?, ?, 1, 'open', ?)",
        (account, day + "T09:00:00", day + "T21:00:00"),
    )
    conn.execute(
        "INSERT INTO responses(id, account_id, date, score) VALUES ('NPSF', ?, ?, 0)",
        (account, day),
    )
    conn.execute(
        "INSERT INTO events(id, account_id, at, kind) VALUES ('EVF', ?, ?, 'call')",
        (account, day + "T10:00:00"),
    )
    conn.execute("UPDATE contacts SET left_on = ?, active = 0 WHERE account_id = ?", (day, account))
    conn.execute(
        "INSERT INTO renewals(id, account_id, due_date, outcome) VALUES "
        "('RNF', ?, ?, 'downgraded')",
        (account, day),
    )


def test_features_ignore_everything_dated_on_or_after_the_as_of_date(book):
    truth = make_book(book, n=60)
    account = truth["ids"][0]
    before = feature_frame(book.conn, {account: AS_OF})
    with book.write() as conn:
        _add_future_data(conn, account, AS_OF)
    after = feature_frame(book.conn, {account: AS_OF})
    pd.testing.assert_frame_equal(before, after)
    # the same data is seen by a later as-of date, so the test above can fail
    later = feature_frame(book.conn, {account: "2026-07-01"}).iloc[0]
    assert later["nps_latest"] == 0
    assert later["open_sev12"] == 1
    assert later["first_response_hours_90"] == 12
    assert later["touches_90"] == 1
    assert later["champion_present"] == 0
    assert later["departures_90"] == 1
    assert later["downgrades_before"] == 1
    assert later["stickiness_90"] > before["stickiness_90"].iloc[0]  # the DAU 90 / MAU 99 rows


def test_a_ticket_resolved_later_was_open_at_the_time(book):
    truth = make_book(book, n=60)
    account = truth["ids"][1]
    with book.write() as conn:
        conn.execute(
            "INSERT INTO tickets(id, account_id, opened_at, severity, status, resolved_at)"
            " VALUES ('TKO', ?, '2026-05-20', 2, 'closed', '2026-06-15')",
            (account,),
        )
    assert feature_frame(book.conn, {account: AS_OF})["open_sev12"].iloc[0] == 1
    assert feature_frame(book.conn, {account: "2026-07-01"})["open_sev12"].iloc[0] == 0


def test_usage_trend_is_the_relative_monthly_slope(book):
    with book.write() as conn:
        conn.execute(
            "INSERT INTO accounts(id, name, seats, start_date) VALUES "
            "('X1', 'X', 100, '2025-01-01')"
        )
        # MAU falls by 10 a month from 100: −10 % of the mean (85) per month ≈ −11.8 %
        conn.executemany(
            "INSERT INTO usage(account_id, date, seats, active_users, mau) VALUES ('X1',?,100,?,?)",
            [
                (d, m, m)
                for d, m in (
                    ("2026-02-15", 100),
                    ("2026-03-17", 90),
                    ("2026-04-16", 80),
                    ("2026-05-16", 70),
                )
            ],
        )
    row = feature_frame(book.conn, {"X1": AS_OF}).iloc[0]
    assert abs(row["mau_trend_180"] - (-10 / 85)) < 0.01
    assert abs(row["seat_util_90"] - 0.8) < 1e-9  # the three snapshots since 2026-03-03
    assert row["tenure_days"] == 516
    assert np.isnan(row["nps_latest"]) and row["nps_count"] == 0


def test_training_rows_are_past_renewals_as_of_a_month_before(book):
    truth = make_book(book, n=80)
    with book.write() as conn:  # decided early, but its as-of date (due − 30 d) is still ahead
        conn.execute(
            "INSERT INTO renewals(id, account_id, due_date, outcome) VALUES "
            "('EARLY', ?, '2027-01-10', 'renewed')",
            (truth["ids"][0],),
        )
    data = training_frame(book.conn)
    assert len(data.X) == 80 and "EARLY" not in data.X.index
    assert data.y.sum() == truth["churned"].sum()
    due = pd.to_datetime(data.renewals["due_date"])
    assert (pd.to_datetime(data.renewals["as_of"]) == due - pd.Timedelta(days=30)).all()
    assert list(data.X.columns[: len(FEATURE_LABELS)]) == list(FEATURE_LABELS)


def test_custom_keys_only_set_on_churned_accounts_are_left_out(book):
    make_book(book, n=60)
    with book.write() as conn:
        conn.execute(
            "UPDATE accounts SET custom = json_set(custom, '$.churn_reason', 'price') "
            "WHERE status = 'churned'"
        )
        conn.execute("UPDATE accounts SET custom = json_set(custom, '$.note', 'n' || id)")
    schema = custom_schema(book.conn)
    assert schema == {"contract_months": "numeric", "region": "categorical"}


def test_values_are_described_in_words():
    assert describe_value("log_arr", np.log1p(52000)) == "$52,000"
    assert describe_value("mau_trend_90", -0.35) == "-35 %"
    assert describe_value("seat_util_90", 0.42) == "42 %"
    assert describe_value("champion_present", 0.0) == "no"
    assert describe_value("nps_latest", float("nan")) == "no data"
