"""A realistic, deterministic demo book (`csm demo`).

One latent risk per account (`z`, standard normal; higher = riskier) drives everything the
book shows: seat utilisation and its trend, stickiness, feature adoption, ticket load and
severity, NPS/CSAT, stakeholder departures, how long since the last touch, objectives, the
CSM's renewal call and the outcome of the renewal in the past year. The outcome is drawn
from z (noisy), and the signals show z (noisy), so a churn model trained on the history can
learn something real without it being trivial.

Every table is generated column-wise with numpy and written with `executemany` inside ONE
non-durable transaction. The same seed and the same `today` give byte-identical data.
The first accounts of every book are planted by hand (`PLANTED`) so that even a small demo
contains each alert situation of the spec; snapshot tests rely on them.

After the raw data, still inside the same transaction, the caller's scorer (the scoring
engine, handed in by `csm_tui.service.demo_book`: storage never imports scoring) scores the
book and backfills its health history (`history_dates`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from csm_tui.errors import UsageError

DEFAULT_ACCOUNTS = 1000
DEFAULT_SEED = 7
MAX_ACCOUNTS = 500_000
BOOK_OWNER = "Alex Morgan"
#: Usage snapshots: today, today−30, …, today−330.
USAGE_MONTHS = 12
#: Larger demo books get a short health history (see `history_dates`).
FULL_HISTORY_MAX_ACCOUNTS = 20_000
#: Past renewals are only written when the year of usage history covers the 30 days before.
PAST_RENEWAL_WINDOW = (-300, -1)
LAST_TOUCH_MINUTE = 17 * 60 + 30
_PAST_DAYS = 6 * 365
_FUTURE_DAYS = 800

ProgressFn = Callable[[int, int], None]
#: A full rescore as of a date: (book, as_of, history_only). See `generate_demo`.
DemoScorer = Callable[[Any, date, bool], None]

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
_SEGMENT_P = (0.55, 0.30, 0.15)
_ARR_MEDIAN = (12_000.0, 60_000.0, 240_000.0)
_PRICE_PER_SEAT = (420.0, 540.0, 660.0)
PLANS = ("Starter", "Professional", "Enterprise")
_FEATURES_TOTAL = (8, 12, 16)
OWNERS = (BOOK_OWNER, "Priya Shah", "Jordan Lee", "Sam Rivera", "Maria Lopez")
_OWNER_P = (0.70, 0.09, 0.08, 0.07, 0.06)
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
_REGION_P = (0.45, 0.30, 0.15, 0.10)

_PREFIXES = (
    "North Blue Silver Red Green Iron Oak Pine Cedar Maple Stone River Summit Bright Clear "
    "Swift True High Far Deep Gold Copper Star Sun Moon Cloud Rock Fox Wolf Bear Eagle Hawk "
    "Lake Sea Harbor Bay Grand Prime Crest Alder"
).split()
_ROOTS = (
    "wind peak field bridge gate line wave leaf point ridge view water brook wood light path "
    "haven mark way core spring dale vale ford port shore side hill stone crest"
).split()
_INDUSTRY_NOUNS: dict[str, tuple[str, ...]] = {
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Couriers"),
    "Healthcare": ("Health", "Clinics", "Medical", "Care", "Dental"),
    "Software": ("Software", "Systems", "Labs", "Digital", "Networks"),
    "Retail": ("Retail", "Outfitters", "Market", "Goods", "Stores"),
    "Financial Services": ("Capital", "Bank", "Insurance", "Financial", "Credit"),
    "Manufacturing": ("Manufacturing", "Industries", "Robotics", "Works", "Tooling"),
    "Media": ("Media", "Studios", "Publishing", "Broadcasting", "Press"),
    "Education": ("Learning", "Academy", "Education", "Schools", "Tutoring"),
    "Hospitality": ("Hotels", "Hospitality", "Travel", "Resorts", "Dining"),
    "Energy": ("Energy", "Solar", "Power", "Utilities", "Renewables"),
    "Food & Beverage": ("Foods", "Farms", "Kitchens", "Bakery", "Beverages"),
    "Professional Services": ("Partners", "Consulting", "Advisors", "Legal", "Group"),
}
_LEGAL_SUFFIXES = ("", " Inc.", " Ltd", " Co.", " LLC", " GmbH", " plc", " AG")

_FIRST = (
    "James Mary Robert Linda Michael Sarah David Emma Daniel Olivia Thomas Sophie Kevin Laura "
    "Brian Nina Eric Hannah Paul Grace Mark Chloe Steven Mia Andrew Zoe Ryan Lucy Jason Ella "
    "Omar Aisha Wei Mei Raj Ananya Carlos Lucia Diego Sofia Hiroshi Yuki Lars Ingrid Pierre "
    "Camille Tom Julia Ben Amelia Sean Leah Victor Irene Felix Nora Ivan Elena Marco Giulia"
).split()
_LAST = (
    "Smith Johnson Brown Taylor Wilson Davies Evans Thomas Roberts Walker Wright Thompson "
    "White Hughes Edwards Green Hall Wood Harris Clarke Patel Khan Chen Wang Nguyen Kim Garcia "
    "Martinez Rossi Muller Schmidt Dubois Laurent Silva Santos Kowalski Novak Jensen Larsen "
    "Berg Okafor Mensah Cohen Levi Murphy Kelly Walsh Byrne Ahmed Ali Singh Sharma Tanaka Sato"
).split()
_TITLES = {
    "champion": (
        "Support Manager",
        "Head of Operations",
        "IT Manager",
        "Director of Customer Support",
        "Operations Lead",
        "Product Owner",
    ),
    "sponsor": (
        "VP Operations",
        "COO",
        "CTO",
        "VP Customer Experience",
        "CFO",
        "Chief Digital Officer",
    ),
    "admin": ("Systems Administrator", "IT Administrator", "Platform Admin"),
    "user": (
        "Support Agent",
        "Analyst",
        "Team Lead",
        "Operations Specialist",
        "Customer Success Associate",
        "Project Coordinator",
    ),
}
_TICKET_SUBJECTS = (
    "Cannot log in with SSO",
    "Report export times out",
    "Dashboard shows stale data",
    "Add users to the admin role",
    "API rate limit errors",
    "Webhook deliveries failing",
    "Question about billing invoice",
    "Slow page loads in EU region",
    "Data import stuck",
    "Password reset email not received",
    "Integration with Salesforce out of sync",
    "Mobile app crashes on launch",
    "How to configure approval workflow",
    "Custom field missing from report",
    "Permissions not applied to new team",
    "Scheduled report not sent",
    "Outage: service unavailable",
    "Audit log request",
    "Bulk update failed halfway",
    "Search returns no results",
)
_NPS_COMMENTS = {
    "promoter": (
        "Our team relies on it every day.",
        "Great support and a product that just works.",
        "Saved us hours every week on reporting.",
        "Onboarding was smooth and fast.",
        "The new workflow features are excellent.",
        "Would recommend to any ops team.",
    ),
    "passive": (
        "Good product, a few features missing.",
        "Works well but reporting could be better.",
        "Fine for now; pricing is a concern.",
        "Support is helpful but slow at times.",
        "Useful, though adoption in our team is uneven.",
    ),
    "detractor": (
        "Too many outages lately.",
        "We are not seeing the value we expected.",
        "Support takes days to respond.",
        "Hard to use; the team went back to spreadsheets.",
        "Too expensive for what we use.",
        "Evaluating alternatives after the last incident.",
        "Our new director prefers another tool.",
    ),
}
_CSAT_COMMENTS = (
    "Quick resolution, thanks.",
    "Took too long to get an answer.",
    "Agent was very helpful.",
    "Issue came back the next day.",
    "Clear explanation of the fix.",
    "",
)
_EVENT_TEXTS = {
    "call": (
        "Check-in call with the champion: adoption on track, asked about reporting.",
        "Call about the open escalation; agreed next steps with support.",
        "Renewal pre-call: budget confirmed, waiting on procurement.",
        "Call with the team lead on training for new hires.",
        "Discussed usage dip after their reorganisation.",
    ),
    "meeting": (
        "Workshop on workflow automation with the ops team.",
        "Success-plan review: two objectives on track, one at risk.",
        "Roadmap preview for the admin team.",
        "Executive alignment meeting with the sponsor.",
    ),
    "email": (
        "Sent the monthly usage summary.",
        "Shared best-practice guide for dashboards.",
        "Followed up on the training invitation.",
        "Sent release notes for the new reporting module.",
        "Emailed the renewal proposal.",
        "Asked for feedback on the latest survey.",
    ),
    "note": (
        "Champion mentioned a possible reorganisation next quarter.",
        "Customer considering adding the chat module.",
        "Procurement is reviewing all vendors this year.",
        "Team is happy with the new approval workflow.",
        "Heard they are evaluating a competitor for one region.",
    ),
    "qbr": (
        "QBR: reviewed adoption, value delivered and next-quarter objectives.",
        "QBR with the sponsor: renewal preparation and expansion discussion.",
    ),
}
_OBJECTIVES = (  # title, unit, baseline, target
    ("Reduce average handle time", "min", 12.0, 8.0),
    ("Increase self-service resolution", "%", 20.0, 45.0),
    ("Train all agents", "agents", 0.0, 25.0),
    ("Knowledge articles live", "articles", 0.0, 25.0),
    ("Raise first-contact resolution", "%", 55.0, 75.0),
    ("Cut time to first response", "hours", 8.0, 2.0),
    ("Roll out to all regional teams", "teams", 1.0, 6.0),
)

ACCOUNT_COLS = (
    "id",
    "name",
    "segment",
    "tier",
    "owner",
    "industry",
    "arr",
    "plan",
    "stage",
    "start_date",
    "renewal_date",
    "status",
    "seats",
    "onboarding_pct",
    "activated_on",
    "sponsor_engaged",
    "open_escalations",
    "custom",
    "last_touch_at",
    "created_at",
    "updated_at",
)
CONTACT_COLS = (
    "id",
    "account_id",
    "name",
    "email",
    "title",
    "role",
    "sentiment",
    "active",
    "left_on",
)
USAGE_COLS = (
    "account_id",
    "date",
    "seats",
    "active_users",
    "dau",
    "mau",
    "logins",
    "features_used",
    "features_total",
)
TICKET_COLS = (
    "id",
    "account_id",
    "subject",
    "opened_at",
    "severity",
    "status",
    "first_response_at",
    "resolved_at",
)
RESPONSE_COLS = ("id", "account_id", "contact_id", "date", "kind", "score", "comment")
EVENT_COLS = ("id", "account_id", "at", "kind", "text", "author")
RENEWAL_COLS = (
    "id",
    "account_id",
    "due_date",
    "arr_before",
    "arr_after",
    "csm_call",
    "outcome",
    "closed_on",
)
OBJECTIVE_COLS = (
    "id",
    "account_id",
    "title",
    "baseline",
    "target",
    "current",
    "unit",
    "due_date",
    "status",
)
TABLE_COLS: dict[str, tuple[str, ...]] = {
    "accounts": ACCOUNT_COLS,
    "contacts": CONTACT_COLS,
    "usage": USAGE_COLS,
    "tickets": TICKET_COLS,
    "responses": RESPONSE_COLS,
    "events": EVENT_COLS,
    "renewals": RENEWAL_COLS,
    "objectives": OBJECTIVE_COLS,
}


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` wrote: rows per table, and whether health history was computed."""

    path: Path
    accounts: int
    churned: int
    rows: dict[str, int]
    seed: int
    today: date
    rescored: bool


@dataclass
class _Tables:
    """Rows per table, in the column order of `TABLE_COLS`."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLE_COLS})

    def add(self, table: str, rows: Sequence[tuple] | zip) -> None:
        self.rows[table].extend(rows)


class _Calendar:
    """Day numbers relative to today (negative = past) to ISO text, through lookup tables."""

    def __init__(self, today: date) -> None:
        self.today = today
        base = np.datetime64(today.isoformat(), "D")
        days = base + np.arange(-_PAST_DAYS, _FUTURE_DAYS + 1)
        self._dates = np.array(days.astype(str).tolist(), dtype=object)
        self._base = base
        minutes = np.arange(24 * 60)
        self._times = np.array(
            [f"T{m // 60:02d}:{m % 60:02d}:00" for m in minutes.tolist()], dtype=object
        )

    def dates(self, day: np.ndarray) -> np.ndarray:
        """ISO dates for an int array of day numbers."""
        return self._dates[np.asarray(day, dtype=np.int64) + _PAST_DAYS]

    def stamps(self, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
        """ISO timestamps for day numbers and minutes of the day."""
        return self.dates(day) + self._times[np.asarray(minute, dtype=np.int64)]

    def iso(self, day: int) -> str:
        """One ISO date."""
        return (self.today + timedelta(days=int(day))).isoformat()

    def anniversary(self, start: np.ndarray, years: np.ndarray) -> np.ndarray:
        """Day numbers of the `years`-th contract anniversary (29 Feb falls back to 28)."""
        start64 = self._base + start.astype("timedelta64[D]")
        month = start64.astype("datetime64[M]")
        day_of_month = (start64 - month.astype("datetime64[D]")).astype(np.int64)
        target = month + (12 * years).astype("timedelta64[M]")
        first = target.astype("datetime64[D]")
        month_len = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(
            np.int64
        )
        out = first + np.minimum(day_of_month, month_len - 1).astype("timedelta64[D]")
        return (out - self._base).astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng: np.random.Generator, options: Sequence[str], size: int, p=None) -> np.ndarray:
    """`size` draws from `options` as an object array (fast to turn into Python strings)."""
    return np.array(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _columns(*cols) -> zip:
    """Rows from equal-length columns (numpy arrays become plain Python values)."""
    return zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in cols), strict=True)


def _nullable(values: np.ndarray, present: np.ndarray) -> list:
    """`values` with None where `present` is false."""
    return [v if ok else None for v, ok in zip(values.tolist(), present.tolist(), strict=True)]


@dataclass
class _Accounts:
    """Per-account columns (numpy arrays, one entry per generated account)."""

    n: int
    ids: np.ndarray
    names: np.ndarray
    domains: np.ndarray
    industry: np.ndarray
    seg: np.ndarray  # index into SEGMENTS
    plan: np.ndarray  # index into PLANS
    tier: np.ndarray
    owner: np.ndarray
    z: np.ndarray  # latent risk, N(0, 1)
    arr: np.ndarray  # current ARR (0 once churned)
    seats: np.ndarray
    start: np.ndarray  # day numbers (negative = past)
    renewal: np.ndarray  # next anniversary; for churned accounts the one they did not renew
    past_due: np.ndarray  # the last anniversary, when one falls in PAST_RENEWAL_WINDOW
    has_past: np.ndarray
    churned: np.ndarray
    end: np.ndarray  # last day with activity: 0, or the churn date
    activated: np.ndarray  # day number of first value; valid where is_activated
    is_activated: np.ndarray
    util0: np.ndarray  # seat utilisation before any decline
    decline: np.ndarray  # monthly fractional loss once the decline starts
    onset: np.ndarray  # day number the decline starts
    drop: np.ndarray  # sharp MAU drop in the latest month
    spike: np.ndarray  # ticket spike in the last 14 days
    stick: np.ndarray  # DAU / MAU
    depth: np.ndarray  # share of core features in use
    past_outcome: np.ndarray = field(default=None)  # type: ignore[assignment]
    arr_before: np.ndarray = field(default=None)  # type: ignore[assignment]

    def account_ids(self, index: np.ndarray) -> np.ndarray:
        """Account ids for an array of account positions."""
        return self.ids[index]

    def factor(self, index: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Share of the healthy usage level left on `day` (1 before the decline starts)."""
        months = np.maximum(0, day - self.onset[index]) / 30.0
        return (1.0 - self.decline[index]) ** months


def _company_names(
    rng: np.random.Generator, n: int, reserved: set[str]
) -> tuple[list[str], list[str], list[str]]:
    """`n` unique company names (with their industry and e-mail domain), none in `reserved`."""
    nouns = [(noun, ind) for ind, group in _INDUSTRY_NOUNS.items() for noun in group]
    brands = [p + r for p in _PREFIXES for r in _ROOTS if p.lower() != r]
    base = len(brands) * len(nouns)
    per_level = int(base * 0.6)  # most names carry no legal suffix
    names: list[str] = []
    industries: list[str] = []
    domains: list[str] = []
    level = 0
    while len(names) < n:
        if level >= len(_LEGAL_SUFFIXES):
            raise UsageError(f"the demo book can hold at most {MAX_ACCOUNTS:,} accounts")
        take = min(per_level, n - len(names) + len(reserved))
        for k in rng.choice(base, size=take, replace=False).tolist():
            brand, (noun, industry) = brands[k // len(nouns)], nouns[k % len(nouns)]
            name = f"{brand} {noun}{_LEGAL_SUFFIXES[level]}"
            if name in reserved or len(names) == n:
                continue
            names.append(name)
            industries.append(industry)
            domains.append(f"{brand}{noun}".lower() + ".com")
        level += 1
    return names, industries, domains


def _draw_accounts(
    rng: np.random.Generator, numbers: np.ndarray, cal: _Calendar, reserved: set[str]
) -> _Accounts:
    """Firmographics, contract dates, latent risk and the usage-shape parameters."""
    n = len(numbers)
    names, industries, domains = _company_names(rng, n, reserved)
    seg = rng.choice(3, size=n, p=_SEGMENT_P)
    gauss = rng.standard_normal(n)
    z = gauss + 0.35 * np.maximum(gauss, 0) ** 2  # a long tail of really troubled accounts
    arr = np.round(np.array(_ARR_MEDIAN)[seg] * np.exp(rng.normal(0, 0.5, n)), -2)
    seats = np.maximum(3, np.round(arr / np.array(_PRICE_PER_SEAT)[seg])).astype(np.int64)
    plan = np.where(
        seg == 2,
        2,
        np.where(seg == 1, 1 + (rng.random(n) < 0.2), (rng.random(n) < 0.3).astype(np.int64)),
    )
    strategic = (seg == 2) | ((seg == 1) & (arr > 150_000))
    tier = np.where(strategic, "Strategic", np.where((seg == 0) & (arr < 30_000), "Scale", "Core"))
    new = rng.random(n) < 0.12
    tenure = np.where(new, rng.integers(2, 120, n), rng.integers(120, 4 * 365, n))
    start = -tenure
    zeros = np.zeros(n, np.int64)
    acc = _Accounts(
        n=n, ids=np.array([f"ACC-{k:06d}" for k in numbers.tolist()], dtype=object),
        names=np.array(names, dtype=object), domains=np.array(domains, dtype=object),
        industry=np.array(industries, dtype=object), seg=seg, plan=plan,
        tier=tier.astype(object), owner=_pick(rng, OWNERS, n, _OWNER_P), z=z, arr=arr,
        seats=seats, start=start, renewal=zeros.copy(), past_due=zeros.copy(), has_past=zeros > 0,
        churned=zeros > 0, end=zeros.copy(), activated=zeros.copy(), is_activated=zeros == 0,
        util0=np.clip(0.72 - 0.16 * z + rng.normal(0, 0.14, n), 0.08, 0.98),
        decline=np.clip(0.07 * (z - 0.3) + rng.normal(0, 0.03, n), 0, 0.3),
        onset=-rng.integers(30, 330, n), drop=zeros > 0, spike=zeros > 0,
        stick=np.clip(0.27 - 0.07 * z + rng.normal(0, 0.07, n), 0.03, 0.8),
        depth=np.clip(0.62 - 0.14 * z + rng.normal(0, 0.12, n), 0.1, 1.0),
    )  # fmt: skip
    _contract_dates(rng, acc, cal)
    _renewal_outcomes(rng, acc)
    _activation(rng, acc)
    acc.drop = ~acc.churned & (rng.random(n) < np.where(z > 1.0, 0.12, 0.02))
    acc.spike = ~acc.churned & (rng.random(n) < np.where(z > 1.0, 0.10, 0.02))
    return acc


def _contract_dates(rng: np.random.Generator, acc: _Accounts, cal: _Calendar) -> None:
    """Next anniversary (renewal date) and the last one, if it falls inside the usage year."""
    years = np.maximum(1, (-acc.start) // 365)
    nxt = cal.anniversary(acc.start, years)
    years = np.where(nxt <= 0, years + 1, years)
    acc.renewal = cal.anniversary(acc.start, years)
    last = cal.anniversary(acc.start, years - 1)
    lo, hi = PAST_RENEWAL_WINDOW
    acc.has_past = (years >= 2) & (last >= lo) & (last <= hi)
    acc.past_due = np.where(acc.has_past, last, 0)
    # the latent risk decides (noisily) who did not renew last time
    p_churn = _sigmoid(-1.5 + 1.2 * acc.z)
    acc.churned = acc.has_past & (acc.past_due <= -7) & (rng.random(acc.n) < p_churn)
    acc.end = np.where(acc.churned, acc.past_due, 0)
    acc.renewal = np.where(acc.churned, acc.past_due, acc.renewal)
    # churned accounts fade over the months before they leave
    lead = rng.integers(20, 150, acc.n)
    acc.onset = np.where(acc.churned, acc.past_due - lead, acc.onset)
    acc.decline = np.where(acc.churned, acc.decline + rng.uniform(0.0, 0.08, acc.n), acc.decline)


def _renewal_outcomes(rng: np.random.Generator, acc: _Accounts) -> None:
    """Outcome of the last renewal (expansions for healthy accounts, downgrades for risky)."""
    n = acc.n
    u = rng.random(n)
    p_expand = _sigmoid(-1.3 - 1.0 * acc.z)
    p_down = _sigmoid(-2.6 + 0.9 * acc.z)
    outcome = np.where(
        u < p_expand, "expanded", np.where(u < p_expand + p_down, "downgraded", "renewed")
    ).astype(object)
    outcome[acc.churned] = "churned"
    outcome[~acc.has_past] = None
    change = np.where(
        outcome == "expanded",
        rng.uniform(1.1, 1.5, n),
        np.where(outcome == "downgraded", rng.uniform(0.6, 0.9, n), 1.0),
    )
    acc.past_outcome = outcome
    acc.arr_before = np.round(acc.arr / change, -2)
    acc.arr = np.where(acc.churned, 0.0, acc.arr)


def _activation(rng: np.random.Generator, acc: _Accounts) -> None:
    """Time to first value; some new, riskier accounts have not activated by day 30."""
    ttv = np.round(np.exp(rng.normal(np.log(24), 0.45, acc.n))).astype(np.int64)
    stalled = (acc.z > 0.6) & (rng.random(acc.n) < 0.5)
    ttv = np.where(stalled, ttv + 60, ttv)
    acc.activated = acc.start + ttv
    acc.is_activated = acc.activated <= 0


def _usage(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> None:
    """Monthly snapshots: utilisation × decline × onboarding ramp, none after churn."""
    day = -30 * np.arange(USAGE_MONTHS)  # today, today−30, …
    idx = np.repeat(np.arange(acc.n), USAGE_MONTHS)
    d = np.tile(day, acc.n)
    keep = (d >= acc.start[idx]) & (~acc.churned[idx] | (d < acc.end[idx]))
    idx, d = idx[keep], d[keep]
    age = d - acc.start[idx]
    ramp = np.where(acc.activated[idx] <= d, np.clip(0.35 + age / 90.0, 0.35, 1.0), 0.12)
    level = acc.util0[idx] * acc.factor(idx, d) * ramp * np.exp(rng.normal(0, 0.05, len(idx)))
    level = np.where(acc.drop[idx] & (d == 0), level * rng.uniform(0.42, 0.62, len(idx)), level)
    seats = acc.seats[idx]
    mau = np.clip(np.round(seats * level), 0, seats).astype(np.int64)
    stick = np.clip(acc.stick[idx] + rng.normal(0, 0.02, len(idx)), 0.03, 0.85)
    dau = np.round(mau * stick, 1)
    logins = np.round(dau * 21 * rng.uniform(1.0, 1.6, len(idx))).astype(np.int64)
    total = np.array(_FEATURES_TOTAL)[acc.plan[idx]]
    depth = np.clip(acc.depth[idx] + rng.normal(0, 0.03, len(idx)), 0.1, 1.0)
    used = np.clip(np.round(total * depth * np.sqrt(level / acc.util0[idx])), 0, total)
    out.add("usage", _columns(
        acc.ids[idx], cal.dates(d), seats, mau, dau, mau, logins, used.astype(np.int64), total,
    ))  # fmt: skip


def _spread(
    rng: np.random.Generator, acc: _Accounts, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`counts[i]` random days in [lo[i], hi[i]] per account: (account positions, days)."""
    idx = np.repeat(np.arange(acc.n), counts)
    width = np.maximum(0, hi[idx] - lo[idx])
    return idx, lo[idx] + np.floor(rng.random(len(idx)) * (width + 1)).astype(np.int64)


def _active_window(acc: _Accounts) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of the past year on which each account was a customer."""
    lo = np.maximum(acc.start, -364)
    hi = np.where(acc.churned, acc.end - 1, 0)
    return lo, hi


def _tickets(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> dict:
    """Support tickets over the year, heavier and more severe for risky accounts; spikes."""
    lo, hi = _active_window(acc)
    years = (hi - lo + 1) / 365.0
    rate = (1.0 + acc.seats / 25.0) * np.exp(0.5 * acc.z) * years
    idx, day = _spread(rng, acc, rng.poisson(rate), lo, hi)
    burst = rng.poisson(4, acc.n) + 3
    s_idx, s_day = _spread(rng, acc, np.where(acc.spike, burst, 0), np.full(acc.n, -13), hi)
    idx, day = np.concatenate([idx, s_idx]), np.concatenate([day, s_day])
    order = np.lexsort((day, idx))
    idx, day = idx[order], day[order]
    m = len(idx)
    risky = acc.z[idx] > 1.0
    sev = (
        np.where(
            risky,
            rng.choice(4, m, p=(0.05, 0.2, 0.5, 0.25)),
            rng.choice(4, m, p=(0.015, 0.12, 0.5, 0.365)),
        )
        + 1
    )
    age = -day
    p_open = np.where(age <= 7, 0.6, np.where(age <= 21, 0.3, 0.0))
    still_open = rng.random(m) < p_open
    status = np.where(
        still_open,
        np.where(rng.random(m) < 0.7, "open", "pending"),
        np.where(rng.random(m) < 0.3, "solved", "closed"),
    ).astype(object)
    minute = rng.integers(7 * 60, 19 * 60, m)
    reply_min = np.round(np.array([45, 180, 600, 1400])[sev - 1] * rng.uniform(0.2, 1.5, m))
    fixed_days = np.round(np.array([1, 2, 4, 7])[sev - 1] * rng.uniform(0.3, 2.5, m))
    first = (minute + reply_min).astype(np.int64)
    first_day = day + first // 1440
    resolved_day = np.minimum(day + fixed_days.astype(np.int64), 0)
    resolved_min = np.where(
        resolved_day > day, rng.integers(8 * 60, 18 * 60, m), np.minimum(first % 1440 + 30, 1439)
    )
    ids = [f"T-{100000 + k}" for k in range(m)]
    out.add("tickets", _columns(
        ids, acc.ids[idx], _pick(rng, _TICKET_SUBJECTS, m), cal.stamps(day, minute), sev, status,
        _nullable(cal.stamps(np.minimum(first_day, 0), first % 1440), first_day <= 0),
        _nullable(cal.stamps(np.maximum(resolved_day, first_day.clip(max=0)), resolved_min), ~still_open,),
    ))  # fmt: skip
    open_high = np.bincount(idx[still_open & (sev <= 2)], minlength=acc.n)
    return {"open_high": open_high}


@dataclass
class _People:
    """Contacts' positions, so responses can name the person who answered."""

    first: np.ndarray  # position of each account's first contact in `ids`
    count: np.ndarray
    ids: np.ndarray
    has_sponsor: np.ndarray
    sponsor_left: np.ndarray


def _contacts(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> _People:
    """Champion, executive sponsor, admin and users per account; some recent departures."""
    n = acc.n
    has_sponsor = (acc.seg > 0) | (rng.random(n) < 0.6)
    has_admin = acc.seg > 0
    users = rng.integers(1, 3, n) + 2 * acc.seg
    slots = {"champion": np.ones(n, bool), "sponsor": has_sponsor, "admin": has_admin}
    idx_parts, role_parts = [], []
    for role, present in slots.items():
        idx_parts.append(np.flatnonzero(present))
        role_parts.append(np.full(int(present.sum()), role, dtype=object))
    idx_parts.append(np.repeat(np.arange(n), users))
    role_parts.append(np.full(int(users.sum()), "user", dtype=object))
    idx, role = np.concatenate(idx_parts), np.concatenate(role_parts)
    order = np.argsort(idx, kind="stable")
    idx, role = idx[order], role[order]
    m = len(idx)
    count = np.bincount(idx, minlength=n)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    slot = np.arange(m) - first[idx]
    ids = np.array(
        [
            f"CT-{a[4:]}-{k + 1:02d}"
            for a, k in zip(acc.ids[idx].tolist(), slot.tolist(), strict=True)
        ],
        dtype=object,
    )
    firsts, lasts = _pick(rng, _FIRST, m), _pick(rng, _LAST, m)
    names = firsts + " " + lasts
    emails = [
        f"{f.lower()}.{la.lower()}@{d}"
        for f, la, d in zip(firsts.tolist(), lasts.tolist(), acc.domains[idx].tolist(), strict=True)
    ]
    titles = np.empty(m, dtype=object)
    for key, options in _TITLES.items():
        mask = role == key
        titles[mask] = _pick(rng, options, int(mask.sum()))
    mood = -acc.z[idx] + rng.normal(0, 0.9, m)
    sentiment = np.where(mood > 0.4, "positive", np.where(mood < -0.9, "negative", "neutral"))
    left_on = _departures(rng, acc, idx, role)
    out.add("contacts", _columns(
        ids, acc.ids[idx], names, emails, titles, role, sentiment.astype(object),
        (left_on == 1).astype(np.int64),
        _nullable(cal.dates(np.minimum(left_on, 0)), left_on <= 0),
    ))  # fmt: skip
    sponsor_left = np.zeros(n, bool)
    sponsor_left[idx[(role == "sponsor") & (left_on <= 0)]] = True
    return _People(first, count, ids, has_sponsor, sponsor_left)


def _departures(
    rng: np.random.Generator, acc: _Accounts, idx: np.ndarray, role: np.ndarray
) -> np.ndarray:
    """Day a champion or sponsor left (≤ 0), or 1 for people still there."""
    m = len(idx)
    key = (role == "champion") | (role == "sponsor")
    risky = acc.z[idx] > 0.8
    p = np.where(acc.churned[idx], 0.2, np.where(risky, 0.10, 0.03))
    left = key & (rng.random(m) < p) & (acc.start[idx] < -120)
    when = np.where(
        acc.churned[idx], acc.end[idx] - rng.integers(30, 150, m), -rng.integers(3, 150, m)
    )
    when = np.maximum(when, acc.start[idx] + 60)
    return np.where(left, when, 1)


def _responses(
    rng: np.random.Generator, acc: _Accounts, people: _People, cal: _Calendar, out: _Tables
) -> None:
    """NPS (0–10) and CSAT (1–5) answers whose scores fall with risk and with the decline."""
    lo, hi = _active_window(acc)
    years = (hi - lo + 1) / 365.0
    strategic = acc.tier == "Strategic"
    n_idx, n_day = _spread(rng, acc, rng.poisson((1.3 + strategic) * years), lo, hi)
    c_idx, c_day = _spread(rng, acc, rng.poisson(1.6 * years), lo, hi)
    parts = []
    for kind, idx, day in (("nps", n_idx, n_day), ("csat", c_idx, c_day)):
        m = len(idx)
        fade = 1.0 - acc.factor(idx, day)
        if kind == "nps":
            score = np.clip(
                np.round(7.9 - 1.3 * acc.z[idx] - 9 * fade + rng.normal(0, 1.6, m)), 0, 10
            )
            group = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
            comment = np.empty(m, dtype=object)
            for g, options in _NPS_COMMENTS.items():
                mask = group == g
                comment[mask] = _pick(rng, options, int(mask.sum()))
            comment[rng.random(m) < 0.35] = None
        else:
            score = np.clip(
                np.round(4.3 - 0.45 * acc.z[idx] - 3 * fade + rng.normal(0, 0.6, m)), 1, 5
            )
            comment = _pick(rng, _CSAT_COMMENTS, m)
            comment[comment == ""] = None
        who = people.first[idx] + np.floor(rng.random(m) * people.count[idx]).astype(np.int64)
        parts.append((idx, day, np.full(m, kind, dtype=object), score, comment, people.ids[who]))
    idx, day, kind, score, comment, contact = (np.concatenate(c) for c in zip(*parts, strict=True))
    order = np.lexsort((day, idx))
    ids = [f"NPS-{k + 1:07d}" for k in range(len(idx))]
    out.add("responses", _columns(
        ids, acc.ids[idx[order]], contact[order], cal.dates(day[order]), kind[order], score[order],
        comment[order],
    ))  # fmt: skip


def _events(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> np.ndarray:
    """Calls, meetings, e-mails, notes and QBRs; returns each account's last-touch day."""
    lo, hi = _active_window(acc)
    strategic, scale = acc.tier == "Strategic", acc.tier == "Scale"
    gap_mean = np.where(strategic, 10, np.where(scale, 45, 25)) * np.exp(0.7 * acc.z)
    last = np.clip(hi - np.round(rng.exponential(gap_mean)).astype(np.int64), lo, hi)
    per_year = np.where(strategic, 18, np.where(scale, 5, 10))
    count = rng.poisson(per_year * (last - lo + 1) / 365.0)
    idx, day = _spread(rng, acc, count, lo, last)
    idx = np.concatenate([idx, np.arange(acc.n)])  # the last touch itself
    day = np.concatenate([day, last])
    m = len(idx)
    p_qbr = np.where(strategic, 0.2, np.where(scale, 0.03, 0.12))[idx]
    kind = np.where(
        rng.random(m) < p_qbr,
        "qbr",
        _pick(rng, ("call", "email", "meeting", "note"), m, (0.3, 0.37, 0.16, 0.17)),
    )
    text = np.empty(m, dtype=object)
    for key, options in _EVENT_TEXTS.items():
        mask = kind == key
        text[mask] = _pick(rng, options, int(mask.sum()))
    minute = rng.integers(8 * 60, 17 * 60, m)
    minute[m - acc.n :] = LAST_TOUCH_MINUTE  # so the last touch is the day's latest event
    kind, author = kind.astype(object), acc.owner[idx]
    closed = np.flatnonzero(acc.has_past)
    sys_day = np.minimum(acc.past_due[closed] + 1, 0)
    sys_text = np.array(
        [f"Renewal closed: {o}." for o in acc.past_outcome[closed].tolist()], dtype=object
    )
    idx = np.concatenate([idx, closed])
    day = np.concatenate([day, sys_day])
    minute = np.concatenate([minute, np.full(len(closed), 9 * 60)])
    kind = np.concatenate([kind, np.full(len(closed), "system", dtype=object)])
    text = np.concatenate([text, sys_text])
    author = np.concatenate([author, np.full(len(closed), None, dtype=object)])
    order = np.lexsort((minute, day, idx))
    ids = [f"EV-{k + 1:08d}" for k in range(len(idx))]
    out.add("events", _columns(
        ids, acc.ids[idx[order]], cal.stamps(day[order], minute[order]), kind[order], text[order],
        author[order],
    ))  # fmt: skip
    return last


def _objectives(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> None:
    """Success-plan objectives; progress lags for risky accounts."""
    per = np.where(acc.tier == "Strategic", 3, np.where(acc.tier == "Core", 2, 1))
    count = np.where(acc.churned, 0, rng.integers(0, per + 1))
    idx = np.repeat(np.arange(acc.n), count)
    m = len(idx)
    pick = rng.integers(0, len(_OBJECTIVES), m)
    title, unit, base, target = (
        np.array(c, dtype=object)[pick] for c in zip(*_OBJECTIVES, strict=True)
    )
    base, target = base.astype(float), target.astype(float)
    begin = np.maximum(acc.start[idx], -330)
    due = begin + rng.integers(120, 420, m)
    elapsed = np.clip(-begin / np.maximum(due - begin, 1), 0, 1)
    progress = np.clip(elapsed * (1.1 - 0.35 * acc.z[idx]) + rng.normal(0, 0.2, m), 0, 1.2)
    current = np.round(base + np.minimum(progress, 1) * (target - base), 1)
    status = np.where(
        progress >= 1,
        "done",
        np.where(
            progress < elapsed - 0.35,
            "off_track",
            np.where(progress < elapsed - 0.15, "at_risk", "on_track"),
        ),
    ).astype(object)
    ids = [f"OB-{k + 1:07d}" for k in range(m)]
    out.add(
        "objectives",
        _columns(ids, acc.ids[idx], title, base, target, current, unit, cal.dates(due), status),
    )


def _renewals(rng: np.random.Generator, acc: _Accounts, cal: _Calendar, out: _Tables) -> None:
    """One open renewal per active account; the last year's renewal with its outcome."""
    live = np.flatnonzero(~acc.churned)
    z = acc.z[live]
    call = np.where(
        z + rng.normal(0, 0.6, len(live)) < -0.2, "commit", np.where(z < 0.9, "likely", "at_risk")
    ).astype(object)
    call[(acc.renewal[live] > 90) | (rng.random(len(live)) < 0.2)] = None
    due = acc.renewal[live]
    out.add("renewals", _columns(
        [ f"RN-{a[4:]}-{d[:4]}" for a, d in zip(acc.ids[live].tolist(), cal.dates(due).tolist(), strict=True) ],
        acc.ids[live], cal.dates(due), acc.arr[live], [None] * len(live), call, [None] * len(live),
        [None] * len(live),
    ))  # fmt: skip
    past = np.flatnonzero(acc.has_past)
    outcome = acc.past_outcome[past]
    arr_after = np.where(outcome == "churned", 0.0, acc.arr[past])
    fear = acc.z[past] + rng.normal(0, 0.8, len(past))
    past_call = np.where(fear < -0.3, "commit", np.where(fear < 0.8, "likely", "at_risk"))
    past_call = np.where((outcome == "churned") & (fear > 1.2), "lost", past_call).astype(object)
    closed = np.minimum(acc.past_due[past] + rng.integers(-25, 4, len(past)), -1)
    out.add("renewals", _columns(
        [ f"RN-{a[4:]}-{d[:4]}" for a, d in zip(acc.ids[past].tolist(), cal.dates(acc.past_due[past]).tolist(), strict=True) ],
        acc.ids[past], cal.dates(acc.past_due[past]), acc.arr_before[past], arr_after, past_call,
        outcome, cal.dates(closed),
    ))  # fmt: skip


def _account_rows(
    rng: np.random.Generator,
    acc: _Accounts,
    people: _People,
    extra: dict,
    last_touch: np.ndarray,
    cal: _Calendar,
    out: _Tables,
) -> None:
    """The accounts themselves, once the signals they summarise are known."""
    n = acc.n
    age = -acc.start
    stage = np.where(
        acc.churned,
        "churned",
        np.where(
            age < 90,
            "onboarding",
            np.where(acc.renewal <= 90, "renewal", np.where(age < 365, "adoption", "growth")),
        ),
    )
    pct = np.clip(np.round(age / 90 * 100 * (1.05 - 0.15 * acc.z) + rng.normal(0, 5, n)), 5, 100)
    pct = np.where(
        acc.is_activated, np.where(age < 90, np.maximum(pct, 60), 100), np.minimum(pct, 45)
    )
    engaged = (acc.z + rng.normal(0, 1.0, n) < 0.6) & ~people.sponsor_left
    sponsor = np.where(people.has_sponsor, engaged.astype(np.int64), -1)
    escalations = np.where(rng.random(n) < 0.6, np.minimum(extra["open_high"], 2), 0)
    region = _pick(rng, REGIONS, n, _REGION_P)
    contract = np.where(rng.random(n) < 0.2, "Multi-year", "Annual")
    custom = [
        f'{{"region": "{r}", "contract_type": "{c}"}}'
        for r, c in zip(region.tolist(), contract.tolist(), strict=True)  # plain words
    ]
    created = cal.stamps(acc.start, np.full(n, 9 * 60))
    out.add("accounts", _columns(
        acc.ids, acc.names, np.array(SEGMENTS, dtype=object)[acc.seg], acc.tier, acc.owner,
        acc.industry, acc.arr, np.array(PLANS, dtype=object)[acc.plan], stage.astype(object),
        cal.dates(acc.start), cal.dates(acc.renewal),
        np.where(acc.churned, "churned", "active").astype(object), acc.seats, pct.astype(float),
        _nullable(cal.dates(np.minimum(acc.activated, 0)), acc.is_activated),
        _nullable(sponsor, sponsor >= 0), escalations, custom,
        cal.stamps(last_touch, np.full(n, LAST_TOUCH_MINUTE)), created, created,
    ))  # fmt: skip


@dataclass(frozen=True)
class PlantedAccount:
    """A hand-designed account placed at the start of every demo book (see `PLANTED`).

    Days are relative to today (negative = past). `usage` is seat utilisation per month,
    newest first (today, today−30, …); tickets are (day, severity, status), responses
    (day, score, comment), contacts' departures are days or None.
    """

    name: str
    situation: str  # the alert situation it demonstrates
    industry: str
    segment: int
    plan: int
    tier: str
    arr: float
    seats: int
    start: int
    usage: tuple[float, ...]
    tickets: tuple[tuple[int, int, str], ...] = ()
    nps: tuple[tuple[int, int, str | None], ...] = ()
    csat: tuple[tuple[int, int, str | None], ...] = ()
    champion_left: int | None = None
    sponsor_left: int | None = None
    sponsor_engaged: int | None = 1
    activated_after: int | None = 20
    onboarding_pct: float = 100.0
    last_touch: int = -10
    csm_call: str | None = None
    past_outcome: str = "renewed"
    churned_on: int | None = None
    escalations: int = 0
    objectives: tuple[tuple[str, str, float, float, float, int, str], ...] = ()


_STEADY = (0.86, 0.85, 0.87, 0.84, 0.86, 0.85, 0.83, 0.86, 0.84, 0.85, 0.83, 0.84)

#: The hand-designed accounts, ACC-000001 onwards, one per alert situation of the spec.
PLANTED: tuple[PlantedAccount, ...] = (
    PlantedAccount(
        "Northwind Logistics",
        "score drop, band worsening, MAU down, open sev-1, detractor, champion left",
        "Logistics",
        1,
        1,
        "Core",
        84_000.0,
        150,
        -2 * 365 - 215,
        (0.38,) + _STEADY[1:],
        tickets=(
            (-200, 3, "closed"),
            (-120, 4, "closed"),
            (-9, 2, "open"),
            (-6, 3, "open"),
            (-3, 1, "open"),
            (-2, 2, "pending"),
        ),
        nps=(
            (-270, 9, "Our team relies on it every day."),
            (-2, 3, "Evaluating alternatives after the last incident."),
        ),
        csat=((-100, 5, "Quick resolution, thanks."),),
        champion_left=-4,
        last_touch=-25,
        escalations=1,
        objectives=(("Cut time to first response", "hours", 8.0, 2.0, 3.0, 60, "on_track"),),
    ),
    PlantedAccount(
        "Bluepeak Health",
        "executive sponsor left; renewal in 45 days and not green",
        "Healthcare",
        2,
        2,
        "Strategic",
        310_000.0,
        480,
        45 - 3 * 365,
        (0.55, 0.58, 0.6, 0.63, 0.66, 0.68, 0.7, 0.72, 0.73, 0.74, 0.75, 0.76),
        tickets=((-150, 3, "closed"), (-80, 2, "closed"), (-30, 3, "solved"), (-12, 3, "open")),
        nps=((-180, 8, None), (-35, 7, "Good product, a few features missing.")),
        sponsor_left=-20,
        sponsor_engaged=0,
        last_touch=-18,
        csm_call="at_risk",
        objectives=(("Roll out to all regional teams", "teams", 1.0, 6.0, 3.0, 40, "at_risk"),),
    ),
    PlantedAccount(
        "Cedar Ridge Retail",
        "onboarding not activated by day 30",
        "Retail",
        0,
        0,
        "Scale",
        9_600.0,
        22,
        -45,
        (0.14, 0.12),
        nps=(),
        activated_after=None,
        onboarding_pct=35.0,
        last_touch=-12,
        sponsor_engaged=None,
    ),
    PlantedAccount(
        "Summit Analytics",
        "expansion signal: green, seats ≥ 90 % used, NPS 9+",
        "Software",
        1,
        1,
        "Core",
        32_400.0,
        60,
        200 - 2 * 365,
        (0.97, 0.95, 0.95, 0.93, 0.92, 0.9, 0.9, 0.88, 0.88, 0.86, 0.85, 0.85),
        tickets=((-140, 4, "closed"), (-60, 3, "closed")),
        nps=(
            (-200, 9, "Saved us hours every week on reporting."),
            (-20, 10, "Would recommend to any ops team."),
        ),
        csat=((-60, 5, "Agent was very helpful."),),
        last_touch=-5,
        past_outcome="expanded",
        objectives=(
            ("Raise first-contact resolution", "%", 55.0, 75.0, 76.0, -20, "done"),
            ("Train all agents", "agents", 0.0, 25.0, 22.0, 45, "on_track"),
        ),
    ),
    PlantedAccount(
        "Harborview Clinics",
        "ticket spike: 7 tickets in 14 days vs about 1 a month",
        "Healthcare",
        1,
        1,
        "Core",
        58_000.0,
        110,
        260 - 365,
        (0.78, 0.77, 0.79, 0.76, 0.78, 0.77, 0.75, 0.76, 0.74, 0.72, 0.7, 0.68),
        tickets=tuple((-30 * k - 5, 3 + k % 2, "closed") for k in range(1, 10))
        + (
            (-12, 2, "solved"),
            (-10, 3, "open"),
            (-8, 3, "open"),
            (-6, 2, "pending"),
            (-4, 3, "open"),
            (-2, 3, "open"),
            (-1, 2, "open"),
        ),
        nps=((-90, 8, "Support is helpful but slow at times."),),
        last_touch=-14,
    ),
    PlantedAccount(
        "Ironclad Manufacturing",
        "red, renewing in 20 days",
        "Manufacturing",
        2,
        2,
        "Strategic",
        265_000.0,
        400,
        20 - 2 * 365,
        (0.30, 0.36, 0.42, 0.5, 0.57, 0.64, 0.7, 0.72, 0.74, 0.75, 0.75, 0.76),
        tickets=(
            (-160, 2, "closed"),
            (-95, 2, "closed"),
            (-50, 3, "closed"),
            (-33, 2, "solved"),
            (-15, 2, "open"),
        ),
        nps=((-220, 7, None), (-40, 4, "We are not seeing the value we expected.")),
        csat=((-33, 2, "Took too long to get an answer."),),
        sponsor_engaged=0,
        last_touch=-70,
        csm_call="at_risk",
        escalations=1,
        objectives=(
            ("Reduce average handle time", "min", 12.0, 8.0, 11.5, -10, "off_track"),
            ("Knowledge articles live", "articles", 0.0, 25.0, 6.0, 15, "off_track"),
        ),
    ),
    PlantedAccount(
        "Brightline Software",
        "green and an advocate (NPS 10)",
        "Software",
        0,
        1,
        "Core",
        36_000.0,
        70,
        100 - 3 * 365,
        _STEADY,
        tickets=((-110, 4, "closed"),),
        nps=((-150, 9, None), (-15, 10, "Great support and a product that just works.")),
        last_touch=-8,
        objectives=(("Increase self-service resolution", "%", 20.0, 45.0, 41.0, 60, "on_track"),),
    ),
    PlantedAccount(
        "Oldfield Media",
        "churned 40 days ago",
        "Media",
        0,
        0,
        "Scale",
        14_400.0,
        34,
        -40 - 2 * 365,
        (0.0, 0.0, 0.25, 0.33, 0.41, 0.5, 0.58, 0.64, 0.7, 0.72, 0.74, 0.75),
        tickets=((-150, 2, "closed"), (-100, 2, "closed"), (-70, 3, "closed")),
        nps=((-120, 4, "Too expensive for what we use."),),
        champion_left=-110,
        sponsor_engaged=0,
        last_touch=-75,
        past_outcome="churned",
        churned_on=-40,
    ),
    PlantedAccount(
        "Juniper Robotics",
        "brand new: too little data to score",
        "Manufacturing",
        1,
        1,
        "Core",
        48_000.0,
        90,
        -5,
        (),
        activated_after=None,
        onboarding_pct=10.0,
        last_touch=-3,
    ),
    PlantedAccount(
        "Maple Grove Foods",
        "detractor NPS on an otherwise healthy account",
        "Food & Beverage",
        0,
        1,
        "Core",
        27_000.0,
        55,
        230 - 365,
        _STEADY,
        tickets=((-75, 4, "closed"),),
        nps=((-160, 8, None), (-6, 4, "Too expensive for what we use.")),
        last_touch=-9,
    ),
)


def _plant(p: PlantedAccount, number: int, cal: _Calendar, out: _Tables) -> bool:
    """Write one hand-designed account and its history; returns whether it is churned."""
    acc_id = f"ACC-{number:06d}"
    start = np.array([p.start])
    years = max(1, -p.start // 365)
    if cal.anniversary(start, np.array([years]))[0] <= 0:
        years += 1
    renewal = int(cal.anniversary(start, np.array([years]))[0])
    last = int(cal.anniversary(start, np.array([years - 1]))[0])  # the start if years == 1
    churned = p.churned_on is not None
    _plant_usage(p, acc_id, cal, last if churned else 1, out)
    _plant_people(p, acc_id, number, cal, out)
    _plant_activity(p, acc_id, number, cal, out)
    lo, hi = PAST_RENEWAL_WINDOW
    if years >= 2 and lo <= last <= hi:
        _plant_renewal(p, acc_id, cal, last, p.past_outcome, out)
    if not churned:
        _plant_renewal(p, acc_id, cal, renewal, None, out)
    _plant_account(p, acc_id, cal, last if churned else renewal, churned, out)
    return churned


def _plant_renewal(
    p: PlantedAccount, acc_id: str, cal: _Calendar, due: int, outcome: str | None, out: _Tables
) -> None:
    """A closed renewal (with its outcome) or the open upcoming one (outcome None)."""
    rn_id = f"RN-{acc_id[4:]}-{cal.iso(due)[:4]}"
    if outcome is None:
        row = (rn_id, acc_id, cal.iso(due), p.arr, None, p.csm_call, None, None)
    else:
        before = p.arr / 1.25 if outcome == "expanded" else p.arr
        after = 0.0 if outcome == "churned" else p.arr
        row = (rn_id, acc_id, cal.iso(due), before, after, "likely", outcome, cal.iso(min(due, -1)))
    out.add("renewals", [row])


def _plant_account(
    p: PlantedAccount, acc_id: str, cal: _Calendar, due: int, churned: bool, out: _Tables
) -> None:
    age = -p.start
    if churned:
        stage = "churned"
    elif age < 90:
        stage = "onboarding"
    else:
        stage = "renewal" if due <= 90 else "adoption" if age < 365 else "growth"
    activated = None if p.activated_after is None else cal.iso(p.start + p.activated_after)
    created = f"{cal.iso(p.start)}T09:00:00"
    touch = f"{cal.iso(p.last_touch)}T{LAST_TOUCH_MINUTE // 60:02d}:{LAST_TOUCH_MINUTE % 60:02d}:00"
    custom = json.dumps({"region": "North America", "contract_type": "Annual"})
    out.add("accounts", [(
        acc_id, p.name, SEGMENTS[p.segment], p.tier, BOOK_OWNER, p.industry,
        0.0 if churned else p.arr, PLANS[p.plan], stage, cal.iso(p.start), cal.iso(due),
        "churned" if churned else "active", p.seats, p.onboarding_pct, activated,
        p.sponsor_engaged, p.escalations, custom, touch, created, created,
    )])  # fmt: skip


def _plant_usage(p: PlantedAccount, acc_id: str, cal: _Calendar, end: int, out: _Tables) -> None:
    total = _FEATURES_TOTAL[p.plan]
    top = max(p.usage, default=1.0) or 1.0
    for month, share in enumerate(p.usage):
        day = -30 * month
        if day < p.start or day >= end:
            continue
        mau = round(p.seats * share)
        dau = round(mau * 0.45, 1)
        used = round(total * 0.8 * (share / top) ** 0.5)
        out.add(
            "usage", [(acc_id, cal.iso(day), p.seats, mau, dau, mau, round(dau * 24), used, total)]
        )


def _plant_people(
    p: PlantedAccount, acc_id: str, number: int, cal: _Calendar, out: _Tables
) -> None:
    domain = p.name.split()[0].lower() + ".com"
    people = [
        ("champion", "Dana Fischer", "Support Manager", p.champion_left),
        ("sponsor", "Robert Okafor", "VP Operations", p.sponsor_left),
        ("user", "Lina Park", "Team Lead", None),
        ("user", "Tom Reyes", "Analyst", None),
    ]
    if p.champion_left is not None:
        people.append(("user", "Chris Novak", "Operations Specialist", None))
    for k, (role, name, title, left) in enumerate(people, 1):
        first, last = name.lower().split()
        out.add(
            "contacts",
            [
                (
                    f"CT-{number:06d}-{k:02d}",
                    acc_id,
                    name,
                    f"{first}.{last}@{domain}",
                    title,
                    role,
                    "negative" if left else "positive",
                    0 if left else 1,
                    None if left is None else cal.iso(left),
                )
            ],
        )
    answers = [(d, "nps", s, c) for d, s, c in p.nps] + [(d, "csat", s, c) for d, s, c in p.csat]
    for k, (day, kind, score, comment) in enumerate(sorted(answers), 1):
        out.add(
            "responses",
            [
                (
                    f"NPS-P{number:03d}-{k:02d}",
                    acc_id,
                    f"CT-{number:06d}-03",
                    cal.iso(day),
                    kind,
                    float(score),
                    comment,
                )
            ],
        )


def _plant_activity(
    p: PlantedAccount, acc_id: str, number: int, cal: _Calendar, out: _Tables
) -> None:
    """Tickets, timeline (the last touch at 17:30 like the generated ones) and objectives."""
    for k, (day, severity, status) in enumerate(sorted(p.tickets), 1):
        closed = status in ("solved", "closed")
        resolved = f"{cal.iso(min(day + 2, 0))}T16:00:00" if closed else None
        subject = _TICKET_SUBJECTS[(number + k) % len(_TICKET_SUBJECTS)]
        out.add("tickets", [(f"T-P{number:03d}-{k:02d}", acc_id, subject, f"{cal.iso(day)}T10:00:00",
                             severity, status, f"{cal.iso(day)}T11:00:00", resolved)])  # fmt: skip
    touches = sorted({p.last_touch, p.last_touch - 30, p.last_touch - 75, p.last_touch - 160})
    kinds = ("qbr", "email", "meeting", "call")
    for k, day in enumerate(t for t in touches if t >= p.start):
        at = f"{cal.iso(day)}T{'17:30' if day == p.last_touch else '11:00'}:00"
        kind = kinds[k % 4]
        out.add("events", [(f"EV-P{number:03d}-{k + 1:02d}", acc_id, at, kind,
                            _EVENT_TEXTS[kind][0], BOOK_OWNER)])  # fmt: skip
    for k, (title, unit, base, target, current, due, status) in enumerate(p.objectives, 1):
        out.add("objectives", [(f"OB-P{number:03d}-{k:02d}", acc_id, title, base, target,
                                current, unit, cal.iso(due), status)])  # fmt: skip


def build_demo_tables(accounts: int, seed: int, today: date) -> tuple[dict[str, list[tuple]], int]:
    """Every row of a demo book (rows per table, in `TABLE_COLS` order) and the churned count.

    Pure: the same arguments always give the same rows.
    """
    rng = np.random.default_rng(seed)
    cal = _Calendar(today)
    out = _Tables()
    planted = PLANTED[:accounts]
    churned = sum(_plant(p, k, cal, out) for k, p in enumerate(planted, 1))
    numbers = np.arange(len(planted) + 1, accounts + 1)
    if len(numbers):
        acc = _draw_accounts(rng, numbers, cal, {p.name for p in PLANTED})
        _usage(rng, acc, cal, out)
        extra = _tickets(rng, acc, cal, out)
        people = _contacts(rng, acc, cal, out)
        _responses(rng, acc, people, cal, out)
        last_touch = _events(rng, acc, cal, out)
        _objectives(rng, acc, cal, out)
        _renewals(rng, acc, cal, out)
        _account_rows(rng, acc, people, extra, last_touch, cal, out)
        churned += int(acc.churned.sum())
    return out.rows, churned


def generate_demo(
    book,
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    score: DemoScorer | None = None,
) -> DemoSummary:
    """Fill `book` with a demo book of `accounts` accounts (one transaction), then score it.

    Refuses a book that already has accounts unless `force`, which replaces all of its data
    (playbook templates stay). `score(book, as_of, history_only)` — the scoring engine's full
    rescore, passed in by a higher layer (storage never imports scoring) — runs inside the same
    transaction for each health-history date and then for today; without it the book is
    written unscored.
    """
    from csm_tui import clock

    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise UsageError(f"--accounts must be between 1 and {MAX_ACCOUNTS:,} (got {accounts:,}).")
    today = today or clock.today()
    existing = int(book.scalar("SELECT count(*) FROM accounts") or 0)
    if existing and not force:
        raise UsageError(
            f"{book.path}: this book already has {existing:,} accounts, and csm demo only "
            "writes into an empty book. Choose another file with --db, or add --force to "
            "replace everything in this book with demo data."
        )
    rows, churned = build_demo_tables(accounts, seed, today)
    passes = len(history_dates(today, accounts)) + 1 if score else 0
    steps = _Steps(progress, sum(len(r) for r in rows.values()), accounts, passes)
    with book.write(durable=False):  # data and health history: all of it or none of it
        _write(book, rows, seed=seed, today=today, clear=bool(existing), steps=steps)
        if score:
            _compute_health(book, today, steps, score)
    return DemoSummary(
        path=Path(book.path),
        accounts=accounts,
        churned=churned,
        rows={table: len(r) for table, r in rows.items()},
        seed=seed,
        today=today,
        rescored=score is not None,
    )


_WRITE_CHUNK = 50_000


class _Steps:
    """One progress count for the whole run: rows written, then accounts scored per as-of date."""

    def __init__(self, progress: ProgressFn | None, rows: int, accounts: int, passes: int):
        self.progress = progress
        self.done = 0
        self.total = rows + accounts * passes

    def advance(self, count: int) -> None:
        """Count `count` more units of work done."""
        self.done += count
        if self.progress:
            self.progress(min(self.done, self.total), self.total)


def _write(
    book, rows: dict[str, list[tuple]], *, seed: int, today: date, clear: bool, steps: _Steps
) -> None:
    """Insert every row (inside the caller's transaction)."""
    with book.write(durable=False) as conn:
        if clear:  # children, scores, alerts, plans and tasks go with their account
            conn.execute("DELETE FROM accounts")
        with _search_index_rebuilt_after(conn):
            for table, cols in TABLE_COLS.items():
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                )
                batch = rows[table]
                for begin in range(0, len(batch), _WRITE_CHUNK):
                    chunk = batch[begin : begin + _WRITE_CHUNK]
                    conn.executemany(sql, chunk)
                    steps.advance(len(chunk))
        conn.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [
                ("book_name", f"Demo book — {BOOK_OWNER}"),
                ("demo_seed", str(seed)),
                ("demo_today", today.isoformat()),
                ("book_owner", BOOK_OWNER),
            ],
        )


@contextmanager
def _search_index_rebuilt_after(conn) -> Iterator[None]:
    """Bulk-load without the per-row search-index trigger, then rebuild the index in one go.

    Three times faster for the accounts table; the trigger is restored from its own stored
    SQL, inside the same transaction, so the schema is exactly as before.
    """
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_FTS_INSERT_TRIGGER,)
    ).fetchone()
    if row is None:  # a schema without the trigger: nothing to speed up
        yield
        return
    conn.execute(f"DROP TRIGGER {_FTS_INSERT_TRIGGER}")
    yield
    conn.execute(row[0])
    conn.execute("INSERT INTO accounts_fts(accounts_fts) VALUES ('rebuild')")


_FTS_INSERT_TRIGGER = "accounts_fts_ai"


def _compute_health(book, today: date, steps: _Steps, score: DemoScorer) -> None:
    """Score the new book and backfill its health history, inside the caller's transaction."""
    accounts = int(book.scalar("SELECT count(*) FROM accounts"))
    for as_of in history_dates(today, accounts):
        score(book, as_of, True)
        steps.advance(accounts)
    score(book, today, False)
    steps.advance(accounts)


def history_dates(today: date, accounts: int = 0) -> list[date]:
    """As-of dates for the health history: monthly over the past year, and 7 days ago.

    Books over FULL_HISTORY_MAX_ACCOUNTS get 30 and 7 days ago only (deltas and alerts work;
    trend plots fill in day by day), so that even 100,000 accounts take about a minute.
    """
    if accounts > FULL_HISTORY_MAX_ACCOUNTS:
        return [today - timedelta(days=30), today - timedelta(days=7)]
    monthly = {today - timedelta(days=30 * k) for k in range(1, USAGE_MONTHS)}
    return sorted(monthly | {today - timedelta(days=7)})
