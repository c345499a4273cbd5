"""Identifiers for records the user creates (events, tasks, save plans…)."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """A sortable, unique id such as `EV-01HF3Q…`: time in ms (base 36) and 40 random bits."""
    ms = int(time.time() * 1000)
    return f"{prefix}-{_base36(ms)}{secrets.token_hex(5)}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"
