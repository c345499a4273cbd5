"""`n` on an account: add a note to its timeline."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from csm_tui.screens.forms.base import SavingForm


class NoteForm(SavingForm):
    """A note (free text); ctrl+s saves it to the account's timeline."""

    def __init__(self, account_name: str, submit) -> None:
        super().__init__(submit)
        self.account_name = account_name

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"Note for {self.account_name}", classes="form-title")
            yield TextArea(id="text", soft_wrap=True)
            yield Static("", id="error-text", classes="field-error")
            yield Static("ctrl+s save · esc cancel", classes="form-help")
            yield Static("", id="form-message")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).styles.height = 8
        self.query_one("#text", TextArea).focus()

    def gather(self) -> tuple | None:
        text = self.query_one("#text", TextArea).text
        if not text.strip():
            self.show_field_error("text", "The note is empty; write what happened.")
            return None
        return (text,)
