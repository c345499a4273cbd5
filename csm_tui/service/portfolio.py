"""The portfolio, read from SQLite one window at a time (never the whole book into memory).

A `PortfolioQuery` says which accounts (text filter, quick filters) in which order; a
`PortfolioPager` answers `rows(offset, limit)` and `total()` for it. Every order is a list of
*segments* — e.g. "red accounts with a renewal date, by renewal date", then "red accounts with
none", then yellow… — each one an indexed `ORDER BY … LIMIT/OFFSET`, so the first window of a
million-account book needs no COUNT and no sort of the whole table. Segment sizes are counted
only when a window lies past them, and cached for the pager's life.

The text filter: each token of 3+ characters is a substring MATCH on the FTS5 trigram index
`accounts_fts`; shorter tokens are LIKE filters over the rows already narrowed (or, when no
token is long enough, a name-prefix search on the NOCASE name index).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from csm_tui.clock import today
from csm_tui.storage.db import Book

#: Sort keys → the indexed SQL expression they order by.
SORT_COLUMNS: dict[str, str] = {
    "name": "name COLLATE NOCASE",
    "tier": "tier",
    "owner": "owner",
    "arr": "arr",
    "health": "health_score",
    "churn": "churn_prob",
    "renewal": "renewal_date",
    "touch": "last_touch_at",
}
#: The default order (SPEC's morning story): worst band first, soonest renewal first.
DEFAULT_SORT = "priority"
BAND_ORDER = ("red", "yellow", "insufficient", "green")
BANDS = ("red", "yellow", "green")
RENEWAL_WINDOWS = (30, 60, 90)
#: A filter token shorter than this cannot use the trigram index.
TRIGRAM = 3
#: Up to this many accounts a LIKE scan for a 1–2 letter token answers within a keystroke.
SMALL_BOOK = 100_000

_COLUMNS = (
    "rowid, id, name, tier, owner, arr, health_score, health_band, health_delta_7, "
    "churn_prob, risk_segment, renewal_date, last_touch_at, status"
)


@dataclass(frozen=True)
class PortfolioQuery:
    """Which accounts the portfolio shows, and in what order. Immutable: a change is a new one."""

    text: str = ""
    bands: frozenset[str] = frozenset()
    renewing_within: int | None = None
    high_risk: bool = False
    expansion: bool = False
    advocates: bool = False
    stage: str | None = None
    include_churned: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False

    def with_band(self, band: str) -> PortfolioQuery:
        """Toggle one health band in the band filter."""
        return replace(self, bands=self.bands ^ {band})

    def describe(self) -> str:
        """The active filters in words, for the filter bar ("red · renewing ≤ 90 d")."""
        parts = [*sorted(self.bands, key=BAND_ORDER.index)]
        if self.renewing_within:
            parts.append(f"renewing ≤ {self.renewing_within} d")
        parts += [label for flag, label in self._flags() if flag]
        if self.stage:
            parts.append(f"stage {self.stage}")
        if self.text.strip():
            parts.append(f"“{self.text.strip()}”")
        return " · ".join(parts)

    def _flags(self) -> list[tuple[bool, str]]:
        return [
            (self.high_risk, "high risk"),
            (self.expansion, "expansion candidates"),
            (self.advocates, "case-study candidates"),
            (self.include_churned, "incl. churned"),
        ]


@dataclass(frozen=True)
class PortfolioRow:
    """One account as the portfolio table shows it."""

    id: str
    name: str
    tier: str | None
    owner: str | None
    arr: float
    health_score: float | None
    health_band: str | None
    health_delta_7: float | None
    churn_prob: float | None
    risk_segment: str | None
    renewal_date: str | None
    last_touch_at: str | None
    status: str

    @property
    def days_left(self) -> int | None:
        """Days from today to the renewal date (negative when overdue)."""
        if not self.renewal_date:
            return None
        try:
            return (date.fromisoformat(self.renewal_date[:10]) - today()).days
        except ValueError:
            return None


@dataclass(frozen=True)
class _Segment:
    where: str
    order: str
    params: tuple = ()


@dataclass
class PortfolioPager:
    """Windows of one query over one book; cheap to create, meant to live until the query
    or the book changes. Used from worker threads only."""

    book: Book
    query: PortfolioQuery
    _counts: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # short tokens search anywhere in names while a LIKE scan is cheap; on big books
        # (rowids grow with inserts, so max(rowid) is an instant upper bound) only prefixes
        small = int(self.book.scalar("SELECT max(rowid) FROM accounts") or 0) <= SMALL_BOOK
        self._where, self._params = _filters_sql(self.query, substring_short=small)
        self._segments = _segments(self.query)

    def rows(self, offset: int, limit: int) -> list[PortfolioRow]:
        """Up to `limit` rows starting at position `offset` of the ordered, filtered portfolio."""
        out: list[PortfolioRow] = []
        skip = max(0, offset)
        for index, segment in enumerate(self._segments):
            if len(out) >= limit:
                break
            if skip and index < len(self._segments) - 1:
                size = self._segment_count(index)
                if skip >= size:
                    skip -= size
                    continue
            out += self._fetch(segment, skip, limit - len(out))
            skip = 0
        return out

    def total(self, book: Book | None = None) -> int:
        """How many accounts match: one COUNT, on `book` if given (a second connection, so
        a slow count over a big book does not hold up the windows)."""
        sql = f"SELECT count(*) FROM accounts WHERE {self._where}"
        return int((book or self.book).scalar(sql, self._params) or 0)

    def position_of(self, account_id: str, scan_limit: int = 2000) -> int | None:
        """Where an account sits in the first `scan_limit` rows (to keep the cursor on it)."""
        for offset, row in enumerate(self.rows(0, scan_limit)):
            if row.id == account_id:
                return offset
        return None

    def _segment_count(self, index: int) -> int:
        if index not in self._counts:
            segment = self._segments[index]
            sql = f"SELECT count(*) FROM accounts WHERE {self._where} AND {segment.where}"
            self._counts[index] = int(self.book.scalar(sql, self._params + segment.params) or 0)
        return self._counts[index]

    def _fetch(self, segment: _Segment, offset: int, limit: int) -> list[PortfolioRow]:
        sql = (
            f"SELECT {_COLUMNS} FROM accounts WHERE {self._where} AND {segment.where} "
            f"ORDER BY {segment.order} LIMIT ? OFFSET ?"
        )
        found = self.book.query(sql, self._params + segment.params + (limit, offset))
        return [_row(r) for r in found]


def _row(r: sqlite3.Row) -> PortfolioRow:
    return PortfolioRow(
        id=r["id"],
        name=r["name"],
        tier=r["tier"],
        owner=r["owner"],
        arr=float(r["arr"] or 0),
        health_score=r["health_score"],
        health_band=r["health_band"],
        health_delta_7=r["health_delta_7"],
        churn_prob=r["churn_prob"],
        risk_segment=r["risk_segment"],
        renewal_date=r["renewal_date"],
        last_touch_at=r["last_touch_at"],
        status=r["status"],
    )


# -- order ---------------------------------------------------------------------------------------
def _segments(query: PortfolioQuery) -> list[_Segment]:
    """The order as index-friendly segments (NULLs always last, ties broken by rowid)."""
    if query.sort not in SORT_COLUMNS:
        return _priority_segments(query.descending)
    column = SORT_COLUMNS[query.sort]
    bare = column.split()[0]
    way = "DESC" if query.descending else "ASC"
    return [
        _Segment(f"{bare} IS NOT NULL", f"{column} {way}, rowid {way}"),
        _Segment(f"{bare} IS NULL", f"rowid {way}"),
    ]


def _priority_segments(descending: bool) -> list[_Segment]:
    """Red first, then yellow, insufficient, green, unscored; within each, soonest renewal
    first and accounts without a renewal date last."""
    bands: list[str | None] = [*BAND_ORDER, None]
    if descending:
        bands.reverse()
    way = "DESC" if descending else "ASC"
    segments = []
    for band in bands:
        where, params = ("health_band = ?", (band,)) if band else ("health_band IS NULL", ())
        segments.append(
            _Segment(
                f"{where} AND renewal_date IS NOT NULL", f"renewal_date {way}, rowid {way}", params
            )
        )
        segments.append(_Segment(f"{where} AND renewal_date IS NULL", f"rowid {way}", params))
    return segments


# -- filters -------------------------------------------------------------------------------------
def _filters_sql(query: PortfolioQuery, substring_short: bool = True) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) for every filter of the query."""
    clauses: list[str] = []
    params: list = []
    if not query.include_churned:
        clauses.append("status = 'active'")
    if query.bands:
        bands = sorted(query.bands)
        clauses.append(f"health_band IN ({', '.join('?' * len(bands))})")
        params += bands
    if query.renewing_within:
        clauses.append("renewal_date BETWEEN ? AND ?")
        start = today()
        params += [start.isoformat(), (start + timedelta(days=query.renewing_within)).isoformat()]
    if query.high_risk:
        clauses.append("(risk_segment = 'high' OR risk_top10 = 1)")
    if query.expansion:
        clauses.append("expansion_candidate = 1")
    if query.advocates:
        clauses.append(_ADVOCATES)
        params.append((today() - timedelta(days=365)).isoformat())
    if query.stage:
        clauses.append("stage = ?")
        params.append(query.stage)
    text_sql, text_params = _text_filter(query.text, substring_short)
    if text_sql:
        clauses.append(text_sql)
        params += text_params
    return (" AND ".join(clauses) or "1"), tuple(params)


#: Case-study candidates (SPEC: advocacy): green, with a promoter NPS (9–10) in the last year.
_ADVOCATES = (
    "health_band = 'green' AND id IN (SELECT account_id FROM responses "
    "WHERE kind = 'nps' AND score >= 9 AND date >= ?)"
)


def _text_filter(text: str, substring_short: bool = True) -> tuple[str, list]:
    """Trigram MATCH for long tokens, LIKE over the narrowed rows for short ones."""
    tokens = [t for t in text.split() if t]
    long_tokens = [t for t in tokens if len(t) >= TRIGRAM]
    short_tokens = [t for t in tokens if len(t) < TRIGRAM]
    clauses: list[str] = []
    params: list = []
    if long_tokens:
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_tokens)
        clauses.append("rowid IN (SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ?)")
        params.append(match)
        for token in short_tokens:
            clauses.append("name LIKE ? ESCAPE '\\'")
            params.append(f"%{_like_escape(token)}%")
    elif short_tokens:
        # no token can use the trigram index: on a big book match names starting with the
        # first token (the NOCASE name index answers a prefix LIKE), the rest anywhere
        clauses.append("name LIKE ? ESCAPE '\\'")
        first = _like_escape(short_tokens[0])
        params.append(f"%{first}%" if substring_short else f"{first}%")
        for token in short_tokens[1:]:
            clauses.append("name LIKE ? ESCAPE '\\'")
            params.append(f"%{_like_escape(token)}%")
    return " AND ".join(clauses), params


def _like_escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- the book at a glance ------------------------------------------------------------------------
@dataclass(frozen=True)
class BookSummary:
    """What the header shows: the book's name and its headline counts."""

    name: str
    accounts: int
    open_alerts: int
    renewals_90: int


def book_summary(book: Book) -> BookSummary:
    """The book's name (meta 'book_name', else its file name) and headline counts."""
    start = today()
    end = start + timedelta(days=90)
    with book.read() as conn:
        name = conn.execute("SELECT value FROM meta WHERE key = 'book_name'").fetchone()
        accounts = conn.execute("SELECT count(*) FROM accounts WHERE status = 'active'")
        alerts = conn.execute("SELECT count(*) FROM alerts WHERE status = 'open'")
        renewals = conn.execute(
            "SELECT count(*) FROM accounts WHERE status = 'active' "
            "AND renewal_date BETWEEN ? AND ?",
            (start.isoformat(), end.isoformat()),
        )
        return BookSummary(
            name=name[0] if name and name[0] else book.path.stem,
            accounts=int(accounts.fetchone()[0]),
            open_alerts=int(alerts.fetchone()[0]),
            renewals_90=int(renewals.fetchone()[0]),
        )


def account_count(book: Book, cap: int = 1) -> int:
    """How many accounts the book holds, counting no further than `cap` (the app only
    asks whether there are any: 0 on a first run opens the welcome)."""
    return int(book.scalar("SELECT count(*) FROM (SELECT 1 FROM accounts LIMIT ?)", (cap,)) or 0)


@dataclass(frozen=True)
class AccountHit:
    """An account found by name for the command palette."""

    id: str
    name: str


def find_accounts(book: Book, text: str, limit: int = 10) -> list[AccountHit]:
    """Accounts whose name contains every word of `text` (trigram index), best-known first."""
    where, params = _text_filter(text)
    if not where:
        return []
    rows = book.query(
        f"SELECT id, name FROM accounts WHERE {where} ORDER BY arr DESC LIMIT ?",
        (*params, limit),
    )
    return [AccountHit(r["id"], r["name"]) for r in rows]
