"""Reporting periods: a month, a quarter, a year or a from..to range, parsed from what users type.

Accepted forms (case-insensitive): `2026-10` (month), `2026-Q3` (quarter), `2026` (year),
`2026-01-01..2026-06-30` (inclusive range), and the relative names `this-month`,
`last-month`, `this-quarter`, `last-quarter`, `this-year`, `last-year`, `ytd`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from csm_tui import clock
from csm_tui.errors import UsageError

KINDS = ("month", "quarter", "year", "range")

PERIOD_FORMS = (
    "2026-10 (month), 2026-Q3 (quarter), 2026 (year), 2026-01-01..2026-06-30 (range), "
    "this-month, last-month, this-quarter, last-quarter, this-year, last-year or ytd"
)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class Period:
    """An inclusive span of days with a kind (month/quarter/year/range) and a display label."""

    start: date
    end: date
    kind: str

    @property
    def label(self) -> str:
        """How the period is shown: `2026-Q3`, `Oct 2026`, `2026`, or `2026-01-01..2026-06-30`."""
        if self.kind == "month":
            return f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        """Number of days in the period (inclusive)."""
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        """True when `day` falls inside the period."""
        return self.start <= day <= self.end

    def shift(self, steps: int) -> Period:
        """The period `steps` periods later (negative: earlier), of the same kind and length."""
        if self.kind == "month":
            return month_of(_add_months(self.start, steps))
        if self.kind == "quarter":
            return quarter_of(_add_months(self.start, 3 * steps))
        if self.kind == "year":
            return year_of(date(self.start.year + steps, 1, 1))
        offset = timedelta(days=self.days * steps)
        return Period(self.start + offset, self.end + offset, "range")

    def as_kind(self, kind: str) -> Period:
        """The month/quarter/year that contains this period's last day (capped at today)."""
        anchor = min(self.end, clock.today())
        return {"month": month_of, "quarter": quarter_of, "year": year_of}[kind](anchor)


def month_of(day: date) -> Period:
    """The calendar month containing `day`."""
    start = day.replace(day=1)
    return Period(start, _add_months(start, 1) - timedelta(days=1), "month")


def quarter_of(day: date) -> Period:
    """The calendar quarter containing `day`."""
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period(start, _add_months(start, 3) - timedelta(days=1), "quarter")


def year_of(day: date) -> Period:
    """The calendar year containing `day`."""
    return Period(date(day.year, 1, 1), date(day.year, 12, 31), "year")


def last_months(count: int, today: date | None = None) -> list[Period]:
    """The `count` calendar months ending with the current one, oldest first."""
    current = month_of(today or clock.today())
    return [current.shift(-step) for step in range(count - 1, -1, -1)]


def parse_period(text: str | None, today: date | None = None) -> Period:
    """Parse a period as typed by a user; None or "" means the current quarter.

    Raises UsageError naming the accepted forms when the text is not one of them.
    """
    today = today or clock.today()
    raw = (text or "this-quarter").strip().lower()
    relative = _relative(raw, today)
    if relative is not None:
        return relative
    if ".." in raw:
        return _parse_range(raw)
    if match := _QUARTER.match(raw):
        return quarter_of(date(int(match[1]), 3 * int(match[2]) - 2, 1))
    if match := _MONTH.match(raw):
        month = int(match[2])
        if not 1 <= month <= 12:
            raise UsageError(f"period {text!r}: month {month} is not between 1 and 12")
        return month_of(date(int(match[1]), month, 1))
    if _YEAR.match(raw):
        return year_of(date(int(raw), 1, 1))
    raise UsageError(f"period {text!r} is not a period csm knows; use {PERIOD_FORMS}")


def _relative(raw: str, today: date) -> Period | None:
    """The relative period names, or None when `raw` is not one of them."""
    table = {
        "this-month": lambda: month_of(today),
        "last-month": lambda: month_of(today).shift(-1),
        "this-quarter": lambda: quarter_of(today),
        "last-quarter": lambda: quarter_of(today).shift(-1),
        "this-year": lambda: year_of(today),
        "last-year": lambda: year_of(today).shift(-1),
        "ytd": lambda: Period(date(today.year, 1, 1), today, "range"),
    }
    maker = table.get(raw.replace("_", "-").replace(" ", "-"))
    return maker() if maker else None


def _parse_range(raw: str) -> Period:
    """`YYYY-MM-DD..YYYY-MM-DD`, inclusive on both ends."""
    left, _, right = raw.partition("..")
    try:
        start, end = date.fromisoformat(left.strip()), date.fromisoformat(right.strip())
    except ValueError:
        raise UsageError(
            f"period {raw!r}: a range is two dates YYYY-MM-DD..YYYY-MM-DD (inclusive)"
        ) from None
    if end < start:
        raise UsageError(f"period {raw!r}: the end date {end} is before the start date {start}")
    return Period(start, end, "range")


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month (day is always the 1st here)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
