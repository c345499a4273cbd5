"""Cell parsers: money, percentages, yes/no, dates, numbers and ranges as people type them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from csm_tui.storage import parse
from csm_tui.storage.parse import ValueProblem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12,000.00", 12000.0),
        ("12.000,00 €", 12000.0),
        ("€1.234,56", 1234.56),
        ("USD 1 200", 1200.0),
        ("1\u00a0200,50", 1200.5),
        ("1'234.50", 1234.5),
        ("1,5", 1.5),
        ("1,234", 1234.0),
        ("1.234.567", 1234567.0),
        ("(1,200)", -1200.0),
        ("12.345", 12.35),  # a lone dot is a decimal point; money rounds to cents
        (4800, 4800.0),
        ("", None),
        ("   ", None),
    ],
)
def test_money(text, expected) -> None:
    assert parse.parse_money(text) == expected


@pytest.mark.parametrize("text", ["abc", "12a", "1.2.3,4,5", "$", "nan", "inf", "--5"])
def test_not_money(text) -> None:
    with pytest.raises(ValueProblem, match="not a"):
        parse.parse_money(text)


def test_percent_as_points_and_as_fraction() -> None:
    assert parse.parse_percent("85%") == 85.0
    assert parse.parse_percent("85") == 85.0
    assert parse.parse_percent("85%", fraction=True) == 0.85
    assert parse.parse_percent("0.4", fraction=True) == 0.4
    assert parse.parse_percent("40", fraction=True) == 0.4
    with pytest.raises(ValueProblem):
        parse.parse_percent("lots%")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", True),
        ("no", False),
        ("TRUE", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("y", True),
        ("N", False),
        (True, True),
        ("", None),
    ],
)
def test_bool(text, expected) -> None:
    assert parse.parse_bool(text) is expected


def test_bool_names_the_valid_spellings() -> None:
    with pytest.raises(ValueProblem, match="yes, no, true, false"):
        parse.parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31", date(2026, 3, 31)),
        ("2026/03/31", date(2026, 3, 31)),
        ("03/31/2026", date(2026, 3, 31)),
        ("31/03/2026", date(2026, 3, 31)),
        ("31.03.2026", date(2026, 3, 31)),
        ("3/4/26", date(2026, 3, 4)),
        ("Mar 31, 2026", date(2026, 3, 31)),
        ("31 March 2026", date(2026, 3, 31)),
        ("2026-03-31T10:15:00", date(2026, 3, 31)),
        ("2026-11", date(2026, 11, 1)),
        ("Nov 2026", date(2026, 11, 1)),
    ],
)
def test_dates(text, expected) -> None:
    assert parse.parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "February 2026 has 28 days"),
        ("2024-02-30", "February 2024 has 29 days"),
        ("2026-13-01", "no month 13"),
        ("13/13/2026", "no month 13"),
        ("2026-04-31T09:00", "April 2026 has 30 days"),
        ("next tuesday", "not a date"),
    ],
)
def test_impossible_dates_are_named(text, message) -> None:
    with pytest.raises(ValueProblem, match=message):
        parse.parse_date(text)


def test_date_order_is_decided_per_column() -> None:
    european = ["04/05/2026", "31/05/2026"]
    american = ["04/05/2026", "05/31/2026"]
    order_eu, order_us = parse.infer_date_order(european), parse.infer_date_order(american)
    assert parse.parse_date("04/05/2026", order_eu) == date(2026, 5, 4)
    assert parse.parse_date("04/05/2026", order_us) == date(2026, 4, 5)
    assert parse.infer_date_order(["04.05.2026"]) == parse.DAY_FIRST


def test_timestamps() -> None:
    assert parse.parse_timestamp("2026-11-18 09:14:22") == datetime(2026, 11, 18, 9, 14, 22)
    assert parse.parse_timestamp("11/20/2026 1:15 PM") == datetime(2026, 11, 20, 13, 15)
    assert parse.parse_timestamp("2026-11-18") == datetime(2026, 11, 18)
    with pytest.raises(ValueProblem, match="February"):
        parse.parse_timestamp("2026-02-29 10:00")


def test_integers_and_ranges() -> None:
    assert parse.parse_int("1,200") == 1200
    assert parse.parse_int("12.0") == 12
    with pytest.raises(ValueProblem, match="whole number"):
        parse.parse_int("12.5")
    assert parse.parse_in_range("7", 0, 10) == 7
    with pytest.raises(ValueProblem, match=r"out of range \(0–10\)"):
        parse.parse_in_range("11", 0, 10, what="NPS score")


def test_plain_numbers_are_recognised_for_csv_neutralising() -> None:
    assert parse.is_plain_number("-12.5")
    assert parse.is_plain_number("+3")
    assert not parse.is_plain_number("-1+2")
    assert not parse.is_plain_number("=1")
