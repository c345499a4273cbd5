"""Small, deterministic books for the edit and reliability tests (no dependency on the demo)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from csm_tui.storage.db import open_book

TODAY = date(2026, 11, 23)
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")


def account_id(i: int) -> str:
    """The id of the i-th seeded account (ACC-0001, …)."""
    return f"ACC-{i:04d}"


def account_name(i: int) -> str:
    """The name of the i-th seeded account: distinctive, so leaks in messages are findable."""
    return f"Zephyrine Holdings {i:04d}"


def seed_accounts(book, n: int = 20, *, usage_days: int = 90, seed: int = 7) -> list[str]:
    """Insert `n` accounts with contacts, weekly usage, tickets, events and an NPS each."""
    rng = random.Random(seed)
    accounts, contacts, usage, events, responses, tickets = [], [], [], [], [], []
    for i in range(1, n + 1):
        aid = account_id(i)
        seats = rng.randint(10, 400)
        accounts.append(_account_row(i, aid, seats, rng))
        contacts += [
            (f"CT-{i:04d}-C", aid, f"Champion {i}", "champion", 1),
            (f"CT-{i:04d}-S", aid, f"Sponsor {i}", "sponsor", 1),
        ]
        for day in range(0, usage_days, 7):
            active = max(1, int(seats * rng.uniform(0.3, 0.95)))
            on = (TODAY - timedelta(days=day)).isoformat()
            usage.append((aid, on, seats, active, active * 0.4, active, active * 9, 6, 10))
        events.append(
            (
                f"EV-seed-{i:04d}",
                aid,
                _days_ago(rng.randint(1, 60)) + "T10:00:00",
                "call",
                "Seed call",
            )
        )
        responses.append(
            (f"NPS-seed-{i:04d}", aid, _days_ago(rng.randint(5, 80)), "nps", rng.randint(3, 10))
        )
        tickets.append(
            (
                f"TK-seed-{i:04d}",
                aid,
                "Login issue",
                _days_ago(rng.randint(1, 40)) + "T09:00:00",
                rng.randint(2, 4),
                "solved",
            )
        )
    _insert_all(book, accounts, contacts, usage, events, responses, tickets)
    return [a[0] for a in accounts]


def _days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def _account_row(i: int, aid: str, seats: int, rng: random.Random) -> tuple:
    start = TODAY - timedelta(days=rng.randint(120, 900))
    renewal = TODAY + timedelta(days=rng.randint(10, 330))
    return (
        aid,
        account_name(i),
        SEGMENTS[i % 3],
        "Core",
        f"Owner {i % 4}",
        "Software",
        float(rng.randint(5, 300) * 1000),
        "Pro",
        "adoption",
        start.isoformat(),
        renewal.isoformat(),
        "active",
        seats,
        100.0,
        (start + timedelta(days=20)).isoformat(),
        1,
        0,
    )


def _insert_all(book, accounts, contacts, usage, events, responses, tickets) -> None:
    with book.write(durable=False) as conn:
        conn.executemany(
            "INSERT INTO accounts (id, name, segment, tier, owner, industry, arr, plan, stage, "
            "start_date, renewal_date, status, seats, onboarding_pct, activated_on, "
            "sponsor_engaged, open_escalations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            accounts,
        )
        conn.executemany(
            "INSERT INTO contacts (id, account_id, name, role, active) VALUES (?,?,?,?,?)",
            contacts,
        )
        conn.executemany(
            "INSERT INTO usage (account_id, date, seats, active_users, dau, mau, logins, "
            "features_used, features_total) VALUES (?,?,?,?,?,?,?,?,?)",
            usage,
        )
        conn.executemany(
            "INSERT INTO events (id, account_id, at, kind, text) VALUES (?,?,?,?,?)", events
        )
        conn.executemany(
            "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?,?,?,?,?)",
            responses,
        )
        conn.executemany(
            "INSERT INTO tickets (id, account_id, subject, opened_at, severity, status) "
            "VALUES (?,?,?,?,?,?)",
            tickets,
        )


def make_book(path: Path, n: int = 20) -> Path:
    """Create a book file at `path` with `n` seeded accounts and close it."""
    book = open_book(path)
    try:
        seed_accounts(book, n)
    finally:
        book.close()
    return path


def write_accounts_csv(path: Path, n: int, prefix: str = "NEW") -> Path:
    """An accounts CSV of `n` new accounts (ids PREFIX-00000…), as a CRM export would give."""
    lines = ["id,name,segment,owner,arr,renewal_date,seats"]
    lines += [
        f"{prefix}-{i:05d},Imported Customer {i:05d},SMB,Owner {i % 5},{1000 + i},"
        f"2027-0{1 + i % 9}-15,{10 + i % 90}"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
