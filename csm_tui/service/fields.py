"""The account fields and signals a user may edit, with their labels, parsers and help.

Shared by `csm set ACCOUNT FIELD=VALUE` and the TUI edit form, so both accept exactly the same
input and refuse it with the same words. `validate(field, text)` turns what the user typed into
the value stored in the book, or raises `ValidationError(field, problem)` saying what would be
valid. Writing the values is `csm_tui.service.edits`' job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from csm_tui.clock import now_iso, today
from csm_tui.errors import ValidationError
from csm_tui.storage import parse as imported
from csm_tui.storage.parse import ValueProblem

#: The longest text a single field accepts (a name, an owner, a custom value).
MAX_TEXT = 500
CUSTOM_PREFIX = "custom."
_CUSTOM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_\- ]{0,63}$")

STAGES = ("onboarding", "adoption", "growth", "renewal", "churned")
STATUSES = ("active", "churned")


class Problem(ValueProblem):
    """Raised by every parser here: the message says what is wrong and what would be valid."""


@dataclass(frozen=True)
class Field:
    """One editable field: where it goes and how its text is read.

    `kind` is "column" (an `accounts` column of the same name), "signal" (a change to the
    account's contacts, e.g. champion_left) or "custom" (a key of the custom attributes).
    """

    key: str
    label: str
    kind: str
    help: str
    parse: Callable[[str], Any]
    choices: tuple[str, ...] = field(default=())
    example: str = ""


# -- parsers ------------------------------------------------------------------------------------
def parse_required_text(text: str) -> str:
    """Non-empty text (surrounding spaces dropped)."""
    value = parse_optional_text(text)
    if value is None:
        raise Problem("must not be empty")
    return value


def parse_optional_text(text: str) -> str | None:
    """Text, or None (cleared) when empty."""
    value = text.strip()
    if "\x00" in value:
        raise Problem("contains a NUL byte; use plain text")
    if len(value) > MAX_TEXT:
        raise Problem(f"is {len(value):,} characters long; at most {MAX_TEXT} are allowed")
    return value or None


def _quoted(raw: str) -> str:
    return repr(raw) if raw else "an empty value"


def parse_money(text: str) -> float:
    """Dollars ≥ 0 as an import reads them (`48000`, `$48,000.50`) or `48k` / `1.2m`."""
    raw = text.strip()
    scale = {"k": 1_000.0, "m": 1_000_000.0}.get(raw[-1:].lower(), 1.0)
    try:
        value = imported.parse_money(raw[:-1] if scale != 1.0 else raw)
    except ValueProblem:
        value = None
    if value is None:
        raise Problem(f"{_quoted(raw)} is not an amount; use dollars like 48000 or 48k")
    if value < 0:
        raise Problem(f"{raw} is negative; an amount must be 0 or more")
    return round(value * scale, 2)


def parse_count(text: str) -> int:
    """A whole number ≥ 0."""
    raw = text.strip()
    try:
        value = imported.parse_int(raw)
    except ValueProblem:
        value = None
    if value is None:
        raise Problem(f"{_quoted(raw)} is not a whole number; use 0, 1, 2…")
    if value < 0:
        raise Problem(f"{raw} is negative; use a whole number, 0 or more")
    return value


def parse_percent(text: str) -> float:
    """A percentage from 0 to 100 (`45` or `45%`)."""
    raw = text.strip()
    try:
        value = imported.parse_percent(raw)
    except ValueProblem:
        value = None
    if value is None:
        raise Problem(f"{_quoted(raw)} is not a percentage; use 0 to 100")
    if not 0 <= value <= 100:
        raise Problem(f"{raw} is out of range; use a number from 0 to 100")
    return round(value, 2)


def parse_date(text: str) -> str | None:
    """A date as an import reads it (`2027-03-31`, `03/31/2027`, `Mar 31, 2027`) or `today`;
    empty clears it."""
    raw = text.strip()
    if raw.lower() == "today":
        return today().isoformat()
    try:
        day = imported.parse_date(raw)
    except ValueProblem as exc:  # it names the impossible date; callers catch Problem
        raise Problem(str(exc)) from None
    return day.isoformat() if day else None


def parse_datetime(text: str) -> str:
    """A moment (`2026-11-20 14:05`, `2026-11-20`, `now`, `today`) as `YYYY-MM-DDTHH:MM:SS`."""
    raw = text.strip()
    if raw.lower() in ("", "now"):
        return now_iso()
    if raw.lower() == "today":
        return today().isoformat() + "T00:00:00"
    try:
        stamp = imported.parse_timestamp(raw)
    except ValueProblem as exc:
        raise Problem(str(exc)) from None
    return stamp.isoformat(timespec="seconds")


def parse_yes_no(text: str) -> int | None:
    """yes / no (stored 1 / 0), or empty / unknown (None)."""
    raw = text.strip()
    if raw.lower() in ("unknown", "?"):
        return None
    try:
        value = imported.parse_bool(raw)
    except ValueProblem:
        raise Problem(f"{raw!r} is not yes or no; use yes, no or unknown") from None
    return None if value is None else int(value)


def parse_departure(text: str) -> bool:
    """`yes` records the departure; `no` changes nothing."""
    try:
        value = imported.parse_bool(text)
    except ValueProblem:
        value = None
    if value is None:
        raise Problem(f"{text.strip()!r} is not yes or no; use yes to record that they left")
    return value


def _choice_parser(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        raw = text.strip().lower()
        if raw not in choices:
            raise Problem(f"{_quoted(text.strip())} is not one of {', '.join(choices)}")
        return raw

    return parse


def parse_custom_value(text: str) -> str | int | float | None:
    """Any text; a plain number is kept as a number; empty removes the attribute."""
    value = parse_optional_text(text)
    if value is None:
        return None
    if re.fullmatch(r"-?(0|[1-9]\d{0,15})", value):
        return int(value)
    if re.fullmatch(r"-?(0|[1-9]\d{0,15})\.\d{1,6}", value):
        return float(value)
    return value


# -- the fields ---------------------------------------------------------------------------------
def _column(key, label, help, parse, example="", choices=()) -> Field:
    return Field(key, label, "column", help, parse, tuple(choices), example)


def _signal(key, label, help, parse, example="") -> Field:
    return Field(key, label, "signal", help, parse, (), example)


FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        _column("name", "Name", "The account's name.", parse_required_text, "Acme Corp"),
        _column("owner", "Owner", "The CSM who owns the account.", parse_optional_text, "Dana"),
        _column("segment", "Segment", "SMB, Mid-Market or Enterprise.", parse_optional_text),
        _column("tier", "Tier", "Coverage tier: Strategic, Core or Scale.", parse_optional_text),
        _column("industry", "Industry", "The customer's industry.", parse_optional_text),
        _column("plan", "Plan", "The product plan they are on.", parse_optional_text),
        _column("stage", "Stage", "Lifecycle stage.", _choice_parser(STAGES), "adoption", STAGES),
        _column(
            "status", "Status", "active or churned.", _choice_parser(STATUSES), "active", STATUSES
        ),
        _column(
            "arr", "ARR", "Annual recurring revenue in dollars, 0 or more.", parse_money, "48000"
        ),
        _column("seats", "Seats", "Licensed seats, a whole number.", parse_count, "120"),
        _column(
            "renewal_date", "Renewal date", "Next renewal, YYYY-MM-DD.", parse_date, "2027-03-31"
        ),
        _column(
            "start_date", "Start date", "Contract start, YYYY-MM-DD.", parse_date, "2025-04-01"
        ),
        _column(
            "activated_on",
            "Activated on",
            "Day they first reached value, YYYY-MM-DD.",
            parse_date,
            "2025-05-10",
        ),
        _column(
            "onboarding_pct",
            "Onboarding %",
            "Onboarding/training completion, 0–100.",
            parse_percent,
            "80",
        ),
        _column(
            "sponsor_engaged",
            "Sponsor engaged",
            "Is the executive sponsor engaged? yes/no.",
            parse_yes_no,
            "yes",
        ),
        _column(
            "open_escalations",
            "Open escalations",
            "Escalations open now, 0 or more.",
            parse_count,
            "0",
        ),
        _signal(
            "champion_left",
            "Champion left",
            "yes marks every active champion as gone (left today).",
            parse_departure,
            "yes",
        ),
        _signal(
            "sponsor_left",
            "Sponsor left",
            "yes marks every active executive sponsor as gone (left today).",
            parse_departure,
            "yes",
        ),
        _signal(
            "champion",
            "New champion",
            "Adds an active champion by name.",
            parse_required_text,
            "Jo Park",
        ),
        _signal(
            "sponsor",
            "New sponsor",
            "Adds an active executive sponsor by name.",
            parse_required_text,
            "Sam Lee",
        ),
    )
}

CUSTOM_FIELD_HELP = "custom.KEY=VALUE sets a custom attribute (an empty value removes it)."


def field_names() -> list[str]:
    """Every field name `csm set` accepts, in form order, plus the custom.KEY pattern."""
    return [*FIELDS, "custom.KEY"]


def get_field(name: str) -> Field:
    """The field called `name` (case-insensitive; `custom.KEY` for custom attributes)."""
    key = name.strip()
    if key.lower().startswith(CUSTOM_PREFIX):
        attr = key[len(CUSTOM_PREFIX) :].strip()
        if not _CUSTOM_KEY.match(attr):
            raise ValidationError(
                key or "field",
                "a custom attribute name starts with a letter and has at most 64 letters, "
                "digits, spaces, '-' or '_' (e.g. custom.region=EMEA)",
            )
        return Field(CUSTOM_PREFIX + attr, attr, "custom", CUSTOM_FIELD_HELP, parse_custom_value)
    found = FIELDS.get(key.lower().replace("-", "_"))
    if found is None:
        raise ValidationError(
            key or "field", f"unknown field; valid fields are {', '.join(field_names())}"
        )
    return found


def validate(name: str, text: str) -> Any:
    """Parse what the user typed for field `name`; raise ValidationError saying what is valid."""
    spec = get_field(name)
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    try:
        return spec.parse(text)
    except ValueProblem as exc:
        raise ValidationError(spec.key, str(exc)) from None


def validate_all(changes: dict[str, str]) -> dict[str, Any]:
    """Validate every change (field → text) before anything is written; keys normalised."""
    if not changes:
        raise ValidationError("changes", "nothing to change; give FIELD=VALUE")
    return {get_field(name).key: validate(name, text) for name, text in changes.items()}


def format_value(name: str, value: Any) -> str:
    """A stored value as the text a user would type for it (pre-fills the edit form)."""
    if value is None:
        return ""
    spec = get_field(name)
    if spec.parse in (parse_yes_no, parse_departure):
        return "yes" if value else "no"
    if spec.parse is parse_money or spec.parse is parse_percent:
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    return str(value)
