"""Formatting helpers shared by the report writers, and the private, atomic file write."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from csm_tui.paths import make_private

#: Said instead of an empty value, so a report never shows "None" or "nan".
MISSING = "not recorded"


def is_missing(value) -> bool:
    """True for None, NaN and empty text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text(value, missing: str = MISSING) -> str:
    """A value as report text, or `missing` when there is none."""
    return missing if is_missing(value) else str(value)


def money(value, missing: str = MISSING) -> str:
    """Dollars with thousands separators ($120,000; $1,234.50 when there are cents)."""
    if is_missing(value):
        return missing
    value = float(value)
    return f"${value:,.0f}" if value == round(value) else f"${value:,.2f}"


def number(value, digits: int = 0, missing: str = MISSING) -> str:
    """A plain number (no trailing .0 when `digits` is 0)."""
    if is_missing(value):
        return missing
    return f"{float(value):,.{digits}f}"


def percent(share, digits: int = 0, missing: str = MISSING) -> str:
    """A share (0–1) as a percentage."""
    return missing if is_missing(share) else f"{100 * float(share):.{digits}f}%"


def signed(value, digits: int = 0, missing: str = MISSING) -> str:
    """A change with its sign (+4, −11)."""
    if is_missing(value):
        return missing
    shown = f"{abs(float(value)):.{digits}f}"
    return f"+{shown}" if value > 0 else (f"−{shown}" if value < 0 else shown)


def nice_date(value, missing: str = MISSING) -> str:
    """An ISO date (or timestamp) shown as 2026-11-23."""
    return missing if is_missing(value) else str(value)[:10]


def days_until(value: str, today: date) -> int:
    """Days from today to an ISO date (negative when past)."""
    return (date.fromisoformat(str(value)[:10]) - today).days


def words(value, missing: str = MISSING) -> str:
    """A stored code shown as words: at_risk → at risk."""
    return missing if is_missing(value) else str(value).replace("_", " ")


def cell(value) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table; an empty `rows` gives no table (callers say so in words)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_private(path: Path, content: str) -> Path:
    """Write `content` to `path` atomically with mode 0600; return the path."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    make_private(path)
    return path
