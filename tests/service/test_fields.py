"""The editable fields: what each accepts, what it refuses, and the words it refuses with."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_tui.errors import ValidationError
from csm_tui.service import fields
from csm_tui.service.fields import format_value, get_field, validate, validate_all


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("arr", "48000", 48000.0),
        ("arr", "$48,000.505", 48000.5),
        ("arr", "48k", 48000.0),
        ("arr", "1.2M", 1_200_000.0),
        ("arr", "0", 0.0),
        ("seats", "1,200", 1200),
        ("open_escalations", "0", 0),
        ("onboarding_pct", "45%", 45.0),
        ("onboarding_pct", "100", 100.0),
        ("renewal_date", "2027-03-31", "2027-03-31"),
        ("renewal_date", "2027/3/1", "2027-03-01"),
        ("renewal_date", "31/03/2027", "2027-03-31"),
        ("renewal_date", "Mar 31, 2027", "2027-03-31"),
        ("renewal_date", "today", "2026-11-23"),
        ("start_date", "", None),
        ("stage", "Renewal", "renewal"),
        ("status", "churned", "churned"),
        ("sponsor_engaged", "Yes", 1),
        ("sponsor_engaged", "no", 0),
        ("sponsor_engaged", "unknown", None),
        ("champion_left", "yes", True),
        ("champion_left", "no", False),
        ("champion", "  Jo Park ", "Jo Park"),
        ("owner", "", None),
        ("name", '=HYPERLINK("x")', '=HYPERLINK("x")'),
        ("custom.region", "EMEA", "EMEA"),
        ("custom.employees", "250", 250),
        ("custom.ratio", "0.75", 0.75),
        ("custom.zip", "02139", "02139"),
        ("custom.gone", "", None),
    ],
)
def test_valid_input_becomes_the_stored_value(field, text, expected):
    assert validate(field, text) == expected


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("arr", "-5", "negative"),
        ("arr", "lots", "not an amount"),
        ("arr", "nan", "not an amount"),
        ("seats", "1.5", "whole number"),
        ("seats", "-3", "negative"),
        ("onboarding_pct", "101", "0 to 100"),
        ("renewal_date", "2026-02-30", "not a real date"),
        ("renewal_date", "2027-31-03", "there is no month 31"),
        ("renewal_date", "next spring", "YYYY-MM-DD"),
        ("stage", "trial", "onboarding, adoption, growth, renewal, churned"),
        ("status", "", "active, churned"),
        ("sponsor_engaged", "maybe", "yes, no or unknown"),
        ("champion_left", "perhaps", "yes"),
        ("name", "   ", "must not be empty"),
        ("champion", "", "must not be empty"),
        ("owner", "x" * 501, "at most 500"),
        ("industry", "a\x00b", "NUL"),
    ],
)
def test_invalid_input_is_refused_naming_field_and_what_is_valid(field, text, words):
    with pytest.raises(ValidationError) as caught:
        validate(field, text)
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.message.startswith(f"{field}: ")


def test_unknown_field_lists_every_valid_field():
    with pytest.raises(ValidationError) as caught:
        validate("health", "90")
    message = caught.value.message
    assert message.startswith("health: unknown field")
    for name in ("arr", "renewal_date", "champion_left", "sponsor", "custom.KEY"):
        assert name in message


def test_field_names_are_case_and_dash_insensitive():
    assert get_field("Renewal-Date").key == "renewal_date"
    assert get_field("ARR").key == "arr"


@pytest.mark.parametrize("name", ["custom.", "custom.1abc", "custom.a/b", "custom." + "k" * 65])
def test_bad_custom_attribute_names_are_refused(name):
    with pytest.raises(ValidationError, match="custom attribute name"):
        get_field(name)


def test_validate_all_normalises_keys_and_stops_at_the_first_bad_value():
    assert validate_all({"ARR": "10k", "custom.Region": "EU"}) == {
        "arr": 10000.0,
        "custom.Region": "EU",
    }
    with pytest.raises(ValidationError, match="seats"):
        validate_all({"arr": "10k", "seats": "many"})
    with pytest.raises(ValidationError, match="nothing to change"):
        validate_all({})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", "2026-11-20T00:00:00"),
        ("2026-11-20 9:05", "2026-11-20T09:05:00"),
        ("2026-11-20T17:30:15", "2026-11-20T17:30:15"),
        ("today", "2026-11-23T00:00:00"),
    ],
)
def test_parse_datetime_accepts_dates_and_times(text, expected):
    assert fields.parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-11-20T25:00", "2026-13-01", "yesterday-ish", "2026-02-29"])
def test_parse_datetime_refuses_impossible_moments(text):
    with pytest.raises(fields.Problem):
        fields.parse_datetime(text)


def test_now_is_anchored_to_the_fixed_test_day():
    assert fields.parse_datetime("").startswith("2026-11-23T")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_through_the_form_text(amount):
    value = validate("arr", str(amount))
    assert validate("arr", format_value("arr", value)) == value


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_dates_round_trip_through_the_form_text(day):
    assert validate("renewal_date", format_value("renewal_date", day.isoformat())) == (
        day.isoformat()
    )


def test_format_value_gives_what_a_user_would_type():
    assert format_value("sponsor_engaged", 1) == "yes"
    assert format_value("sponsor_engaged", None) == ""
    assert format_value("arr", 48000.0) == "48000"
    assert format_value("arr", 1234567.89) == "1234567.89"


def test_every_field_has_a_label_help_and_a_parsable_example():
    for spec in fields.FIELDS.values():
        assert spec.label and spec.help
        if spec.example:
            validate(spec.key, spec.example)
        for choice in spec.choices:
            assert validate(spec.key, choice) == choice


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (fields.parse_money, "-1"),
        (fields.parse_count, "x"),
        (fields.parse_percent, "140"),
        (fields.parse_date, "2026-02-30"),
        (fields.parse_datetime, "2026-11-20T25:00"),
        (fields.parse_yes_no, "perhaps"),
        (fields.parse_departure, "perhaps"),
        (fields.parse_required_text, ""),
    ],
)
def test_every_parser_refuses_with_problem_which_the_tui_form_catches(parser, text):
    with pytest.raises(fields.Problem):
        parser(text)
