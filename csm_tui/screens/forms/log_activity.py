"""`l` on an account: log a call, meeting, email or QBR (what happened, and when)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Select, Static, TextArea

from csm_tui.screens.forms.base import SavingForm, ServiceValidator

KINDS = (("Call", "call"), ("Meeting", "meeting"), ("Email", "email"), ("QBR", "qbr"))


class LogActivityForm(SavingForm):
    """Kind, text and an optional time (default now); ctrl+s saves."""

    def __init__(self, account_name: str, submit, check_time=None) -> None:
        super().__init__(submit)
        self.account_name = account_name
        self.check_time = check_time

    def compose(self) -> ComposeResult:
        validators = [ServiceValidator(self.check_time)] if self.check_time else []
        with Vertical(id="form"):
            yield Static(f"Log activity with {self.account_name}", classes="form-title")
            yield Select(KINDS, value="call", allow_blank=False, id="kind")
            yield Static("What happened", classes="field-label")
            yield TextArea(id="text", soft_wrap=True)
            yield Static("", id="error-text", classes="field-error")
            yield Static("When (YYYY-MM-DD HH:MM; empty = now)", classes="field-label")
            yield Input(placeholder="now", id="at", validators=validators)
            yield Static("", id="error-at", classes="field-error")
            yield Static("ctrl+s save · esc cancel", classes="form-help")
            yield Static("", id="form-message")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).styles.height = 6
        self.query_one("#text", TextArea).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        message = "" if result is None or result.is_valid else result.failure_descriptions[0]
        self.show_field_error("at", message)

    def on_input_submitted(self) -> None:
        self.action_save()

    def gather(self) -> tuple | None:
        kind = str(self.query_one("#kind", Select).value)
        text = self.query_one("#text", TextArea).text
        at = self.query_one("#at", Input)
        if not text.strip():
            self.show_field_error("text", "Say what happened (it goes on the timeline).")
            return None
        if at.value.strip() and at.validate(at.value) and not at.validate(at.value).is_valid:
            self.show_message("Not saved: fix the time marked above.")
            return None
        return (kind, text, at.value.strip() or None)
