"""Fixtures for scoring tests: a hand-made account builder and a small synthetic book."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest

TODAY = date(2026, 11, 23)
_ids = count(1)


def day(days_ago: int) -> str:
    """The ISO date `days_ago` days before the tests' today (negative: in the future)."""
    return (TODAY - timedelta(days=days_ago)).isoformat()


class Builder:
    """Writes one account's records with readable calls (each in its own transaction)."""

    def __init__(self, book) -> None:
        self.book = book

    def account(self, account_id: str = "ACC-1", **fields) -> str:
        """An active account; `fields` override columns (seats, onboarding_pct, …)."""
        row = {
            "id": account_id,
            "name": f"Account {account_id}",
            "segment": "SMB",
            "seats": 100,
            "start_date": day(400),
            "activated_on": day(380),
            "renewal_date": day(-200),
        }
        row |= fields
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._run(f"INSERT INTO accounts ({cols}) VALUES ({marks})", tuple(row.values()))
        return account_id

    def usage(
        self,
        account_id: str,
        days_ago: int,
        *,
        mau: float,
        active: int | None = None,
        seats: int = 100,
        dau: float | None = None,
        used: int = 5,
        total: int = 10,
    ) -> None:
        """One usage snapshot."""
        active = int(mau) if active is None else active
        dau = mau * 0.3 if dau is None else dau
        self._run(
            "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (account_id, day(days_ago), seats, active, dau, mau, int(mau) * 5, used, total),
        )

    def ticket(
        self, account_id: str, days_ago: int, *, severity: int = 3, open_: bool = False
    ) -> None:
        """One ticket opened `days_ago` (solved the same day unless `open_`)."""
        opened = day(days_ago) + "T09:00:00"
        self._run(
            "INSERT INTO tickets (id, account_id, opened_at, severity, status, resolved_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                f"TK-{next(_ids)}",
                account_id,
                opened,
                severity,
                "open" if open_ else "solved",
                None if open_ else day(days_ago) + "T17:00:00",
            ),
        )

    def event(self, account_id: str, days_ago: int, kind: str = "call") -> None:
        """One timeline event."""
        self._run(
            "INSERT INTO events (id, account_id, at, kind, text) VALUES (?, ?, ?, ?, 'x')",
            (f"EV-{next(_ids)}", account_id, day(days_ago) + "T10:00:00", kind),
        )

    def response(self, account_id: str, days_ago: int, score: float, kind: str = "nps") -> None:
        """One NPS or CSAT answer."""
        self._run(
            "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?, ?, ?, ?, ?)",
            (f"NPS-{next(_ids):05d}", account_id, day(days_ago), kind, score),
        )

    def contact(
        self, account_id: str, role: str, *, name: str = "Jo Park", left_days_ago: int | None = None
    ) -> None:
        """A contact; `left_days_ago` marks them as gone since then."""
        gone = left_days_ago is not None
        self._run(
            "INSERT INTO contacts (id, account_id, name, role, active, left_on) VALUES (?, ?, ?, ?, ?, ?)",
            (
                f"CT-{next(_ids)}",
                account_id,
                name,
                role,
                0 if gone else 1,
                day(left_days_ago) if gone else None,
            ),
        )

    def objective(self, account_id: str, status: str) -> None:
        """A success-plan objective."""
        self._run(
            "INSERT INTO objectives (id, account_id, title, status) VALUES (?, ?, 'Goal', ?)",
            (f"OB-{next(_ids)}", account_id, status),
        )

    def healthy(self, account_id: str = "ACC-1", **fields) -> str:
        """An account with data in every category (scores green)."""
        self.account(account_id, onboarding_pct=100, sponsor_engaged=1, **fields)
        for k in range(3):
            self.usage(account_id, 30 * k, mau=80, active=80)
        self.event(account_id, 3, "call")
        self.event(account_id, 40, "qbr")
        self.response(account_id, 10, 9)
        self.response(account_id, 12, 5, kind="csat")
        self.contact(account_id, "champion")
        self.contact(account_id, "sponsor", name="Sam Lee")
        self.objective(account_id, "on_track")
        return account_id

    def _run(self, sql: str, params: tuple) -> None:
        with self.book.write(durable=False) as conn:
            conn.execute(sql, params)


@pytest.fixture
def build(book) -> Builder:
    """A builder over the empty test book."""
    return Builder(book)


@pytest.fixture(scope="module")
def synth_book(tmp_path_factory):
    """A 400-account synthetic book shared by a module's read-only tests."""
    from csm_tui.storage.db import open_book
    from tests.scoring.synth import build as build_synth

    path = tmp_path_factory.mktemp("synth") / "synth.db"
    book = open_book(path)
    build_synth(book, 400, seed=3)
    yield book
    book.close()
