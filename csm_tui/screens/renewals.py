"""Renewals (`3`): a timeline of the next 30/60/90/180/365 days, totals, and the CSM's calls.

`[`/`]` narrow or widen the window. On a renewal, `c` commit · `l` likely · `r` at risk ·
`x` lost · `-` clears the call. Rows where the call and the model disagree carry ⚠.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from csm_tui.errors import CsmError
from csm_tui.screens.alerts import clip, open_account
from csm_tui.screens.base import ReloadsWhenShown, ReportsWorkerErrors
from csm_tui.screens.triage_forms import report_refusal, session_book, session_reader
from csm_tui.service import renewals
from csm_tui.service.renewals import RenewalItem, RenewalsView, format_money
from csm_tui.widgets.book_header import BookHeader
from csm_tui.widgets.timeline import RenewalTimeline, TimelineMarker

BAND_STYLES = {"green": "green", "yellow": "yellow", "red": "bold red"}
CALL_STYLES = {"commit": "green", "likely": "cyan", "at_risk": "yellow", "lost": "red"}
DEFAULT_WINDOW = 90


def basis_words(basis: str) -> str:
    """Say what the forecast is computed from."""
    rates = ", ".join(
        f"{b} {r * 100:.0f} %" for b, r in renewals.BAND_CHURN_RATE.items() if b != "insufficient"
    )
    if basis == "model":
        return "forecast from the churn model"
    if basis == "mixed":
        return f"forecast from the churn model, band rates (*) where unscored ({rates})"
    return f"forecast from band rates (*: {rates}): no churn model trained"


def disagreements(n: int) -> str:
    """ "1 call disagrees" / "3 calls disagree"."""
    return "1 call disagrees" if n == 1 else f"{n} calls disagree"


class RenewalsScreen(ReloadsWhenShown, ReportsWorkerErrors, Screen):
    """Upcoming renewals on a timeline, with totals and the call-vs-model gaps."""

    DEFAULT_CSS = """
    RenewalsScreen #renewals-title { height: 1; padding: 0 1; text-style: bold; }
    RenewalsScreen #renewals-totals { height: auto; padding: 0 1; }
    RenewalsScreen RenewalTimeline { height: 10; }
    RenewalsScreen #renewals-table { height: 1fr; }
    """
    BINDINGS = [
        Binding("left_square_bracket", "window(-1)", "Shorter", id="renewals.shorter"),
        Binding("right_square_bracket", "window(1)", "Longer", id="renewals.longer"),
        Binding("j", "cursor_down", "Down", show=False, id="renewals.down"),
        Binding("k", "cursor_up", "Up", show=False, id="renewals.up"),
        Binding("g", "first", "Top", show=False, id="renewals.first"),
        Binding("G", "last", "Bottom", show=False, id="renewals.last"),
        Binding("enter", "open_account", "Open account", id="renewals.open", priority=True),
        Binding("c", "call('commit')", "Commit", id="renewals.commit"),
        Binding("l", "call('likely')", "Likely", id="renewals.likely"),
        Binding("r", "call('at_risk')", "At risk", id="renewals.at_risk"),
        Binding("x", "call('lost')", "Lost", id="renewals.lost"),
        Binding("minus", "call('')", "Clear call", id="renewals.clear"),
    ]

    class Loaded(Message):
        """A window's renewals were read."""

        def __init__(self, view: RenewalsView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, days: int = DEFAULT_WINDOW, **kwargs) -> None:
        super().__init__(**kwargs)
        self.days = days
        self.view: RenewalsView | None = None

    def compose(self) -> ComposeResult:
        """Title, totals, timeline, list."""
        yield BookHeader("Renewals")
        yield Label("Renewals — loading…", id="renewals-title")
        yield Static("", id="renewals-totals")
        yield RenewalTimeline(id="timeline")
        table = DataTable(id="renewals-table", cursor_type="row", zebra_stripes=True)
        for label, key, width in (
            ("Due", "due", 10), ("Days", "days", 4), ("Account", "account", 20),
            ("ARR", "arr", 6), ("Health", "health", 9), ("Churn", "churn", 6),
            ("Call", "call", 7), ("⚠ Call vs model", "gap", 38),
        ):  # fmt: skip
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list; the first ScreenResume reads the book."""
        self.query_one(DataTable).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="renewals-load")
    def load(self) -> None:
        """Read the window's renewals and totals (worker)."""
        try:
            view = renewals.renewals_window(session_reader(self.app), self.days)
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.Loaded(view))

    def on_renewals_screen_loaded(self, message: Loaded) -> None:
        """Show title, totals, markers and rows (cursor kept)."""
        view = self.view = message.view
        self.query_one("#renewals-title", Label).update(
            f"Renewals — next {view.days} days ({view.start.isoformat()} → {view.end.isoformat()})"
            "   [ ] change the window"
        )
        self.query_one("#renewals-totals", Static).update(self._totals_text(view))
        self.query_one(RenewalTimeline).show(
            view.start, view.end, [self._marker(i) for i in view.items]
        )
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for item in view.items:
            table.add_row(*self._cells(item), key=item.renewal_id)
        if view.items:
            table.move_cursor(row=min(keep, len(view.items) - 1))

    @staticmethod
    def _totals_text(view: RenewalsView) -> Text:
        t = view.totals
        return Text.assemble(
            (f"{t.count} renewals", "bold"), " · up for renewal ", (format_money(t.arr_up), "bold"),
            " · at risk ", (format_money(t.arr_at_risk), "bold yellow"),
            " · forecast ", (format_money(t.forecast), "bold green"),
            f" · {disagreements(t.disagreements)} with the model ⚠\n",
            (basis_words(view.forecast_basis), "dim"),
        )  # fmt: skip

    @staticmethod
    def _marker(item: RenewalItem) -> TimelineMarker:
        return TimelineMarker(
            due=date.fromisoformat(item.due_date[:10]),
            label=format_money(item.arr),
            band=item.band,
            weight=item.arr,
            flagged=item.gap is not None,
        )

    @staticmethod
    def _cells(item: RenewalItem) -> tuple:
        score = "–" if item.score is None else f"{item.score:.0f}"
        churn = f"{item.churn_prob * 100:.0f} %" + ("" if item.from_model else "*")
        call = renewals.CALL_LABELS.get(item.csm_call or "", "—")
        return (
            item.due_date,
            str(item.days_left),
            clip(item.account_name, 20),
            format_money(item.arr),
            Text(f"{item.band or '–'} {score}", style=BAND_STYLES.get(item.band or "", "dim")),
            churn,
            Text(call, style=CALL_STYLES.get(item.csm_call or "", "dim")),
            Text("⚠ " + clip(item.gap, 36), style="bold yellow") if item.gap else "",
        )

    @property
    def current(self) -> RenewalItem | None:
        """The highlighted renewal."""
        table = self.query_one(DataTable)
        items = self.view.items if self.view else []
        return items[table.cursor_row] if 0 <= table.cursor_row < len(items) else None

    def action_window(self, step: int) -> None:
        """Switch to the previous/next window length (30, 60, 90, 180, 365 days)."""
        windows = renewals.WINDOWS
        index = windows.index(self.days) if self.days in windows else windows.index(DEFAULT_WINDOW)
        self.days = windows[max(0, min(len(windows) - 1, index + step))]
        self.load()

    def action_cursor_down(self) -> None:
        """Next renewal."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous renewal."""
        self.query_one(DataTable).action_cursor_up()

    def action_first(self) -> None:
        """First renewal."""
        self.query_one(DataTable).move_cursor(row=0)

    def action_last(self) -> None:
        """Last renewal."""
        self.query_one(DataTable).move_cursor(row=max(self.query_one(DataTable).row_count - 1, 0))

    def action_call(self, call: str) -> None:
        """Record the CSM's call on the highlighted renewal."""
        item = self.current
        if item is not None:
            self.save_call(item, call or None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="renewals-write")
    def save_call(self, item: RenewalItem, call: str | None) -> None:
        """Write the call (worker), then re-read the window."""
        try:
            renewals.set_csm_call(session_book(self.app), item.renewal_id, call)
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        words = renewals.CALL_LABELS.get(call or "", "cleared")
        self.app.call_from_thread(
            self.notify, f"{item.account_name}: call {words}", title="Renewals"
        )
        self.app.call_from_thread(self.load)

    @on(DataTable.RowSelected)
    def action_open_account(self) -> None:
        """Open the highlighted renewal's account."""
        item = self.current
        if item is not None:
            open_account(self, item.account_id)
