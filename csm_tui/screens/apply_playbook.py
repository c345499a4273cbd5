"""Pick a playbook for an account (`b` on the account screen); its steps become dated tasks.

`ApplyPlaybookForm(account_id, account_name="")` dismisses with the `ApplyResult` once the tasks
are written, or None when cancelled.
"""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from csm_tui import clock
from csm_tui.errors import CsmError
from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.screens.triage_forms import report_refusal, session_book, session_reader
from csm_tui.service import plans
from csm_tui.service.plans import ApplyResult, PlaybookTemplate


def steps_preview(playbook: PlaybookTemplate, limit: int = 12, dates: bool = True) -> Text:
    """The steps with their day offsets (and the dates they would be due if applied today)."""
    today = clock.today()
    text = Text(playbook.description + "\n", style="italic") if playbook.description else Text()
    for step in playbook.steps[:limit]:
        due = (today + timedelta(days=step.offset_days)).isoformat() if dates else ""
        text.append(f"  day {step.offset_days:>3}  {due}  ", style="dim")
        text.append(step.title + "\n")
    if len(playbook.steps) > limit:
        text.append(f"  … and {len(playbook.steps) - limit} more steps", style="dim")
    return text


class ApplyPlaybookForm(ReportsWorkerErrors, ModalScreen[ApplyResult | None]):
    """The book's playbooks; Enter applies the highlighted one to the account."""

    DEFAULT_CSS = """
    ApplyPlaybookForm { align: center middle; }
    ApplyPlaybookForm > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                   border: thick $primary; background: $surface; padding: 0 1; }
    ApplyPlaybookForm .form-title { text-style: bold; margin-bottom: 1; }
    ApplyPlaybookForm OptionList { height: auto; max-height: 12; }
    ApplyPlaybookForm #preview { height: auto; max-height: 16; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="apply_playbook.cancel"),
        Binding("j", "cursor(1)", "Down", show=False, id="apply_playbook.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="apply_playbook.up"),
    ]

    class Loaded(Message):
        """The book's playbooks were read."""

        def __init__(self, playbooks: list[PlaybookTemplate]) -> None:
            super().__init__()
            self.playbooks = playbooks

    def __init__(self, account_id: str, account_name: str = "") -> None:
        super().__init__()
        self.account_id = account_id
        self.account_name = account_name or account_id
        self.playbooks: list[PlaybookTemplate] = []
        self._busy = False

    def compose(self) -> ComposeResult:
        """Title, the playbooks, a preview of the highlighted one's steps."""
        with Vertical():
            yield Label(f"Apply a playbook to {self.account_name}", classes="form-title")
            yield OptionList(id="playbooks")
            yield Static("", id="preview")
            yield Label("Enter applies (steps become tasks from today) · Esc cancels")

    def on_mount(self) -> None:
        """Read the playbooks."""
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="apply-playbook")
    def load(self) -> None:
        """Read the templates (worker)."""
        try:
            self.post_message(self.Loaded(plans.list_playbooks(session_reader(self.app))))
        except CsmError as exc:
            report_refusal(self, exc.message)

    def on_apply_playbook_form_loaded(self, message: Loaded) -> None:
        """List the playbooks and focus the list."""
        self.playbooks = message.playbooks
        options = self.query_one("#playbooks", OptionList)
        options.set_options(
            Option(f"{p.name}  ({len(p.steps)} steps)", id=p.id) for p in self.playbooks
        )
        options.highlighted = 0 if self.playbooks else None
        options.focus()

    @on(OptionList.OptionHighlighted, "#playbooks")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        playbook = next((p for p in self.playbooks if p.id == event.option.id), None)
        if playbook is not None:
            self.query_one("#preview", Static).update(steps_preview(playbook))

    def action_cursor(self, step: int) -> None:
        """Move the highlight (j/k)."""
        options = self.query_one("#playbooks", OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_cancel(self) -> None:
        """Apply nothing."""
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#playbooks")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if not self._busy and event.option.id:
            self._busy = True
            self.apply(event.option.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="apply-playbook")
    def apply(self, playbook_id: str) -> None:
        """Write the tasks and the timeline event (worker)."""
        try:
            result = plans.apply_playbook(session_book(self.app), self.account_id, playbook_id)
        except CsmError as exc:
            self._busy = False
            report_refusal(self, exc.message)
            return
        text = (
            f"{result.playbook_name} applied to {result.account_name}: {len(result.task_ids)} tasks"
        )
        self.app.call_from_thread(self.notify, text, title="Playbook")
        self.app.call_from_thread(self.dismiss, result)
