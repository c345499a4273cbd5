"""Parsing the periods users type, and moving between them."""

from __future__ import annotations

from datetime import date

import pytest

from csm_tui.errors import UsageError
from csm_tui.scoring.periods import last_months, parse_period

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q3", "2026-07-01", "2026-09-30", "2026-Q3"),
        ("2026q1", "2026-01-01", "2026-03-31", "2026-Q1"),
        ("2026-02", "2026-02-01", "2026-02-28", "Feb 2026"),
        ("2024-02", "2024-02-01", "2024-02-29", "Feb 2024"),
        ("2026", "2026-01-01", "2026-12-31", "2026"),
        ("2026-01-01..2026-06-30", "2026-01-01", "2026-06-30", "2026-01-01..2026-06-30"),
        ("last-quarter", "2026-07-01", "2026-09-30", "2026-Q3"),
        ("this-month", "2026-11-01", "2026-11-30", "Nov 2026"),
        ("last-month", "2026-10-01", "2026-10-31", "Oct 2026"),
        ("last-year", "2025-01-01", "2025-12-31", "2025"),
        ("ytd", "2026-01-01", "2026-11-23", "2026-01-01..2026-11-23"),
        (None, "2026-10-01", "2026-12-31", "2026-Q4"),
    ],
)
def test_parse_period(text, start, end, label) -> None:
    period = parse_period(text, today=TODAY)
    assert (period.start.isoformat(), period.end.isoformat(), period.label) == (start, end, label)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month 13 is not between 1 and 12"),
        ("2026-09-30..2026-01-01", "before the start date"),
        ("2026-01-01..soon", "two dates YYYY-MM-DD..YYYY-MM-DD"),
        ("next week", "not a period csm knows"),
    ],
)
def test_bad_periods_say_what_is_accepted(text, message) -> None:
    with pytest.raises(UsageError, match=message):
        parse_period(text, today=TODAY)


def test_shift_and_change_kind() -> None:
    q4 = parse_period("2026-Q4", today=TODAY)
    assert q4.shift(-1).label == "2026-Q3"
    assert q4.shift(1).label == "2027-Q1"
    assert parse_period("2026-01").shift(-1).label == "Dec 2025"
    assert q4.as_kind("month").label == "Nov 2026"  # capped at today
    assert parse_period("2026-03").as_kind("quarter").label == "2026-Q1"
    ranged = parse_period("2026-01-01..2026-01-10").shift(1)
    assert (ranged.start, ranged.end) == (date(2026, 1, 11), date(2026, 1, 20))


def test_last_months_ends_with_the_current_month() -> None:
    months = last_months(12, TODAY)
    assert [m.label for m in (months[0], months[-1])] == ["Dec 2025", "Nov 2026"]
    assert len(months) == 12
