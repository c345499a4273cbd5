"""The alerts inbox (`2`): what fired, most severe and largest accounts first; triage by key.

`x` closes with a reason, `z` snoozes, `p` turns the alert into a save plan, space selects
several for a batch, `u` undoes the last triage action. Every database call runs in a worker
that posts a message back; the screen only ever touches widgets on the UI thread.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from csm_tui.errors import CsmError
from csm_tui.screens.base import ReloadsWhenShown, ReportsWorkerErrors
from csm_tui.screens.triage_forms import (
    CloseAlertForm,
    SnoozeChoice,
    SnoozeForm,
    report_refusal,
    session_book,
    session_reader,
)
from csm_tui.service import triage
from csm_tui.service.triage import AlertPage, AlertRow, UndoToken
from csm_tui.widgets.book_header import BookHeader

SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan"}
COLUMN_WIDTHS = {"account": 22, "rule": 24, "why": 44}
SELECTED_MARK = "●"


def _haystack(row: AlertRow) -> str:
    return f"{row.account_name} {row.rule_label} {row.rule} {row.severity} {row.why}".lower()


def clip(text: str, width: int) -> str:
    """Cut text to a column width with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


class AlertsScreen(ReloadsWhenShown, ReportsWorkerErrors, Screen):
    """Open alerts by severity then ARR, with triage keys."""

    DEFAULT_CSS = """
    AlertsScreen #alerts-summary { height: 1; padding: 0 1; text-style: bold; }
    AlertsScreen #alerts-table { height: 1fr; }
    AlertsScreen #alerts-filter { display: none; }
    AlertsScreen #alert-detail { height: auto; max-height: 6; padding: 0 1;
                                 border-top: solid $primary; }
    """
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="alerts.down"),
        Binding("k", "cursor_up", "Up", show=False, id="alerts.up"),
        Binding("g", "first", "Top", show=False, id="alerts.first"),
        Binding("G", "last", "Bottom", show=False, id="alerts.last"),
        Binding("enter", "open_account", "Open account", id="alerts.open", priority=True),
        Binding("x", "close_alerts", "Close", id="alerts.close"),
        Binding("z", "snooze_alerts", "Snooze", id="alerts.snooze"),
        Binding("p", "save_plan", "Save plan", id="alerts.save_plan"),
        Binding("space", "toggle_select", "Select", id="alerts.select"),
        Binding("u", "undo", "Undo", id="alerts.undo"),
        Binding("slash", "filter", "Filter", id="alerts.filter"),
    ]

    class Loaded(Message):
        """Alerts were read from the book."""

        def __init__(self, page: AlertPage) -> None:
            super().__init__()
            self.page = page

    class Triaged(Message):
        """A close/snooze/undo was written; `token` is None for an undo."""

        def __init__(self, text: str, token: UndoToken | None) -> None:
            super().__init__()
            self.text = text
            self.token = token

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.all_rows: list[AlertRow] = []
        self.rows: list[AlertRow] = []  # those shown (the filter applied)
        self.total = 0
        self.filter_text = ""
        self.selected: set[int] = set()
        self.undo_stack: list[UndoToken] = []

    def compose(self) -> ComposeResult:
        """Summary line, the alerts table, the highlighted alert's detail."""
        yield BookHeader("Alerts")
        yield Label("Alerts — loading…", id="alerts-summary")
        table = DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        table.add_column(" ", key="sel", width=1)
        table.add_column("Sev", key="sev", width=6)
        table.add_column("Account", key="account", width=COLUMN_WIDTHS["account"])
        table.add_column("Rule", key="rule", width=COLUMN_WIDTHS["rule"])
        table.add_column("Why", key="why", width=COLUMN_WIDTHS["why"])
        table.add_column("When", key="when", width=9)
        yield table
        yield Static("", id="alert-detail")
        yield Input(
            placeholder="Filter: words in account, rule or why (Enter keeps it)", id="alerts-filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list; the first ScreenResume reads the book."""
        self.query_one(DataTable).focus()

    # -- reading ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-load")
    def load(self) -> None:
        """Read the open alerts (worker)."""
        try:
            page = triage.open_alerts(session_reader(self.app))
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.Loaded(page))

    def on_alerts_screen_loaded(self, message: Loaded) -> None:
        """Fill the table, keeping the cursor where it was."""
        self.all_rows, self.total = message.page.rows, message.page.total
        self.selected &= {r.id for r in self.all_rows}
        self._fill_table()

    def _fill_table(self) -> None:
        """Show the rows matching the filter, keeping the cursor where it was."""
        words = self.filter_text.lower().split()
        self.rows = [r for r in self.all_rows if all(w in _haystack(r) for w in words)]
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(*self._cells(row), key=str(row.id))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        self._show_summary()
        self._show_detail()

    def _cells(self, row: AlertRow) -> tuple:
        return (
            SELECTED_MARK if row.id in self.selected else "",
            Text(row.severity, style=SEVERITY_STYLES.get(row.severity, "")),
            clip(row.account_name, COLUMN_WIDTHS["account"]),
            clip(row.rule_label, COLUMN_WIDTHS["rule"]),
            clip(row.why, COLUMN_WIDTHS["why"]),
            row.when,
        )

    def _show_summary(self) -> None:
        counts = {
            s: sum(1 for r in self.rows if r.severity == s) for s in ("high", "medium", "low")
        }
        by_severity = ", ".join(f"{counts[s]} {s}" for s in ("high", "medium", "low"))
        text = f"Alerts — {self.total} open: {by_severity}"
        if self.total > len(self.all_rows):
            text += f" (showing the first {len(self.all_rows)})"
        if self.filter_text:
            text += f" · filter “{self.filter_text}”: {len(self.rows)} shown"
        if self.selected:
            text += f" · {len(self.selected)} selected"
        self.query_one("#alerts-summary", Label).update(text)

    def _show_detail(self) -> None:
        row = self.current
        detail = self.query_one("#alert-detail", Static)
        if row is None:
            empty = "No alert matches the filter." if self.filter_text else "Nothing to triage."
            detail.update("" if self.rows else empty)
            return
        fired = row.fired_at.replace("T", " ")
        detail.update(
            Text.assemble(
                (row.account_name, "bold"),
                f" · {row.rule_label} · {row.severity} · fired {row.when} ({fired})\n",
                row.why,
            )
        )

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    @property
    def current(self) -> AlertRow | None:
        """The highlighted alert."""
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def targets(self) -> list[int]:
        """The selected alerts, else the highlighted one."""
        if self.selected:
            return sorted(self.selected)
        return [self.current.id] if self.current else []

    # -- filtering -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter belongs to the filter field while it has the focus."""
        if action == "open_account" and isinstance(self.focused, Input):
            return False
        return True

    def action_filter(self) -> None:
        """Show the filter field (Enter goes back to the list; an empty filter shows all)."""
        field = self.query_one("#alerts-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#alerts-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = " ".join(event.value.split())
        self._fill_table()

    @on(Input.Submitted, "#alerts-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.display = bool(self.filter_text)
        self.query_one(DataTable).focus()

    # -- moving and selecting --------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        """Next alert."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous alert."""
        self.query_one(DataTable).action_cursor_up()

    def action_first(self) -> None:
        """First alert."""
        self.query_one(DataTable).move_cursor(row=0)

    def action_last(self) -> None:
        """Last alert."""
        self.query_one(DataTable).move_cursor(row=max(len(self.rows) - 1, 0))

    def action_toggle_select(self) -> None:
        """Select / unselect the highlighted alert for a batch, and move on."""
        row = self.current
        if row is None:
            return
        self.selected ^= {row.id}
        table = self.query_one(DataTable)
        mark = SELECTED_MARK if row.id in self.selected else ""
        table.update_cell(str(row.id), "sel", mark)
        table.action_cursor_down()
        self._show_summary()

    # -- triage ----------------------------------------------------------------------------------
    def action_close_alerts(self) -> None:
        """Ask why, then close the targeted alerts."""
        ids = self.targets()
        if ids:
            self.app.push_screen(
                CloseAlertForm(len(ids)), lambda reason: self._after_close_form(ids, reason)
            )

    def _after_close_form(self, ids: list[int], reason: str | None) -> None:
        if reason:
            self.triage_write("close", ids, reason)

    def action_snooze_alerts(self) -> None:
        """Ask until when, then snooze the targeted alerts."""
        ids = self.targets()
        if ids:
            self.app.push_screen(
                SnoozeForm(len(ids)), lambda choice: self._after_snooze_form(ids, choice)
            )

    def _after_snooze_form(self, ids: list[int], choice: SnoozeChoice | None) -> None:
        if choice:
            self.triage_write("snooze", ids, choice)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-write")
    def triage_write(self, action: str, ids: list[int], arg) -> None:
        """Close or snooze in one durable transaction (worker)."""
        book = session_book(self.app)
        try:
            if action == "close":
                token = triage.close_alerts(book, ids, arg)
            else:
                token = triage.snooze_alerts(book, ids, arg.until, arg.reason)
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.Triaged(token.description + " (u undoes)", token))

    def action_undo(self) -> None:
        """Put back the alerts the last triage action changed."""
        if not self.undo_stack:
            self.notify("Nothing to undo.")
            return
        self.undo_write(self.undo_stack.pop())

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-write")
    def undo_write(self, token: UndoToken) -> None:
        """Restore the alerts' previous state (worker)."""
        try:
            text = triage.undo(session_book(self.app), token)
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.Triaged(text, None))

    def on_alerts_screen_triaged(self, message: Triaged) -> None:
        """Say what happened and show the new state."""
        if message.token is not None:
            self.undo_stack.append(message.token)
            self.selected.clear()
        self.notify(message.text, title="Alerts")
        self.load()

    # -- leaving the inbox -----------------------------------------------------------------------
    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:
        self.action_open_account()

    def action_open_account(self) -> None:
        """Open the highlighted alert's account."""
        row = self.current
        if row is not None:
            open_account(self, row.account_id)

    def action_save_plan(self) -> None:
        """Turn the highlighted alert into a save plan (prefilled form)."""
        from csm_tui.screens.save_plan import SavePlanForm

        row = self.current
        if row is not None:
            self.app.push_screen(SavePlanForm(row.account_id, row.id), lambda _result: self.load())


def open_account(screen: Screen, account_id: str) -> None:
    """Open the account's screen on top (through the app's `open_account` when it has one)."""
    opener = getattr(screen.app, "open_account", None)
    if callable(opener):
        opener(account_id)
        return
    try:
        from csm_tui.screens.account import AccountScreen
    except ImportError:
        screen.notify("The account screen is not available in this build.", severity="warning")
        return
    screen.app.push_screen(AccountScreen(account_id))
