"""A synthetic book for scoring tests and benchmarks: varied, deterministic, fast to build.

Accounts get monthly usage snapshots (today, today−30, …), tickets, touches, NPS/CSAT answers,
contacts and objectives, with some data missing on purpose (no usage, no contacts, no
answers) so every path of the score is exercised. Built with numpy and `executemany` inside
one `book.write(durable=False)`, so a million accounts take about a minute.
"""

from __future__ import annotations

from datetime import date

import numpy as np

TODAY = date(2026, 11, 23)
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])


def _day(offsets: np.ndarray, base: date = TODAY) -> list[str]:
    """ISO dates `offsets` days before `base` (vectorised through numpy datetime64)."""
    days = np.datetime64(base.isoformat()) - offsets.astype("timedelta64[D]")
    return np.datetime_as_string(days, unit="D").tolist()


def account_ids(n: int) -> list[str]:
    """The ids of a synthetic book of n accounts."""
    return [f"A{i:07d}" for i in range(n)]


def build(book, n: int, *, seed: int = 1, snapshots: int = 4, chunk: int = 200_000) -> list[str]:
    """Fill `book` with n synthetic accounts and their history; return the account ids."""
    ids = account_ids(n)
    with book.write(durable=False) as conn:
        for start in range(0, n, chunk):
            rng = np.random.default_rng(seed + start)
            _chunk(conn, ids[start : start + chunk], rng, snapshots)
    return ids


def _chunk(conn, ids: list[str], rng: np.random.Generator, snapshots: int) -> None:
    m = len(ids)
    seats = rng.integers(5, 500, m)
    start = _day(rng.integers(10, 1500, m))
    renewal = _day(-rng.integers(-30, 365, m))
    status = np.where(rng.random(m) < 0.04, "churned", "active")
    onboarding = np.where(rng.random(m) < 0.2, np.nan, rng.integers(0, 101, m).astype(float))
    sponsor = np.where(rng.random(m) < 0.3, np.nan, (rng.random(m) < 0.6).astype(float))
    activated = np.where(rng.random(m) < 0.1, None, np.array(start, dtype=object))
    conn.executemany(
        "INSERT INTO accounts (id, name, segment, tier, owner, arr, start_date, renewal_date, "
        "status, seats, onboarding_pct, activated_on, sponsor_engaged, open_escalations) "
        "VALUES (?, ?, ?, 'Core', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        zip(ids, [f"Acme {i}" for i in ids], SEGMENTS[rng.integers(0, 3, m)].tolist(),
            [f"Owner {k}" for k in rng.integers(0, 8, m)], (seats * 120.0).tolist(), start,
            renewal, status.tolist(), seats.tolist(), _nullable(onboarding), activated.tolist(),
            _nullable(sponsor), rng.choice([0, 0, 0, 0, 1, 2], m).tolist(), strict=True),
    )  # fmt: skip
    has_usage = rng.random(m) >= 0.1
    _usage(conn, ids, seats, has_usage, rng, snapshots)
    _tickets(conn, ids, rng)
    _events(conn, ids, rng)
    _responses(conn, ids, rng)
    _contacts(conn, ids, rng)
    _objectives(conn, ids, rng)


def _nullable(values: np.ndarray) -> list:
    return [None if np.isnan(v) else v for v in values.tolist()]


def _usage(conn, ids, seats, has_usage, rng, snapshots: int) -> None:
    idx = np.flatnonzero(has_usage)
    base = seats[idx] * rng.uniform(0.2, 1.0, idx.size)
    drift = rng.uniform(-0.25, 0.15, idx.size)
    for k in range(snapshots):
        mau = np.maximum(1, base * (1 - drift * k)).round()
        active = np.minimum(mau, seats[idx])
        dau = (mau * rng.uniform(0.05, 0.6, idx.size)).round(1)
        used = rng.integers(1, 11, idx.size)
        day = _day(np.full(idx.size, 30 * k))
        conn.executemany(
            "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, 10)",
            zip([ids[i] for i in idx], day, seats[idx].tolist(), active.tolist(), dau.tolist(),
                mau.tolist(), (mau * 7).tolist(), used.tolist(), strict=True),
        )  # fmt: skip


def _tickets(conn, ids, rng) -> None:
    owner = rng.integers(0, len(ids), len(ids) * 2)
    n = owner.size
    opened = [d + "T09:00:00" for d in _day(rng.integers(0, 120, n))]
    severity = rng.choice([1, 2, 3, 3, 4, 4], n)
    solved = rng.random(n) < 0.8
    conn.executemany(
        "INSERT INTO tickets (id, account_id, subject, opened_at, severity, status, resolved_at) "
        "VALUES (?, ?, 'Issue', ?, ?, ?, ?)",
        zip([f"T{ids[o]}-{k}" for k, o in enumerate(owner)], [ids[o] for o in owner], opened,
            severity.tolist(), np.where(solved, "solved", "open").tolist(),
            [o if s else None for o, s in zip(opened, solved, strict=True)], strict=True),
    )  # fmt: skip


def _events(conn, ids, rng) -> None:
    owner = rng.integers(0, len(ids), len(ids) * 2)
    kinds = rng.choice(["call", "meeting", "email", "note", "qbr"], owner.size)
    at = [d + "T10:00:00" for d in _day(rng.integers(0, 200, owner.size))]
    conn.executemany(
        "INSERT INTO events (id, account_id, at, kind, text) VALUES (?, ?, ?, ?, '')",
        zip([f"E{ids[o]}-{k}" for k, o in enumerate(owner)], [ids[o] for o in owner], at,
            kinds.tolist(), strict=True),
    )  # fmt: skip


def _responses(conn, ids, rng) -> None:
    owner = np.flatnonzero(rng.random(len(ids)) < 0.7)
    for kind, low, high in (("nps", 0, 11), ("csat", 1, 6)):
        for k in range(2):
            days = _day(rng.integers(0, 300, owner.size))
            conn.executemany(
                "INSERT INTO responses (id, account_id, date, kind, score) VALUES (?, ?, ?, ?, ?)",
                zip([f"R{kind}{ids[o]}-{k}" for o in owner], [ids[o] for o in owner], days,
                    [kind] * owner.size, rng.integers(low, high, owner.size).tolist(), strict=True),
            )  # fmt: skip


def _contacts(conn, ids, rng) -> None:
    owner = np.flatnonzero(rng.random(len(ids)) < 0.8)
    for role in ("champion", "sponsor", "user"):
        pick = owner[rng.random(owner.size) < 0.75]
        left = rng.random(pick.size) < 0.15
        left_on = _day(rng.integers(0, 90, pick.size))
        conn.executemany(
            "INSERT INTO contacts (id, account_id, name, role, active, left_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            zip([f"C{role[0]}{ids[o]}" for o in pick], [ids[o] for o in pick],
                [f"Person {o}" for o in pick], [role] * pick.size, (~left).astype(int).tolist(),
                [d if gone else None for d, gone in zip(left_on, left, strict=True)], strict=True),
        )  # fmt: skip


def _objectives(conn, ids, rng) -> None:
    owner = rng.integers(0, len(ids), len(ids) // 2)
    status = rng.choice(["on_track", "at_risk", "off_track", "done"], owner.size)
    conn.executemany(
        "INSERT INTO objectives (id, account_id, title, status) VALUES (?, ?, 'Goal', ?)",
        zip([f"O{ids[o]}-{k}" for k, o in enumerate(owner)], [ids[o] for o in owner],
            status.tolist(), strict=True),
    )  # fmt: skip
