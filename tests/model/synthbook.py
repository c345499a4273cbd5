"""A synthetic book with a real, known churn signal, for the churn model's tests and bench.

Each account has a hidden risk r ~ N(0, 1). Its past renewal churns with probability
sigmoid(-1.6 + 1.6 r); risky accounts lose MAU over the 6 months before the renewal, answer
NPS lower and lose champions more often. Churned accounts have no usage after the renewal.
Built with numpy and `executemany`, so 100k accounts take seconds, not minutes.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np

TODAY = date(2026, 11, 23)
MONTHS = 24


def _iso(days: np.ndarray) -> list[str]:
    """Day offsets from TODAY as ISO dates."""
    base = np.datetime64(TODAY.isoformat())
    return np.datetime_as_string(base + days.astype("timedelta64[D]"), unit="D").tolist()


def make_book(book, n: int = 300, seed: int = 7) -> dict:
    """Fill `book` with n accounts with a past renewal each (dates relative to TODAY, the
    tests' fixed today); return the hidden truth arrays."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    churned = rng.random(n) < 1 / (1 + np.exp(-(-1.6 + 1.6 * risk)))
    due = -rng.integers(40, 600, size=n)  # past renewal due dates (days from today)
    ids = [f"A{i:06d}" for i in range(n)]
    with book.write(durable=False) as conn:
        _accounts(conn, rng, ids, churned, due)
        _renewals(conn, rng, ids, churned, due)
        _usage(conn, rng, ids, risk, churned, due)
        _responses(conn, rng, ids, risk, due)
        _contacts(conn, rng, ids, risk, due)
        _tickets(conn, rng, ids, risk, due)
    return {"ids": ids, "risk": risk, "churned": churned, "due": due}


def _accounts(conn, rng, ids, churned, due) -> None:
    n = len(ids)
    seats = rng.integers(10, 400, size=n)
    start = due - rng.integers(365, 1100, size=n)
    regions = rng.choice(["emea", "amer", "apac"], size=n)
    custom = [
        json.dumps({"region": r, "contract_months": int(m)})
        for r, m in zip(regions, rng.choice([12, 24, 36], size=n), strict=True)
    ]
    rows = zip(
        ids,
        [f"Account {i}" for i in ids],
        rng.choice(["SMB", "Mid-Market", "Enterprise"], size=n).tolist(),
        rng.choice(["Strategic", "Core", "Scale"], size=n).tolist(),
        rng.choice(["Retail", "Fintech", "Health", "Media", "Logistics"], size=n).tolist(),
        np.round(rng.lognormal(10, 1, size=n), 2).tolist(),
        rng.choice(["basic", "pro"], size=n).tolist(),
        _iso(start),
        np.where(churned, "churned", "active").tolist(),
        seats.tolist(),
        custom,
        strict=True,
    )
    conn.executemany(
        "INSERT INTO accounts(id, name, segment, tier, industry, arr, plan, start_date, status,"
        " seats, custom) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def _renewals(conn, rng, ids, churned, due) -> None:
    n = len(ids)
    outcome = np.where(
        churned,
        "churned",
        rng.choice(["renewed", "expanded", "downgraded"], size=n, p=[0.7, 0.2, 0.1]),
    )
    arr = np.round(rng.lognormal(10, 1, size=n), 2)
    past = zip([f"RN{i}" for i in ids], ids, _iso(due), arr.tolist(), outcome.tolist(), strict=True)
    conn.executemany(
        "INSERT INTO renewals(id, account_id, due_date, arr_before, outcome) VALUES (?,?,?,?,?)",
        past,
    )
    live = ~churned
    future = zip(
        [f"RF{i}" for i in np.array(ids)[live]],
        np.array(ids)[live].tolist(),
        _iso(due[live] + 365),
        arr[live].tolist(),
        strict=True,
    )
    conn.executemany(
        "INSERT INTO renewals(id, account_id, due_date, arr_before) VALUES (?,?,?,?)", future
    )


def _usage(conn, rng, ids, risk, churned, due) -> None:
    n = len(ids)
    months = np.arange(MONTHS)
    day = -(months[None, :] * 30 + 5).repeat(n, axis=0)  # monthly snapshots, newest first
    alive = ~(churned[:, None] & (day >= due[:, None]))  # no usage after a churn
    before = np.clip((due[:, None] - day) / 30.0, 0, 6)  # months before the renewal, up to 6
    slope = np.where(risk > 0, 0.09 * risk, 0.01)[:, None]
    level = rng.uniform(0.4, 0.9, size=n)[:, None] * np.exp(-slope * (6 - before))
    seats = rng.integers(10, 400, size=n)[:, None].repeat(MONTHS, axis=1)
    mau = np.maximum(1, np.round(seats * level * rng.uniform(0.9, 1.1, size=day.shape)))
    acc = np.array(ids)[:, None].repeat(MONTHS, axis=1)
    keep = alive.ravel()
    rows = zip(
        acc.ravel()[keep].tolist(),
        _iso(day.ravel()[keep]),
        seats.ravel()[keep].tolist(),
        mau.ravel()[keep].astype(int).tolist(),
        (mau.ravel()[keep] * 0.3).tolist(),
        mau.ravel()[keep].tolist(),
        strict=True,
    )
    conn.executemany(
        "INSERT INTO usage(account_id, date, seats, active_users, dau, mau) VALUES (?,?,?,?,?,?)",
        rows,
    )


def _responses(conn, rng, ids, risk, due) -> None:
    score = np.clip(np.round(8 - 1.6 * risk + rng.normal(0, 1, size=len(ids))), 0, 10)
    rows = zip([f"NPS{i}" for i in ids], ids, _iso(due - 60), score.tolist(), strict=True)
    conn.executemany("INSERT INTO responses(id, account_id, date, score) VALUES (?,?,?,?)", rows)


def _contacts(conn, rng, ids, risk, due) -> None:
    left = (risk + rng.normal(0, 0.7, size=len(ids))) > 1.2
    left_on = [d if gone else None for d, gone in zip(_iso(due - 70), left, strict=True)]
    rows = zip([f"CT{i}" for i in ids], ids, left_on, (~left).astype(int).tolist(), strict=True)
    conn.executemany(
        "INSERT INTO contacts(id, account_id, name, role, left_on, active)"
        " VALUES (?, ?, 'Champion', 'champion', ?, ?)",
        rows,
    )


def _tickets(conn, rng, ids, risk, due) -> None:
    count = rng.poisson(1 + np.maximum(risk, 0) * 1.5)
    acc = np.repeat(np.array(ids), count)
    opened = np.repeat(due - 40, count) - rng.integers(0, 80, size=count.sum())
    opened_on = _iso(opened)
    rows = zip(
        [f"TK{i}" for i in range(count.sum())],
        acc.tolist(),
        opened_on,
        rng.integers(1, 5, size=count.sum()).tolist(),
        opened_on,
        strict=True,
    )
    conn.executemany(
        "INSERT INTO tickets(id, account_id, opened_at, severity, status, resolved_at)"
        " VALUES (?,?,?,?, 'closed', ?)",
        rows,
    )
