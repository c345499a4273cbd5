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

import json
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
#: The health columns (in `account_health`, schema v8) as looked up for an `accounts` row: a
#: window's rows only look them up once past the OFFSET, where a join would for every row.
_HEALTH = "(SELECT {0} FROM account_health WHERE account_rowid = accounts.rowid) AS {0}"
_ACCOUNT_COLUMNS = _COLUMNS.replace("health_score", _HEALTH.format("health_score")).replace(
    "health_delta_7", _HEALTH.format("health_delta_7")
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
    #: `scored_accounts` when the order or the filter is on `account_health`
    source: str = "accounts"
    #: the order on `account_health` alone: when the only filters are on status and band,
    #: its index answers the window (no row of `accounts` is read for the rows skipped)
    alone_order: str = ""

    @property
    def columns(self) -> str:
        return _COLUMNS if self.source != "accounts" else _ACCOUNT_COLUMNS


@dataclass
class PortfolioPager:
    """Windows of one query over one book; cheap to create, meant to live until the query
    or the book changes. Used from worker threads only."""

    book: Book
    query: PortfolioQuery
    _counts: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # rowids grow with inserts, so max(rowid) is an instant upper bound of the book's size
        size = int(self.book.scalar("SELECT max(rowid) FROM accounts") or 0)
        # short tokens search anywhere in names while a LIKE scan is cheap; on big books
        # only name prefixes (the NOCASE name index answers those)
        text = _TextFilter.parse(self.query.text, substring_short=size <= SMALL_BOOK)
        where, params = _filters_sql(self.query)
        self._ordered: list[int] | None = None
        self._in_memory = False
        if text.sql_scan and text.is_rare(self.book, _rare_limit(size)):
            # few matches: read just those rows' sort keys and order them here
            self._in_memory = True
            where, params = f"{where} AND {text.sql_lookup}", params + text.params_lookup
        elif text.sql_scan:
            # many matches: walk the order's index and keep the rows that match
            where, params = f"{where} AND {text.sql_scan}", params + text.params_scan
        self._where, self._params = where, params
        self._segments = _segments(self.query)
        q = self.query
        self._status_band_only = (
            not (text.sql_scan or q.renewing_within or q.high_risk or q.expansion or q.advocates)
            and not q.stage
        )

    def rows(self, offset: int, limit: int) -> list[PortfolioRow]:
        """Up to `limit` rows starting at position `offset` of the ordered, filtered portfolio."""
        if self._in_memory:
            return self._rows_by_rowid(self._order()[max(0, offset) : max(0, offset) + limit])
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

    def total(self, book: Book | None = None, cap: int | None = None) -> int:
        """How many accounts match, counting no further than `cap` + 1 when given (a text
        filter matching half a million names need not be counted to the last one). Runs on
        `book` if given: a second connection, so a slow count never holds up the windows."""
        if self._in_memory:
            return len(self._order())
        source = "accounts WHERE " + self._where
        if cap is not None:
            source = f"(SELECT 1 FROM {source} LIMIT {int(cap) + 1})"
        return int((book or self.book).scalar(f"SELECT count(*) FROM {source}", self._params) or 0)

    def _order(self) -> list[int]:
        """The matching rowids in the query's order (few rows: sorted in Python)."""
        if self._ordered is None:
            column = SORT_COLUMNS.get(self.query.sort, "renewal_date").split()[0]
            if column == "health_score":
                column = _HEALTH.format(column).split(" AS ")[0]
            found = self.book.query(
                f"SELECT rowid, health_band, renewal_date, {column} AS value "
                f"FROM accounts NOT INDEXED WHERE {self._where}",
                self._params,
            )
            self._ordered = _order_in_memory(found, self.query)
        return self._ordered

    def _rows_by_rowid(self, rowids: list[int]) -> list[PortfolioRow]:
        found = self.book.query(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts "
            "WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(rowids),),
        )
        by_rowid = {r["rowid"]: _row(r) for r in found}
        return [by_rowid[i] for i in rowids if i in by_rowid]

    def position_of(self, account_id: str, scan_limit: int = 2000) -> int | None:
        """Where an account sits in the first `scan_limit` rows (to keep the cursor on it)."""
        for offset, row in enumerate(self.rows(0, scan_limit)):
            if row.id == account_id:
                return offset
        return None

    def _segment_count(self, index: int) -> int:
        if index not in self._counts:
            segment = self._segments[index]
            if self._alone(segment):
                sql, params = f"SELECT count(*) FROM account_health WHERE {segment.where}", ()
            else:
                sql = (
                    f"SELECT count(*) FROM {segment.source} WHERE {self._where} AND {segment.where}"
                )
                params = self._params
            self._counts[index] = int(self.book.scalar(sql, params + segment.params) or 0)
        return self._counts[index]

    def _alone(self, segment: _Segment) -> bool:
        return bool(segment.alone_order) and self._status_band_only

    def _fetch(self, segment: _Segment, offset: int, limit: int) -> list[PortfolioRow]:
        if self._alone(segment):
            found = self.book.query(
                f"SELECT account_rowid FROM account_health WHERE {segment.where} "
                f"ORDER BY {segment.alone_order} LIMIT ? OFFSET ?",
                segment.params + (limit, offset),
            )
            return self._rows_by_rowid([r[0] for r in found])
        sql = (
            f"SELECT {segment.columns} FROM {segment.source} WHERE {self._where} AND {segment.where} "
            f"ORDER BY {segment.order} LIMIT ? OFFSET ?"
        )
        found = self.book.query(sql, self._params + segment.params + (limit, offset))
        return [_row(r) for r in found]


def _order_in_memory(found: list[sqlite3.Row], query: PortfolioQuery) -> list[int]:
    """The same order as the SQL segments (see `_segments`), for a few thousand rows."""
    desc = query.descending
    if query.sort in SORT_COLUMNS:
        nocase = query.sort == "name"
        present = [
            (r["value"].lower() if nocase else r["value"], r["rowid"])
            for r in found
            if r["value"] is not None
        ]
        missing = [r["rowid"] for r in found if r["value"] is None]
        return [i for _, i in sorted(present, reverse=desc)] + sorted(missing, reverse=desc)
    bands: list[str | None] = [*BAND_ORDER, None]
    if desc:
        bands.reverse()
    ordered: list[int] = []
    for band in bands:
        own = [r for r in found if r["health_band"] == band]
        dated = sorted(
            ((r["renewal_date"], r["rowid"]) for r in own if r["renewal_date"]), reverse=desc
        )
        ordered += [i for _, i in dated]
        ordered += sorted((r["rowid"] for r in own if not r["renewal_date"]), reverse=desc)
    return ordered


def _rare_limit(book_size: int) -> int:
    """Below how many matches sorting the matches beats walking the order's index: the walk
    reads about window × size / matches rows, the sort reads every match (a few × cheaper)."""
    return int(min(RARE_MATCHES, max(2_000, (3 * 120 * book_size) ** 0.5)))


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
    if query.sort == "health":
        return _health_segments(query, way)
    return [
        _Segment(f"{bare} IS NOT NULL", f"{column} {way}, rowid {way}"),
        _Segment(f"{bare} IS NULL", f"rowid {way}"),
    ]


def _health_segments(query: PortfolioQuery, way: str) -> list[_Segment]:
    """Scored accounts by health, then the unscored, read in the order of
    `account_health_order` (status, score, band): the filters on status and band are repeated
    on that table's copies of them, so SQLite walks that index (a page is read directly, band
    filters included) instead of sorting every active account (0.3 s a page at 1M; 2 s for
    red + yellow); with no other filter, the index alone answers a window."""
    where, params = "", ()
    if not query.include_churned:
        where += " AND sort_status = 'active'"
    if query.bands:
        bands = tuple(sorted(query.bands))
        where += f" AND sort_band IN ({', '.join('?' * len(bands))})"
        params = bands
    scored = _Segment(
        "health_score IS NOT NULL" + where, f"health_score {way}, sort_rowid {way}", params,
        "scored_accounts", f"health_score {way}, account_rowid {way}",
    )  # fmt: skip
    unscored = _Segment(
        "health_score IS NULL" + where, f"rowid {way}", params, "scored_accounts",
        f"account_rowid {way}",
    )  # fmt: skip
    return [scored, unscored]


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
def _filters_sql(query: PortfolioQuery) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) for the quick filters (the text filter aside)."""
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
    return (" AND ".join(clauses) or "1"), tuple(params)


#: Case-study candidates (SPEC: advocacy): green, with a promoter NPS (9–10) in the last year.
_ADVOCATES = (
    "health_band = 'green' AND id IN (SELECT account_id FROM responses "
    "WHERE kind = 'nps' AND score >= 9 AND date >= ?)"
)


#: At most this many matches are sorted in memory (fewer on smaller books: `_rare_limit`);
#: above it a filter is "dense" and walking the order's index finds a window quickly.
RARE_MATCHES = 20_000
_LIKE = "name LIKE ? ESCAPE '\\'"


@dataclass(frozen=True)
class _TextFilter:
    """The `/` filter as SQL, two ways: checked row by row along the order (`scan`), or as a
    set of matching rowids to start from (`lookup`: the trigram index, or the name index)."""

    sql_scan: str = ""
    params_scan: tuple = ()
    sql_lookup: str = ""
    params_lookup: tuple = ()
    probe: str = ""  # counts matches (up to RARE_MATCHES + 1) to choose between the two
    probe_params: tuple = ()

    @classmethod
    def parse(cls, text: str, substring_short: bool = True) -> _TextFilter:
        """Trigram MATCH for tokens of 3+ characters; LIKE for shorter ones (a name prefix
        on big books, where a LIKE scan of every name would be slow)."""
        tokens = text.split()
        long_tokens = [t for t in tokens if len(t) >= TRIGRAM]
        short = [t for t in tokens if len(t) < TRIGRAM]
        likes = [f"%{_like_escape(t)}%" for t in long_tokens + short]
        if not tokens:
            return cls()
        if not long_tokens and not substring_short:
            likes[0] = f"{_like_escape(short[0])}%"  # the NOCASE name index answers this
        scan = " AND ".join(["+" + _LIKE] * len(likes))  # "+name": no index, a row check
        if long_tokens:
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_tokens)
            source = "SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ?"
            source_params: tuple = (match,)
        elif not substring_short:
            source, source_params = f"SELECT rowid FROM accounts WHERE {_LIKE}", (likes[0],)
        else:
            return cls(scan, tuple(likes))  # a small book: scanning every name is cheap
        extra = short if long_tokens else short[1:]  # not already answered by the source
        lookup = " AND ".join([f"rowid IN ({source})"] + ["+" + _LIKE] * len(extra))
        extra_likes = tuple(f"%{_like_escape(t)}%" for t in extra)
        probe = f"SELECT count(*) FROM ({source} LIMIT {{limit}})"
        return cls(scan, tuple(likes), lookup, (*source_params, *extra_likes), probe, source_params)

    def is_rare(self, book: Book, limit: int) -> bool:
        """Whether at most `limit` rows match (then starting from them is quicker)."""
        if not self.probe:
            return False
        probe = self.probe.replace("{limit}", str(limit + 1))
        return int(book.scalar(probe, self.probe_params) or 0) <= limit


def _text_sql(text: str) -> tuple[str, list]:
    """The filter as one WHERE clause (for small look-ups such as the command palette)."""
    parsed = _TextFilter.parse(text, substring_short=False)
    if parsed.sql_lookup:
        return parsed.sql_lookup, list(parsed.params_lookup)
    return parsed.sql_scan, list(parsed.params_scan)


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
    where, params = _text_sql(text)
    if not where:
        return []
    rows = book.query(
        f"SELECT id, name FROM accounts WHERE {where} ORDER BY arr DESC LIMIT ?",
        (*params, limit),
    )
    return [AccountHit(r["id"], r["name"]) for r in rows]
