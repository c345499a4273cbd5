"""What the account forms share: a modal that saves through a service call in a worker.

The form is given `submit`, a function that writes (e.g. `edits.add_note` bound to the book
and account) and returns an `EditResult`. It runs in a worker thread; a ValidationError is
shown inline under the field it names and nothing is saved; any other CsmError is shown in
the form's message line. Only a successful save dismisses the form, with the EditResult;
escape dismisses with None and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Static

from csm_tui.errors import CsmError, ValidationError
from csm_tui.screens.base import ReportsWorkerErrors


class ServiceValidator(Validator):
    """A Textual validator around a parser that raises ValidationError (e.g. fields.validate)."""

    def __init__(self, check: Callable[[str], Any]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value)
        except CsmError as exc:
            return self.failure(getattr(exc, "problem", exc.message))
        return self.success()


class SavingForm(ReportsWorkerErrors, ModalScreen):
    """Base of the account forms: ctrl+s saves, escape cancels, errors are shown inline."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]
    DEFAULT_CSS = """
    SavingForm { align: center middle; }
    SavingForm > #form { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1; }
    SavingForm .form-title { text-style: bold; margin-bottom: 1; }
    SavingForm .field-error { color: $error; height: auto; display: none; padding-left: 2; }
    SavingForm .field-label { margin-top: 1; }
    SavingForm #form-message { color: $error; height: auto; }
    SavingForm #form-message:empty { display: none; }
    SavingForm .form-help { color: $text-muted; }
    """

    class Refused(Message):
        """The service refused the input: show `message` (under `field` when it names one)."""

        def __init__(self, field: str | None, message: str) -> None:
            super().__init__()
            self.field, self.message = field, message

    def __init__(self, submit: Callable[..., Any]) -> None:
        super().__init__()
        self.submit = submit
        self.saving = False

    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Validate, then save in a worker (subclasses gather the arguments)."""
        if self.saving:
            return
        args = self.gather()
        if args is None:
            return  # gather() has shown what is wrong
        self.saving = True
        self.show_message("Saving…", error=False)
        self._save(args)

    def gather(self) -> tuple | None:
        """The arguments for `submit`, or None after showing inline what is invalid."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="form.save", exit_on_error=False, name="saving")
    def _save(self, args: tuple) -> None:
        try:
            result = self.submit(*args)
        except ValidationError as exc:
            self.post_message(self.Refused(exc.field, exc.problem))
            return
        except CsmError as exc:
            self.post_message(self.Refused(None, exc.message))
            return
        finally:
            self.saving = False
        self.app.call_from_thread(self.dismiss, result)

    def on_saving_form_refused(self, event: Refused) -> None:
        if not (event.field and self.show_field_error(event.field, event.message)):
            self.show_message(f"Not saved: {event.message}")
        else:
            self.show_message("Not saved: fix the field marked above.")

    def show_field_error(self, field: str, message: str) -> bool:
        """Show `message` under `field`'s input; False if the form has no such field."""
        found = self.query(f"#error-{field.replace('.', '-')}")
        if not found:
            return False
        label = found.first(Static)
        label.update(message)
        label.display = bool(message)
        return True

    def show_message(self, text: str, error: bool = True) -> None:
        """The form's message line (errors in red, progress plain)."""
        line = self.query_one("#form-message", Static)
        line.styles.color = None if not error else "red"
        line.update(text)
