"""Modals for triaging alerts: close with a reason, snooze until a date.

Both are pure forms: they return what the user chose (`dismiss`) and write nothing; the
alerts screen does the write in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from csm_tui import clock
from csm_tui.service.triage import CLOSE_REASONS

FORM_CSS = """
CloseAlertForm, SnoozeForm { align: center middle; }
.triage-form { width: 72; height: auto; max-height: 90%; border: thick $primary;
               background: $surface; padding: 1 2; }
.triage-form > .form-title { text-style: bold; margin-bottom: 1; }
.triage-form OptionList { height: auto; max-height: 10; margin-bottom: 1; }
.triage-form .form-error { color: $error; height: auto; }
.triage-form .form-hint { color: $text-muted; }
"""


@dataclass(frozen=True)
class SnoozeChoice:
    """Snooze until this date, with an optional reason."""

    until: date
    reason: str


def parse_future_date(text: str) -> date:
    """A YYYY-MM-DD date after today, or ValueError with a message fit for the user."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a date; use YYYY-MM-DD") from None
    if day <= clock.today():
        raise ValueError(f"{day.isoformat()} is not after today; pick a later date")
    return day


class CloseAlertForm(ModalScreen[str | None]):
    """Pick a close reason from the short list (Enter, or 1–4) or type one."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="close_alert.cancel"),
        *(
            Binding(str(n), f"pick({n - 1})", f"Reason {n}", show=False, id=f"close_alert.{n}")
            for n in range(1, len(CLOSE_REASONS) + 1)
        ),
    ]

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        """Title, the reasons, a free-text field."""
        noun = "this alert" if self.count == 1 else f"{self.count} alerts"
        with Vertical(classes="triage-form"):
            yield Label(f"Close {noun} — why?", classes="form-title")
            yield OptionList(
                *(Option(f"{n}  {text}", id=str(n - 1)) for n, text in enumerate(CLOSE_REASONS, 1)),
                id="reasons",
            )
            yield Input(placeholder="…or type your own reason and press Enter", id="own-reason")
            yield Label("", classes="form-error", id="error")
            yield Label("Enter closes · Esc cancels", classes="form-hint")

    def action_pick(self, index: int) -> None:
        """Close with the n-th listed reason."""
        self.dismiss(CLOSE_REASONS[index])

    def action_cancel(self) -> None:
        """Close nothing."""
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#reasons")
    def _reason_picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(CLOSE_REASONS[int(event.option.id or 0)])

    @on(Input.Submitted, "#own-reason")
    def _reason_typed(self, event: Input.Submitted) -> None:
        text = " ".join(event.value.split())
        if not text:
            self.query_one("#error", Label).update("Type a reason, or pick one from the list.")
            return
        self.dismiss(text)


class SnoozeForm(ModalScreen[SnoozeChoice | None]):
    """Snooze for a day, a week, or until a date; an optional reason."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="snooze.cancel")]

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.count = count
        today = clock.today()
        self.choices = {"day": today + timedelta(days=1), "week": today + timedelta(days=7)}

    def compose(self) -> ComposeResult:
        """Title, the durations, a date field and a reason field."""
        noun = "this alert" if self.count == 1 else f"{self.count} alerts"
        with Vertical(classes="triage-form"):
            yield Label(f"Snooze {noun} until…", classes="form-title")
            yield OptionList(
                Option(f"1 day   ({self.choices['day'].isoformat()})", id="day"),
                Option(f"1 week  ({self.choices['week'].isoformat()})", id="week"),
                Option("Until a date…", id="date"),
                id="durations",
            )
            yield Input(placeholder="Until date: YYYY-MM-DD", id="until")
            yield Input(placeholder="Reason (optional)", id="reason")
            yield Label("", classes="form-error", id="error")
            yield Label("Enter snoozes · Tab moves · Esc cancels", classes="form-hint")

    def action_cancel(self) -> None:
        """Snooze nothing."""
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#durations")
    def _duration_picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "date":
            self.query_one("#until", Input).focus()
        else:
            self._finish(self.choices[event.option.id or "day"])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        typed = self.query_one("#until", Input).value.strip()
        if typed or event.input.id == "until":
            try:
                self._finish(parse_future_date(typed))
            except ValueError as exc:
                self.query_one("#error", Label).update(f"Until date: {exc}")
            return
        option = self.query_one("#durations", OptionList).highlighted_option
        choice = option.id if option else "day"
        if choice not in self.choices:
            self.query_one("#error", Label).update("Until date: type the date (YYYY-MM-DD).")
            return
        self._finish(self.choices[choice or "day"])

    def _finish(self, until: date) -> None:
        reason = " ".join(self.query_one("#reason", Input).value.split())
        self.dismiss(SnoozeChoice(until, reason))


# -- shared by F's screens: where the book is, and how a worker reports a refusal ----------------
def session_book(app):
    """The connection the app writes through (its BookSession's `book`)."""
    return app.session.book


def session_reader(app):
    """The connection the app's screens read through (its BookSession's `reader`)."""
    return app.session.reader


def report_refusal(widget, message: str) -> None:
    """From a worker thread: show why nothing was saved, as an error toast."""
    widget.app.call_from_thread(widget.notify, message, title="Nothing changed", severity="error")
