"""`i` on the welcome screen, `ctrl+o` anywhere: pick a file to import, its kind, dry run.

A pure form: it checks that the path names a file and returns an `ImportRequest`
(`dismiss`); the app runs the import (and the rescore after it) in its jobs worker with a
progress line, and reports rejected rows as `FILE:ROW: field: problem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Checkbox, Input, Select, Static

from csm_tui.service.jobs import IMPORT_KINDS

#: What each kind's file holds, for the kind picker.
KIND_HELP = {
    "accounts": "one row per account (CRM export)",
    "contacts": "stakeholders: champion, sponsor, sentiment",
    "usage": "product usage snapshots",
    "tickets": "support tickets",
    "nps": "NPS / CSAT survey responses",
    "timeline": "calls, meetings, emails, notes",
    "renewals": "renewal history and open renewals",
    "objectives": "customer success objectives",
}


@dataclass(frozen=True)
class ImportRequest:
    """The file to import, as which kind, and whether only to check it."""

    path: Path
    kind: str
    dry_run: bool = False


class IsAFile(Validator):
    """The text names an existing file (`~` expanded), not a folder."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure("Type the path of the file to import.")
        path = Path(text).expanduser()
        if not path.exists():
            return self.failure(f"{path}: no such file.")
        if not path.is_file():
            return self.failure(f"{path}: is a folder; name a CSV, JSON or JSONL file.")
        return self.success()


class ImportForm(ModalScreen[ImportRequest | None]):
    """Path, kind and dry run; ctrl+s or Enter imports, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Import", id="import_form.import"),
        Binding("escape", "cancel", "Cancel", id="import_form.cancel"),
    ]
    DEFAULT_CSS = """
    ImportForm { align: center middle; }
    ImportForm > #form { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1; }
    ImportForm .form-title { text-style: bold; margin-bottom: 1; }
    ImportForm .field-label { margin-top: 1; }
    ImportForm #error-path { color: $error; height: auto; padding-left: 2; }
    ImportForm #error-path:empty { display: none; }
    ImportForm .form-help { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, kind: str = "accounts") -> None:
        super().__init__()
        self.kind = kind if kind in IMPORT_KINDS else IMPORT_KINDS[0]

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("Import a file into the book", classes="form-title")
            yield Static("File (CSV, JSON or JSONL)", classes="field-label")
            yield Input(
                placeholder="~/exports/accounts.csv",
                id="path",
                validators=[IsAFile()],
                validate_on=["submitted"],
            )
            yield Static("", id="error-path")
            yield Static("What the file holds", classes="field-label")
            yield Select(
                [(f"{kind} — {KIND_HELP.get(kind, '')}", kind) for kind in IMPORT_KINDS],
                value=self.kind,
                allow_blank=False,
                id="kind",
            )
            yield Checkbox("Dry run: check the file and show what would change", id="dry-run")
            yield Static(
                "All rows or none: a file with bad rows writes nothing and lists them.\n"
                "ctrl+s or Enter import · esc cancel · tab next field",
                classes="form-help",
            )

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Input.Submitted, "#path")
    def _path_submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        """Check the path; if it names a file, return the request."""
        request = self.gather()
        if request is not None:
            self.dismiss(request)

    def gather(self) -> ImportRequest | None:
        """The request, or None after showing under the path what is wrong with it."""
        path_input = self.query_one("#path", Input)
        result = path_input.validate(path_input.value)
        error = self.query_one("#error-path", Static)
        if result is not None and not result.is_valid:
            error.update("; ".join(result.failure_descriptions))
            path_input.focus()
            return None
        error.update("")
        return ImportRequest(
            path=Path(path_input.value.strip()).expanduser(),
            kind=str(self.query_one("#kind", Select).value),
            dry_run=self.query_one("#dry-run", Checkbox).value,
        )

    def action_cancel(self) -> None:
        """Close without importing anything."""
        self.dismiss(None)
