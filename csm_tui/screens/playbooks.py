"""Playbooks (`4`): the book's templates (editable), open save plans, and the user's tasks.

`e`/Enter on a template edits it (name, description, steps with their day offsets); `c` on a
save plan closes it as saved or lost; space on a task ticks it off (space again undoes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from csm_tui.errors import CsmError
from csm_tui.screens.alerts import open_account
from csm_tui.screens.apply_playbook import steps_preview
from csm_tui.screens.base import ReloadsWhenShown, ReportsWorkerErrors
from csm_tui.screens.save_plan import ClosePlanForm
from csm_tui.screens.triage_forms import report_refusal, session_book, session_reader
from csm_tui.service import plans
from csm_tui.service.plans import PlaybookTemplate, SavePlanSummary, TaskItem
from csm_tui.widgets.book_header import BookHeader
from csm_tui.widgets.checklist import Checklist


@dataclass(frozen=True)
class PlaybooksData:
    """Everything the screen shows, read in one worker."""

    templates: list[PlaybookTemplate]
    save_plans: list[SavePlanSummary]
    tasks: list[TaskItem]
    owner: str | None


class PlaybooksScreen(ReloadsWhenShown, ReportsWorkerErrors, Screen):
    """Templates on the left; save plans and the task checklist on the right."""

    DEFAULT_CSS = """
    PlaybooksScreen .pane { width: 1fr; padding: 0 1; }
    PlaybooksScreen #templates-pane { width: 44; }
    PlaybooksScreen .pane-title { text-style: bold; margin-top: 1; }
    PlaybooksScreen #templates { height: auto; max-height: 14; }
    PlaybooksScreen #template-steps { height: 1fr; }
    PlaybooksScreen #save-plans { height: auto; max-height: 8; }
    PlaybooksScreen #tasks { height: 1fr; }
    """
    BINDINGS = [
        Binding("e", "edit_template", "Edit template", id="playbooks.edit"),
        Binding("c", "close_plan", "Close save plan", id="playbooks.close_plan"),
        Binding("o", "open_account", "Open account", id="playbooks.open"),
        Binding("j", "cursor(1)", "Down", show=False, id="playbooks.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="playbooks.up"),
    ]

    class Loaded(Message):
        """The screen's data was read."""

        def __init__(self, data: PlaybooksData) -> None:
            super().__init__()
            self.data = data

    class TaskSaved(Message):
        """A task's done state was written."""

        def __init__(self, task_id: str, done: bool) -> None:
            super().__init__()
            self.task_id = task_id
            self.done = done

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: PlaybooksData | None = None

    def compose(self) -> ComposeResult:
        """Two panes."""
        yield BookHeader("Playbooks")
        with Horizontal():
            with Vertical(classes="pane", id="templates-pane"):
                yield Label("Playbook templates  (e edits)", classes="pane-title")
                yield OptionList(id="templates")
                yield Static("", id="template-steps")
            with Vertical(classes="pane"):
                yield Label(
                    "Open save plans  (c closes · o opens the account)", classes="pane-title"
                )
                yield OptionList(id="save-plans")
                yield Label(
                    "Open tasks  (space: done / undo)", classes="pane-title", id="tasks-title"
                )
                yield Checklist(
                    id="tasks", empty_text="No open tasks: apply a playbook (b on an account)."
                )
        yield Footer()

    def on_mount(self) -> None:
        """Start on the checklist (the daily use); the first ScreenResume reads the book."""
        self.query_one(Checklist).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="playbooks-load")
    def load(self) -> None:
        """Read templates, save plans and tasks (worker)."""
        try:
            book = session_reader(self.app)
            owner = plans.current_user(book)
            data = PlaybooksData(
                plans.list_playbooks(book),
                plans.open_save_plans(book),
                plans.open_tasks(book, owner),
                owner,
            )
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.Loaded(data))

    def on_playbooks_screen_loaded(self, message: Loaded) -> None:
        """Fill the three lists, keeping highlights."""
        data = self.data = message.data
        templates = self.query_one("#templates", OptionList)
        keep = templates.highlighted
        templates.set_options(
            Option(f"{t.name}  ({len(t.steps)} steps)", id=t.id) for t in data.templates
        )
        if data.templates:
            templates.highlighted = min(keep or 0, len(data.templates) - 1)
        self._fill_save_plans(data.save_plans)
        whose = f"{data.owner}'s accounts" if data.owner else "all accounts"
        self.query_one("#tasks-title", Label).update(f"Open tasks — {whose}  (space: done / undo)")
        self.query_one(Checklist).set_items(data.tasks)

    def _fill_save_plans(self, summaries: list[SavePlanSummary]) -> None:
        options = self.query_one("#save-plans", OptionList)
        keep = options.highlighted
        if not summaries:
            options.set_options([Option("No open save plans.", id="none", disabled=True)])
            return
        options.set_options(
            Option(
                f"{p.account_name} — {p.risk_level} risk · target {p.target_date or '–'} · "
                f"tasks {p.tasks_done}/{p.tasks_total}",
                id=p.id,
            )
            for p in summaries
        )
        options.highlighted = min(keep or 0, len(summaries) - 1)

    @on(OptionList.OptionHighlighted, "#templates")
    def _show_steps(self, event: OptionList.OptionHighlighted) -> None:
        template = self._template(event.option.id)
        if template is not None:
            self.query_one("#template-steps", Static).update(
                steps_preview(template, limit=20, dates=False)
            )

    def _template(self, template_id: str | None) -> PlaybookTemplate | None:
        templates = self.data.templates if self.data else []
        return next((t for t in templates if t.id == template_id), None)

    def action_cursor(self, step: int) -> None:
        """j/k in whichever list has the focus."""
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_cursor_down() if step > 0 else focused.action_cursor_up()

    # -- templates -------------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#templates")
    def action_edit_template(self) -> None:
        """Edit the highlighted template in a form."""
        option = self.query_one("#templates", OptionList).highlighted_option
        template = self._template(option.id if option else None)
        if template is not None:
            self.app.push_screen(EditPlaybookForm(template), self._after_edit)

    def _after_edit(self, saved: PlaybookTemplate | None) -> None:
        if saved is not None:
            self.notify(
                f"Playbook saved: {saved.name} ({len(saved.steps)} steps)", title="Playbooks"
            )
            self.load()

    # -- save plans ------------------------------------------------------------------------------
    def _current_plan(self) -> SavePlanSummary | None:
        option = self.query_one("#save-plans", OptionList).highlighted_option
        summaries = self.data.save_plans if self.data else []
        return next((p for p in summaries if option and p.id == option.id), None)

    def action_close_plan(self) -> None:
        """Close the highlighted save plan as saved or lost."""
        plan = self._current_plan()
        if plan is None:
            self.notify("Highlight an open save plan first (Tab to the list).")
            return
        self.app.push_screen(ClosePlanForm(plan.id, plan.account_name), self._after_close)

    def _after_close(self, message: str | None) -> None:
        if message:
            self.notify(message, title="Save plans")
            self.load()

    @on(OptionList.OptionSelected, "#save-plans")
    def action_open_account(self) -> None:
        """Open the account of the highlighted save plan or task."""
        if self.focused is self.query_one("#save-plans"):
            plan = self._current_plan()
            account_id = plan.account_id if plan else None
        else:
            option = self.query_one(Checklist).highlighted_option
            tasks = self.data.tasks if self.data else []
            account_id = next((t.account_id for t in tasks if option and t.id == option.id), None)
        if account_id:
            open_account(self, account_id)

    # -- tasks -----------------------------------------------------------------------------------
    @on(Checklist.Toggled)
    def _toggle(self, event: Checklist.Toggled) -> None:
        self.save_task(event.task_id)

    @work(thread=True, exclusive=False, exit_on_error=False, group="playbooks-task")
    def save_task(self, task_id: str) -> None:
        """Flip a task's done state in one durable transaction (worker)."""
        try:
            done = plans.toggle_task(session_book(self.app), task_id)
        except CsmError as exc:
            report_refusal(self, exc.message)
            return
        self.post_message(self.TaskSaved(task_id, done))

    def on_playbooks_screen_task_saved(self, message: TaskSaved) -> None:
        """Show the stored state."""
        self.query_one(Checklist).mark(message.task_id, message.done)


class EditPlaybookForm(ReportsWorkerErrors, ModalScreen[PlaybookTemplate | None]):
    """Rename a template, change its description, and edit its steps (one "DAY  TITLE" a line)."""

    DEFAULT_CSS = """
    EditPlaybookForm { align: center middle; }
    EditPlaybookForm > Vertical { width: 100; max-width: 100%; height: auto; max-height: 100%;
                                  border: thick $primary; background: $surface; padding: 0 1; }
    EditPlaybookForm .form-title { text-style: bold; }
    EditPlaybookForm .field-label { color: $text-muted; margin-top: 1; }
    EditPlaybookForm #steps { height: 16; }
    EditPlaybookForm #error { color: $error; height: auto; }
    EditPlaybookForm Horizontal { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="edit_playbook.cancel"),
        Binding("ctrl+s", "save", "Save", id="edit_playbook.save"),
    ]

    def __init__(self, template: PlaybookTemplate) -> None:
        super().__init__()
        self.template = template

    def compose(self) -> ComposeResult:
        """Name, description, steps, buttons."""
        with Vertical():
            yield Label(f"Edit playbook — {self.template.name}", classes="form-title")
            yield Label("Name", classes="field-label")
            yield Input(self.template.name, id="name")
            yield Label("Description", classes="field-label")
            yield Input(self.template.description, id="description")
            yield Label(
                "Steps: one per line, the day it is due after applying, then the title "
                "(reorder by moving lines)",
                classes="field-label",
            )
            yield TextArea(plans.format_steps(self.template.steps), id="steps")
            yield Label("", id="error")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check the steps, then save."""
        try:
            steps = plans.parse_steps(self.query_one("#steps", TextArea).text)
        except CsmError as exc:
            self.query_one("#error", Label).update(exc.message)
            return
        edited = replace(
            self.template,
            name=self.query_one("#name", Input).value,
            description=self.query_one("#description", Input).value,
            steps=steps,
        )
        self.save(edited)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Keep the template as it was."""
        self.dismiss(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="edit-playbook")
    def save(self, template: PlaybookTemplate) -> None:
        """Write the template (worker)."""
        try:
            saved = plans.save_playbook(session_book(self.app), template)
        except CsmError as exc:
            self.app.call_from_thread(self.query_one("#error", Label).update, exc.message)
            return
        self.app.call_from_thread(self.dismiss, saved)
