"""Parsing the values people put in spreadsheets: money, percentages, yes/no, dates, numbers.

Every parser takes the cell's text (or a JSON scalar) and returns a clean Python value, `None`
for an empty cell, or raises `ValueProblem` whose message says what is wrong and what would be
valid — the importer turns it into a `FILE:ROW: field: problem` line.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, datetime

#: Date orders for slash/dot dates such as 04/05/2026 (decided per column, see `infer_date_order`).
MONTH_FIRST = "mdy"
DAY_FIRST = "dmy"

_CODES = r"(?:[$€£¥]|US\$|USD|EUR|GBP|CAD|AUD|CHF)"
_CURRENCY = re.compile(rf"^{_CODES}\s*|\s*{_CODES}$", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_SHORT_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")  # a usage export's "2026-11" month
_TEXT_DATE_FORMATS = (
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %Y",  # monthly periods ("Nov 2026") stand for their first day
    "%B %Y",
)
_TRUE = {"yes", "y", "true", "t", "1", "on", "x", "✓"}
_FALSE = {"no", "n", "false", "f", "0", "off", "-", "✗"}


class ValueProblem(ValueError):
    """A cell's value cannot be used; the message is shown to the user after the field name."""


def blank(value: object) -> bool:
    """True for an empty cell: None, "" or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    if isinstance(value, (dict, list)):
        raise ValueProblem(f"expected a single value, got a nested {type(value).__name__}")
    return str(value).strip()


def parse_text(value: object) -> str | None:
    """Plain text, stripped; None when empty."""
    if isinstance(value, str):  # the common case, kept fast for large files
        return value.strip() or None
    return None if value is None else _text(value)


def parse_number(value: object) -> float | None:
    """A number in any common notation: 1,234.5 · 1.234,5 · 1 234,5 · (12) for negatives."""
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        if raw[0].isdigit() and "_" not in raw:  # fast path: "1200", "12.5", "3e4"
            try:
                return _finite(float(raw), raw)
            except ValueError:
                pass
        return _parse_number_text(raw)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return _finite(float(value), str(value))
    return _parse_number_text(_text(value))


def _parse_number_text(raw: str) -> float:
    """The slow path: currency signs, thousands separators, decimal commas, (negatives)."""
    sign, text = ("-", raw[1:].lstrip()) if raw[:1] in "-−" else ("", raw)  # "-$5,000"
    text = _CURRENCY.sub("", text)
    negative = text.startswith("(") and text.endswith(")")
    text = sign + _SPACES.sub("", text.strip("()"))
    text = _normalise_separators(text)
    if not _PLAIN_NUMBER.match(text):
        raise ValueProblem(f"{raw!r} is not a number")
    number = float(text)
    return _finite(-number if negative else number, raw)


def _finite(number: float, raw: str) -> float:
    if math.isnan(number) or math.isinf(number):
        raise ValueProblem(f"{raw!r} is not a finite number")
    return number


def _normalise_separators(text: str) -> str:
    """Turn 1.234,56 / 1,234.56 / 1,5 into Python's 1234.56 / 1.5 notation."""
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:  # the last separator is the decimal one
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
        return text.replace(",", ".")
    if has_comma:
        groups = text.split(",")
        # 1,234 and 1,234,567 are thousands; 1,5 and 12,00 are decimal commas
        if len(groups) > 2 or len(groups[-1]) == 3:
            return text.replace(",", "")
        return text.replace(",", ".")
    if text.count(".") > 1:  # 1.234.567
        return text.replace(".", "")
    return text


def parse_money(value: object) -> float | None:
    """Dollars rounded to cents: "$12,000.00", "12.000,00 €", "USD 1,200", 1200."""
    number = parse_number(value)
    return None if number is None else round(number, 2)


def parse_int(value: object) -> int | None:
    """A whole number ("1,200" → 1200; "12.0" → 12; "12.5" is refused)."""
    number = parse_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueProblem(f"{_text(value)!r} is not a whole number")
    return int(number)


def parse_percent(value: object, *, fraction: bool = False) -> float | None:
    """A percentage: "85%", "85" → 85.0; with `fraction=True` "85%" → 0.85 and 0.85 stays."""
    if blank(value):
        return None
    text = _text(value)
    has_sign = text.endswith("%")
    number = parse_number(text.rstrip("%").strip() if has_sign else value)
    if number is None:
        raise ValueProblem(f"{text!r} is not a percentage")
    if fraction and (has_sign or number > 1):
        return number / 100
    return number


def parse_bool(value: object) -> bool | None:
    """Yes/No, True/False, Y/N, 1/0 (any case) → True/False."""
    if blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"{_text(value)!r} is not yes/no (use yes, no, true, false, 1 or 0)")


def parse_in_range(value: object, low: float, high: float, *, what: str = "value") -> float | None:
    """A number that must lie in [low, high] (health 0–100, NPS 0–10…)."""
    number = parse_number(value)
    if number is not None and not low <= number <= high:
        raise ValueProblem(f"{what} {_fmt(number)} is out of range ({_fmt(low)}–{_fmt(high)})")
    return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def infer_date_order(values: list[object]) -> str:
    """Decide whether a column's a/b/yyyy dates are month-first (US) or day-first (Europe).

    A first part above 12 means day-first, a second part above 12 means month-first; with no
    evidence, slashes read as US dates and dots or dashes as European ones.
    """
    day_first = month_first = dotted = 0
    for value in values:
        match = _SHORT_DATE.match(str(value).strip()[:10]) if isinstance(value, str) else None
        if not match:
            continue
        first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
        day_first += first > 12
        month_first += second > 12
        dotted += sep != "/"
    if day_first > month_first:
        return DAY_FIRST
    if month_first > day_first:
        return MONTH_FIRST
    return DAY_FIRST if dotted else MONTH_FIRST


def parse_date(value: object, order: str | None = None) -> date | None:
    """A calendar date: 2026-03-31, 03/31/2026 or 31/03/2026 (per `order`), 31.03.2026,
    Mar 31, 2026, or a timestamp (its date part). Impossible dates are refused by name."""
    if blank(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.date() if isinstance(value, datetime) else value
    text = _text(value)
    if len(text) == 10 and text[4] == "-":  # fast path for ISO dates; slow path explains errors
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    month = _YEAR_MONTH.match(text)
    if month:  # a monthly period stands for its first day
        return _real_date(text, int(month.group(1)), int(month.group(2)), 1)
    iso = _ISO_DATE.match(text)
    if iso:
        return _real_date(text, int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    short = _SHORT_DATE.match(text)
    if short:
        first, second, year = int(short.group(1)), int(short.group(3)), int(short.group(4))
        year = year if len(short.group(4)) == 4 else 2000 + year if year < 70 else 1900 + year
        if order is None:  # a lone value: the evidence in it, else its separator's custom
            order = infer_date_order([text])
        month, day = (first, second) if order == MONTH_FIRST else (second, first)
        return _real_date(text, year, month, day)
    for fmt in _TEXT_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    head = re.split(r"[T ]", text, maxsplit=1)[0]
    if head != text and _ISO_DATE.match(head):  # "2026-02-30T10:00": name the impossible date
        parse_date(head, order)
    stamp = _parse_timestamp_or_none(text)
    if stamp is not None:
        return stamp.date()
    raise ValueProblem(f"{text!r} is not a date (use YYYY-MM-DD, e.g. 2026-03-31)")


def _real_date(text: str, year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ValueProblem(f"{text!r} is not a real date (there is no month {month})")
    days = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
    if not 1 <= day <= days:
        name = calendar.month_name[month]
        raise ValueProblem(f"{text!r} is not a real date ({name} {year} has {days} days)")
    if not 1900 <= year <= 2200:
        raise ValueProblem(f"{text!r}: the year {year} is not plausible")
    return date(year, month, day)


def parse_timestamp(value: object, order: str | None = None) -> datetime | None:
    """A date and time ("2026-03-31T14:05", "2026-03-31 14:05:00 +0000", "03/31/2026 2:05 PM");
    a plain date means midnight. Times with a zone are converted to local time."""
    if blank(value):
        return None
    if isinstance(value, datetime):
        return _local(value)
    text = _text(value)
    stamp = _parse_timestamp_or_none(text, order)
    if stamp is not None:
        return stamp
    day = parse_date(text, order)  # raises a clear message for impossible dates
    return datetime.combine(day, datetime.min.time())


def _parse_timestamp_or_none(text: str, order: str | None = None) -> datetime | None:
    candidate = text.replace(" UTC", "+00:00").replace(" +0000", "+00:00")
    try:
        return _local(datetime.fromisoformat(candidate))
    except ValueError:
        pass
    date_part, _, time_part = text.partition(" ")
    if not time_part:
        return None
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p"):
        try:
            clock = datetime.strptime(time_part.strip().upper(), fmt).time()
        except ValueError:
            continue
        try:
            day = parse_date(date_part, order)
        except ValueProblem:
            return None
        return datetime.combine(day, clock) if day else None
    return None


def _local(stamp: datetime) -> datetime:
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone().replace(tzinfo=None)
    return stamp.replace(microsecond=0)


def is_plain_number(text: str) -> bool:
    """True for text that is just a number ("-12.5", "+3"): such cells need no CSV neutralising."""
    return bool(_PLAIN_NUMBER.match(text.strip())) and text == text.strip()


def choice(value: object, allowed: dict[str, str], what: str) -> str | None:
    """Map a label onto one of the allowed values (case-insensitive, with synonyms)."""
    if blank(value):
        return None
    text = _text(value)
    key = re.sub(r"[\s_-]+", " ", text.lower())
    if key in allowed:
        return allowed[key]
    valid = ", ".join(sorted(set(allowed.values())))
    raise ValueProblem(f"{text!r} is not a valid {what} (use one of: {valid})")
