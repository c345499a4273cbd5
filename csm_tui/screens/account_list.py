"""AccountListScreen: the accounts behind a dashboard tile or a quick-action list.

    AccountListScreen.for_list("expansion")                   # seed 004's quick actions
    AccountListScreen("metric:grr", period=period)            # the accounts behind a tile

Enter on an account opens its account screen; on a group row (NPS by segment) it opens the
list behind that group. Rows load in a worker; the screen never touches the database.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from csm_tui.scoring.periods import Period
from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.service.dashboard import list_title, load_list
from csm_tui.widgets.book_header import BookHeader

#: A list shows at most this many rows (a list of a whole 100k-account book is a query, not
#: something to scroll); the status line says when more matched.
MAX_ROWS = 2000
COLUMNS = (("Account", 25), ("Segment", 10), ("Owner", 12), ("ARR", 10), ("Health", 6),
           ("Why it is on the list", 45))  # fmt: skip
BAND_STYLES = {"green": "green", "yellow": "yellow", "red": "red"}


class AccountListScreen(ReportsWorkerErrors, Screen):
    """A titled list of accounts (or groups) with the reason each is on it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="list.back"),
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("g", "top", "Top", show=False, id="list.top"),
        Binding("G", "bottom", "Bottom", show=False, id="list.bottom"),
    ]
    DEFAULT_CSS = """
    AccountListScreen #criteria { height: 1; padding: 0 1; color: $text-muted; }
    AccountListScreen DataTable { height: 1fr; }
    """

    class Loaded(Message):
        """The list's rows, loaded by a worker."""

        def __init__(self, listing) -> None:
            super().__init__()
            self.listing = listing

    def __init__(self, list_key: str, period: Period | None = None, title: str | None = None
                 ) -> None:  # fmt: skip
        super().__init__()
        self.list_key = list_key
        self.period = period
        self.title_text = title or list_title(list_key)
        self.listing = None
        self.row_keys: list[tuple[str | None, str | None]] = []  # (account id, drill key)

    @classmethod
    def for_list(cls, key: str, period: Period | None = None) -> AccountListScreen:
        """The screen for a named list: expansion, advocacy, onboarding, renewals90,
        nps_segment, at_risk (the command palette's quick actions)."""
        return cls(key, period)

    def compose(self) -> ComposeResult:
        """Header, the criteria line, the rows table, footer."""
        yield BookHeader(self.title_text)
        yield Static("Loading…", id="criteria")
        table = DataTable(id="rows", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Focus the table and load the rows."""
        self.query_one(DataTable).focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        """(Re)load the rows (also called by the app when the book changed)."""
        self._load(self.list_key, self.period)

    @work(thread=True, exclusive=True, group="account_list.load", exit_on_error=False,
          name="loading the list")  # fmt: skip
    def _load(self, key: str, period: Period | None) -> None:
        session = self.app.session  # type: ignore[attr-defined]
        self.post_message(self.Loaded(load_list(session.reader, key, period)))

    def on_account_list_screen_loaded(self, event: Loaded) -> None:
        """Show the loaded rows (at most MAX_ROWS) and the count."""
        listing = self.listing = event.listing
        table = self.query_one(DataTable)
        table.clear()
        self.row_keys = []
        for index, row in enumerate(listing.rows[:MAX_ROWS]):
            table.add_row(*_cells(row), key=str(index))
            self.row_keys.append((row.account_id, row.drill))
        shown = min(len(listing.rows), MAX_ROWS)
        more = f" (showing the first {MAX_ROWS:,})" if len(listing.rows) > MAX_ROWS else ""
        count = f"{len(listing.rows):,} {'row' if len(listing.rows) == 1 else 'rows'}{more}"
        self.query_one("#criteria", Static).update(
            f"{listing.title}: {count} · {listing.criteria} · Enter opens · Esc back"
            if shown else f"{listing.title}: nothing matches ({listing.criteria})."
        )  # fmt: skip

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        index = int(event.row_key.value)
        account_id, drill = self.row_keys[index]
        if account_id:
            self.app.open_account(account_id)  # type: ignore[attr-defined]
        elif drill:
            self.app.push_screen(AccountListScreen(drill, self.period))

    @property
    def account_ids(self) -> list[str]:
        """The ids of the accounts shown (group rows left out)."""
        return [aid for aid, _ in self.row_keys if aid]

    def action_cursor_down(self) -> None:
        """`j`: next row."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """`k`: previous row."""
        self.query_one(DataTable).action_cursor_up()

    def action_top(self) -> None:
        """`g`: first row."""
        self.query_one(DataTable).move_cursor(row=0)

    def action_bottom(self) -> None:
        """`G`: last row."""
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.row_count - 1))


def _cells(row) -> tuple:
    from rich.text import Text

    if row.account_id is None:  # a group row: its figure is in `detail`
        return (Text(row.name, "bold"), row.segment, "", "", "", row.detail)
    health = "–" if row.health_score is None else f"{row.health_score:.0f}"
    return (
        row.name, row.segment, row.owner, Text(f"${row.arr:,.0f}", justify="right"),
        Text(health, BAND_STYLES.get(row.health_band, "dim"), justify="right"), row.detail,
    )  # fmt: skip
