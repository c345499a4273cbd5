"""The save-plan modal (prefilled from the account's data) and the close-plan modal.

`SavePlanForm(account_id, alert_id=None)` loads a draft in a worker, lets the user adjust it,
and on Enter (the focused "Create plan" button) creates the plan, its tasks and a timeline
event in one transaction; it dismisses with the `SavePlanResult`, or None when cancelled.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, TextArea
from textual.widgets.selection_list import Selection

from csm_tui.errors import CsmError
from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.screens.triage_forms import parse_future_date, report_refusal, session_book
from csm_tui.service import plans
from csm_tui.service.plans import SavePlanDraft, SavePlanResult

PLAN_CSS = """
SavePlanForm, ClosePlanForm { align: center middle; }
.plan-form { width: 110; max-width: 100%; height: auto; max-height: 100%;
             border: thick $primary; background: $surface; padding: 0 1; }
.plan-form .form-title { text-style: bold; margin: 0 0 1 0; }
.plan-form .field-label { color: $text-muted; margin-top: 1; }
.plan-form .column { width: 1fr; height: auto; padding: 0 1; }
.plan-form SelectionList { height: auto; max-height: 10; }
.plan-form RadioSet { width: 100%; }
.plan-form Input { width: 100%; }
.plan-form .form-error { color: $error; height: auto; }
.plan-form .buttons { height: auto; margin-top: 1; }
.plan-form .buttons Button { margin-right: 2; }
"""


class SavePlanForm(ReportsWorkerErrors, ModalScreen[SavePlanResult | None]):
    """A save plan for one account: risk, reasons, playbooks, owner, sponsor, target, criteria."""

    DEFAULT_CSS = PLAN_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="save_plan.cancel"),
        Binding("ctrl+s", "create", "Create plan", id="save_plan.create"),
    ]

    class DraftReady(Message):
        """The prefilled draft was loaded."""

        def __init__(self, draft: SavePlanDraft) -> None:
            super().__init__()
            self.draft = draft

    class Created(Message):
        """The plan was written."""

        def __init__(self, result: SavePlanResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, account_id: str, alert_id: int | None = None) -> None:
        super().__init__()
        self.account_id = account_id
        self.alert_id = alert_id
        self.draft: SavePlanDraft | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        """Two columns of fields, then Create / Cancel."""
        with VerticalScroll(classes="plan-form"):
            yield Label("Save plan — loading the account…", classes="form-title", id="title")
            with Horizontal(classes="buttons"):
                yield Button("Create plan", variant="primary", id="create", disabled=True)
                yield Button("Cancel", id="cancel")
            yield Label("", classes="form-error", id="error")
            with Horizontal(id="fields"):
                with Vertical(classes="column"):
                    yield Label("Reasons (space ticks)", classes="field-label")
                    yield SelectionList[str](id="reasons")
                    yield Label(
                        "Playbooks to start (their steps become tasks)", classes="field-label"
                    )
                    yield SelectionList[str](id="playbooks")
                with Vertical(classes="column"):
                    yield Label("Risk level", classes="field-label")
                    with RadioSet(id="risk"):
                        for level in plans.RISK_LEVELS:
                            yield RadioButton(level, id=f"risk-{level}")
                    yield Label("Owner", classes="field-label")
                    yield Input(id="owner")
                    yield Label("Executive sponsor", classes="field-label")
                    yield Input(id="sponsor")
                    yield Label("Target date (YYYY-MM-DD)", classes="field-label")
                    yield Input(id="target")
                    yield Label("Success criteria", classes="field-label")
                    yield TextArea(id="criteria", soft_wrap=True)

    def on_mount(self) -> None:
        """Load the draft from the book."""
        self.query_one("#criteria", TextArea).styles.height = 5
        self.load_draft()

    @work(thread=True, exclusive=True, exit_on_error=False, group="save-plan")
    def load_draft(self) -> None:
        """Prefill from the account's scores, alerts, sponsor and renewal (worker)."""
        try:
            draft = plans.draft_save_plan(session_book(self.app), self.account_id, self.alert_id)
        except CsmError as exc:
            report_refusal(self, exc.message)
            self.app.call_from_thread(self.dismiss, None)
            return
        self.post_message(self.DraftReady(draft))

    def on_save_plan_form_draft_ready(self, message: DraftReady) -> None:
        """Fill the fields and put the focus on Create, so Enter accepts the defaults."""
        draft = self.draft = message.draft
        self.query_one("#title", Label).update(
            f"Save plan — {draft.account_name}  ({draft.risk_level} risk)"
        )
        self.query_one("#reasons", SelectionList).set_options(
            Selection(plans.REASON_LABELS[r], r, r in draft.reasons) for r in plans.SAVE_REASONS
        )
        self.query_one("#playbooks", SelectionList).set_options(
            Selection(f"{p.name} ({len(p.steps)} steps)", p.id, p.id in draft.playbook_ids)
            for p in draft.playbooks
        )
        self.query_one(f"#risk-{draft.risk_level}", RadioButton).value = True
        self.query_one("#owner", Input).value = draft.owner
        self.query_one("#sponsor", Input).value = draft.sponsor
        self.query_one("#target", Input).value = draft.target_date
        self.query_one("#criteria", TextArea).text = draft.success_criteria
        create = self.query_one("#create", Button)
        create.disabled = False
        create.focus()

    @on(SelectionList.SelectedChanged, "#reasons")
    def _reasons_changed(self, event: SelectionList.SelectedChanged) -> None:
        """Tick the playbooks answering newly ticked reasons."""
        if self.draft is None:
            return
        playbooks = self.query_one("#playbooks", SelectionList)
        for playbook_id in plans.suggested_playbooks(
            event.selection_list.selected, self.draft.playbooks
        ):
            playbooks.select(playbook_id)

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        """Validate the form and create the plan."""
        draft = self._read_form()
        if draft is not None and not self._busy:
            self._busy = True
            self.create_plan(draft)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Create nothing."""
        self.dismiss(None)

    def _read_form(self) -> SavePlanDraft | None:
        if self.draft is None:
            return None
        try:
            target = parse_future_date(self.query_one("#target", Input).value)
        except ValueError as exc:
            self._error(f"Target date: {exc}")
            return None
        pressed = self.query_one("#risk", RadioSet).pressed_button
        draft = self.draft
        draft.risk_level = (pressed.id or "").removeprefix("risk-") if pressed else draft.risk_level
        draft.reasons = list(self.query_one("#reasons", SelectionList).selected)
        draft.playbook_ids = list(self.query_one("#playbooks", SelectionList).selected)
        draft.owner = self.query_one("#owner", Input).value
        draft.sponsor = self.query_one("#sponsor", Input).value
        draft.target_date = target.isoformat()
        draft.success_criteria = self.query_one("#criteria", TextArea).text
        return draft

    def _error(self, text: str) -> None:
        self.query_one("#error", Label).update(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save-plan")
    def create_plan(self, draft: SavePlanDraft) -> None:
        """Write the plan, tasks and event in one transaction (worker)."""
        try:
            result = plans.create_save_plan(session_book(self.app), draft)
        except CsmError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        except Exception:
            self.app.call_from_thread(self._failed, "nothing was written")
            raise  # the app's worker handler reports it
        self.post_message(self.Created(result))

    def _failed(self, message: str) -> None:
        self._busy = False
        self._error(f"Not saved: {message}")

    def on_save_plan_form_created(self, message: Created) -> None:
        """Tell the user and close the form with the result."""
        self.notify(message.result.summary(), title="Save plan")
        self.dismiss(message.result)


class ClosePlanForm(ReportsWorkerErrors, ModalScreen[str | None]):
    """Close a save plan as saved or lost, with lessons learned; dismisses with a message."""

    DEFAULT_CSS = PLAN_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="close_plan.cancel"),
        Binding("ctrl+s", "close_plan", "Close plan", id="close_plan.save"),
    ]

    def __init__(self, plan_id: str, account_name: str) -> None:
        super().__init__()
        self.plan_id = plan_id
        self.account_name = account_name

    def compose(self) -> ComposeResult:
        """Outcome, lessons, buttons."""
        with Vertical(classes="plan-form"):
            yield Label(f"Close the save plan for {self.account_name}", classes="form-title")
            with RadioSet(id="outcome"):
                yield RadioButton("saved", id="outcome-saved", value=True)
                yield RadioButton("lost", id="outcome-lost")
            yield Label("Lessons learned", classes="field-label")
            yield TextArea(id="lessons", soft_wrap=True)
            yield Label("", classes="form-error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Close plan", variant="primary", id="close")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start on the outcome."""
        self.query_one("#lessons", TextArea).styles.height = 6
        self.query_one("#outcome", RadioSet).focus()

    @on(Button.Pressed, "#close")
    def action_close_plan(self) -> None:
        """Save the outcome and lessons."""
        pressed = self.query_one("#outcome", RadioSet).pressed_button
        outcome = (pressed.id or "outcome-saved").removeprefix("outcome-") if pressed else "saved"
        self.close_plan(outcome, self.query_one("#lessons", TextArea).text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Change nothing."""
        self.dismiss(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="close-plan")
    def close_plan(self, outcome: str, lessons: str) -> None:
        """Write it (worker)."""
        try:
            message = plans.close_save_plan(session_book(self.app), self.plan_id, outcome, lessons)
        except CsmError as exc:
            self.app.call_from_thread(self.query_one("#error", Label).update, exc.message)
            return
        self.app.call_from_thread(self.dismiss, message)
