"""`e` on an account: edit its fields and signals (seats, stage, champion left, ARR…).

The field list, labels, help and validation are `csm_tui.service.fields` (the same rules as
`csm set`). Each input validates as you type; only fields whose text changed are saved, in
one call to `edits.update_account` (write → rescore → EditResult).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static

from csm_tui.screens.forms.base import SavingForm, ServiceValidator
from csm_tui.service.fields import FIELDS, validate


def _checker(key: str):
    return lambda text: validate(key, text)


class EditAccountForm(SavingForm):
    """One input per field, pre-filled with the current value; ctrl+s saves the changes."""

    DEFAULT_CSS = """
    EditAccountForm > #form { height: 90%; }
    EditAccountForm .field-row { height: 1; margin-top: 1; }
    EditAccountForm .field-row > .field-label { width: 20; margin: 0; }
    EditAccountForm .field-row > Input { width: 1fr; }
    EditAccountForm .field-hint { color: $text-muted; padding-left: 20; }
    """

    def __init__(self, account_name: str, values: dict[str, str], submit) -> None:
        super().__init__(submit)
        self.account_name = account_name
        self.initial = {key: values.get(key, "") for key in FIELDS}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(f"Edit {self.account_name}", classes="form-title")
            yield Static("", id="form-message")
            for key, spec in FIELDS.items():
                with Horizontal(classes="field-row"):
                    yield Static(spec.label, classes="field-label")
                    yield Input(
                        self.initial[key],
                        placeholder=spec.example or "",
                        id=f"field-{key}",
                        validators=[ServiceValidator(_checker(key))],
                        valid_empty=spec.kind != "column" or key != "name",
                        compact=True,
                    )
                yield Static(spec.help, classes="field-hint")
                yield Static("", id=f"error-{key}", classes="field-error")
            yield Static("ctrl+s save · esc cancel · tab next field", classes="form-help")

    def on_mount(self) -> None:
        self.query_one("#field-stage", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("field-")
        result = event.validation_result
        message = "" if result is None or result.is_valid else result.failure_descriptions[0]
        self.show_field_error(key, message)

    def on_input_submitted(self) -> None:
        self.action_save()

    def changes(self) -> dict[str, str]:
        """Field → text for every input whose text differs from the value it started with."""
        out = {}
        for key in FIELDS:
            text = self.query_one(f"#field-{key}", Input).value
            if text.strip() != self.initial[key].strip():
                out[key] = text
        return out

    def gather(self) -> tuple | None:
        changes = self.changes()
        if not changes:
            self.show_message("Nothing changed yet: edit a field, or esc to close.")
            return None
        bad = []
        for key, text in changes.items():
            result = self.query_one(f"#field-{key}", Input).validate(text)
            if result is not None and not result.is_valid:
                self.show_field_error(key, result.failure_descriptions[0])
                bad.append(FIELDS[key].label)
        if bad:
            self.show_message(f"Not saved: fix {', '.join(bad)}.")
            return None
        return (changes,)
