"""Today's date and the current time, overridable so demo books and tests are deterministic."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta


def today() -> date:
    """Today, or `CSM_TODAY` (YYYY-MM-DD) when set (tests, screenshots, reproducible demos)."""
    fixed = os.environ.get("CSM_TODAY")
    return date.fromisoformat(fixed) if fixed else date.today()


def now() -> datetime:
    """The current local time (seconds), anchored to `CSM_TODAY` when set."""
    real = datetime.now().replace(microsecond=0)
    fixed = os.environ.get("CSM_TODAY")
    if not fixed:
        return real
    return datetime.combine(date.fromisoformat(fixed), real.time())


def now_iso() -> str:
    """The current time as ISO text (`YYYY-MM-DDTHH:MM:SS`), the format stored in the book."""
    return now().isoformat(timespec="seconds")


def days_ago(n: int) -> date:
    """The date `n` days before today."""
    return today() - timedelta(days=n)
