"""The portfolio (`1`): every account in one virtual table, sorted and filtered in SQLite.

Rows arrive a window at a time from `csm_tui.service.portfolio` in worker threads; the exact
count comes from its own worker so rows show first. The `/` filter is debounced; quick
filters toggle with single keys and combine; `s`/`S` change the order.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.service.portfolio import (
    DEFAULT_SORT,
    RENEWAL_WINDOWS,
    SORT_COLUMNS,
    PortfolioPager,
    PortfolioQuery,
)
from csm_tui.widgets.account_table import AccountTable
from csm_tui.widgets.book_header import BookHeader

#: The order `s` cycles through.
SORT_CYCLE = (DEFAULT_SORT, *SORT_COLUMNS)
SORT_LABELS = {
    DEFAULT_SORT: "priority (red first, soonest renewal)",
    "churn": "churn risk",
    "touch": "last touch",
    "arr": "ARR",
}
#: With a text filter, count matches only up to this many ("10,000+ accounts").
COUNT_CAP = 10_000
#: Wait this long after a keystroke in the filter before querying (typing stays fluid).
FILTER_DEBOUNCE_S = 0.04


class PortfolioScreen(ReportsWorkerErrors, Screen):
    """All accounts: ARR, health, churn risk, renewal, last touch."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="portfolio.filter"),
        Binding("s", "sort", "Sort", id="portfolio.sort"),
        Binding("S", "reverse", "Reverse", show=False, id="portfolio.reverse"),
        Binding("r", "band('red')", "Red", id="portfolio.red"),
        Binding("y", "band('yellow')", "Yellow", show=False, id="portfolio.yellow"),
        Binding("h", "band('green')", "Healthy", show=False, id="portfolio.green"),
        Binding("d", "renewing", "Renewing ≤", id="portfolio.renewing"),
        Binding("x", "flag('high_risk')", "High risk", show=False, id="portfolio.high_risk"),
        Binding("e", "flag('expansion')", "Expansion", show=False, id="portfolio.expansion"),
        Binding("c", "flag('include_churned')", "Churned", show=False, id="portfolio.churned"),
        Binding("escape", "clear", "Clear filters", id="portfolio.clear"),
    ]
    DEFAULT_CSS = """
    PortfolioScreen #filter { dock: top; display: none; height: 3; }
    PortfolioScreen #filter.shown { display: block; }
    PortfolioScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    """

    class RowsLoaded(Message):
        """A window of rows fetched by a worker."""

        def __init__(self, generation: int, offset: int, limit: int, rows: list) -> None:
            super().__init__()
            self.generation, self.offset, self.limit, self.rows = generation, offset, limit, rows

    class TotalCounted(Message):
        """The exact number of accounts matching a generation's query."""

        def __init__(self, generation: int, total: int, at_least: bool = False) -> None:
            super().__init__()
            self.generation, self.total, self.at_least = generation, total, at_least

    def __init__(self, query: PortfolioQuery | None = None) -> None:
        super().__init__()
        self.portfolio_query = query or PortfolioQuery()
        self._pagers: dict[int, PortfolioPager] = {}
        self._counted: set[int] = set()
        self._at_least: tuple[int, int] = (-1, 0)  # (generation, lower bound) of a capped count
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield BookHeader("Portfolio")
        yield Input(
            placeholder="Filter accounts by name (fuzzy); Enter to browse, Esc to clear",
            id="filter",
        )
        yield Static("", id="status")
        yield AccountTable(id="accounts")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.requery()

    @property
    def table(self) -> AccountTable:
        """The accounts table."""
        return self.query_one(AccountTable)

    # -- querying --------------------------------------------------------------------------------
    def apply_query(self, query: PortfolioQuery) -> None:
        """Show the portfolio for `query` (the palette's "show red/yellow accounts" etc.)."""
        self.portfolio_query = query
        filter_box = self.query_one("#filter", Input)
        if filter_box.value != query.text:
            filter_box.value = query.text
        filter_box.set_class(bool(query.text), "shown")
        self.requery()

    def requery(self, keep_position: bool = False) -> None:
        """Start a new generation: the table asks for its visible window; once rows are
        shown, a worker counts them."""
        table = self.table
        table.sort_key = self.portfolio_query.sort
        table.sort_descending = self.portfolio_query.descending
        table.begin(keep_position)
        self._pagers = {}
        self._show_status()

    def refresh_data(self) -> None:
        """The book changed (an edit, another process): re-read what is on screen."""
        self.requery(keep_position=True)

    def _pager(self, generation: int, query: PortfolioQuery) -> PortfolioPager:
        pager = self._pagers.get(generation)
        if pager is None:  # made in a worker: the pager's constructor reads the book
            pager = PortfolioPager(self.app.session.reader, query)
            self._pagers = {generation: pager}
        return pager

    @on(AccountTable.WindowNeeded)
    def _window_needed(self, event: AccountTable.WindowNeeded) -> None:
        self._fetch(event.generation, event.offset, event.limit, self.portfolio_query)

    @work(thread=True, group="portfolio.rows", exit_on_error=False, name="reading accounts")
    def _fetch(self, generation: int, offset: int, limit: int, query: PortfolioQuery) -> None:
        rows = self._pager(generation, query).rows(offset, limit)
        self.post_message(self.RowsLoaded(generation, offset, limit, rows))

    @work(
        thread=True,
        exclusive=True,
        group="portfolio.count",
        exit_on_error=False,
        name="counting accounts",
    )
    def _count(self, generation: int, query: PortfolioQuery) -> None:
        cap = COUNT_CAP if query.text.strip() else None
        total = self._pager(generation, query).total(self.app.session.counter, cap=cap)
        self.post_message(self.TotalCounted(generation, total, cap is not None and total > cap))

    def on_portfolio_screen_rows_loaded(self, event: RowsLoaded) -> None:
        self.table.set_window(event.generation, event.offset, event.limit, event.rows)
        if event.generation == self.table.generation and event.generation not in self._counted:
            # count only once rows are on screen: on a big book COUNT(*) takes a while
            self._counted.add(event.generation)
            if self.table.total is None:
                self._count(event.generation, self.portfolio_query)
        self._show_status()

    def on_portfolio_screen_total_counted(self, event: TotalCounted) -> None:
        if event.at_least:  # the table keeps growing as the user scrolls
            self._at_least = (event.generation, COUNT_CAP)
        else:
            self.table.set_total(event.generation, event.total)
        self._show_status()

    def _show_status(self) -> None:
        table = self.table
        count = "counting…" if table.total is None else f"{table.total:,} accounts"
        if table.total is None and self._at_least[0] == table.generation:
            count = f"{self._at_least[1]:,}+ accounts"
        filters = self.portfolio_query.describe()
        sort = SORT_LABELS.get(self.portfolio_query.sort, self.portfolio_query.sort)
        way = " (reversed)" if self.portfolio_query.descending else ""
        text = f"{count}{' · ' + filters if filters else ''} · sorted by {sort}{way}"
        if not filters:
            text += "   (quick filters: r red · y yellow · h healthy · d renewing · x risk · e expansion)"
        self.query_one("#status", Static).update(text)

    # -- keys ------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        """Show the filter box and type into it."""
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value
        self._debounce = self.set_timer(FILTER_DEBOUNCE_S, lambda: self._set_text(text))

    def _set_text(self, text: str) -> None:
        if text != self.portfolio_query.text:
            self.portfolio_query = replace(self.portfolio_query, text=text)
            self.requery()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_sort(self) -> None:
        """Sort by the next column (priority, name, tier, owner, ARR, health, risk…)."""
        index = (
            SORT_CYCLE.index(self.portfolio_query.sort)
            if self.portfolio_query.sort in SORT_CYCLE
            else 0
        )
        self._resort(SORT_CYCLE[(index + 1) % len(SORT_CYCLE)], False)

    def action_reverse(self) -> None:
        """Reverse the current order."""
        self._resort(self.portfolio_query.sort, not self.portfolio_query.descending)

    @on(AccountTable.HeaderClicked)
    def _header_clicked(self, event: AccountTable.HeaderClicked) -> None:
        same = event.column == self.portfolio_query.sort
        self._resort(event.column, not self.portfolio_query.descending if same else False)

    def _resort(self, sort: str, descending: bool) -> None:
        self.portfolio_query = replace(self.portfolio_query, sort=sort, descending=descending)
        self.requery()

    def action_band(self, band: str) -> None:
        """Toggle a health band in the filter (bands combine: red + yellow)."""
        self.apply_query(self.portfolio_query.with_band(band))

    def action_renewing(self) -> None:
        """Cycle the renewal window: 30, 60, 90 days, off."""
        windows = (None, *RENEWAL_WINDOWS)
        index = windows.index(self.portfolio_query.renewing_within)
        self.apply_query(
            replace(self.portfolio_query, renewing_within=windows[(index + 1) % len(windows)])
        )

    def action_flag(self, name: str) -> None:
        """Toggle a quick filter (high risk, expansion candidates, include churned)."""
        self.apply_query(
            replace(self.portfolio_query, **{name: not getattr(self.portfolio_query, name)})
        )

    def action_clear(self) -> None:
        """Escape: close the filter box, or clear every filter (keeping the order)."""
        box = self.query_one("#filter", Input)
        if box.has_focus:
            self.table.focus()
            if not box.value:
                box.remove_class("shown")
            return
        cleared = PortfolioQuery(
            sort=self.portfolio_query.sort, descending=self.portfolio_query.descending
        )
        self.apply_query(cleared)

    @on(AccountTable.Opened)
    def _open(self, event: AccountTable.Opened) -> None:
        self.app.open_account(event.account_id)  # type: ignore[attr-defined]
