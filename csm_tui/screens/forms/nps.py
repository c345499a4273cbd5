"""`r` on an account: record an NPS response (score 0–10 and an optional comment)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import Integer
from textual.widgets import Input, Static

from csm_tui.screens.forms.base import SavingForm


class NpsForm(SavingForm):
    """Score and comment; Enter or ctrl+s saves."""

    def __init__(self, account_name: str, submit) -> None:
        super().__init__(submit)
        self.account_name = account_name

    def compose(self) -> ComposeResult:
        score_rule = Integer(0, 10, failure_description="The score is a whole number 0–10.")
        with Vertical(id="form"):
            yield Static(f"NPS response from {self.account_name}", classes="form-title")
            yield Static("Score (0–10: how likely to recommend us)", classes="field-label")
            yield Input(id="score", validators=[score_rule], max_length=4)
            yield Static("", id="error-score", classes="field-error")
            yield Static("Comment (optional)", classes="field-label")
            yield Input(id="comment")
            yield Static("", id="error-comment", classes="field-error")
            yield Static("enter/ctrl+s save · esc cancel", classes="form-help")
            yield Static("", id="form-message")

    def on_mount(self) -> None:
        self.query_one("#score", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "score":
            result = event.validation_result
            ok = result is None or result.is_valid or not event.value
            self.show_field_error("score", "" if ok else result.failure_descriptions[0])

    def on_input_submitted(self) -> None:
        self.action_save()

    def gather(self) -> tuple | None:
        score = self.query_one("#score", Input)
        result = score.validate(score.value)
        if not score.value.strip() or (result is not None and not result.is_valid):
            self.show_field_error("score", "The score is a whole number 0–10.")
            return None
        return (score.value.strip(), self.query_one("#comment", Input).value)
