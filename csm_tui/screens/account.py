"""The account screen (Enter on a row): health gauge and trend, churn risk and its drivers,
renewal card, stakeholders, usage, tickets, NPS, timeline, alerts, tasks and save plans.

`e` `n` `l` `r` open forms that save through `csm_tui.service.edits` (write → rescore →
EditResult); the screen then re-reads the account and a toast says what changed, e.g.
"Health 71 → 58 (yellow); alert opened: champion left". `b`/`p` open the
apply-playbook and save-plan forms.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from csm_tui.clock import today
from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.service import account_view, edits
from csm_tui.service.account_view import AccountView, ChurnExplanation
from csm_tui.service.fields import parse_datetime
from csm_tui.widgets.account_table import money
from csm_tui.widgets.book_header import BookHeader
from csm_tui.widgets.health_bar import band_color
from csm_tui.widgets.health_gauge import HealthGauge
from csm_tui.widgets.trend_plot import TrendPlot


class AccountScreen(ReportsWorkerErrors, Screen):
    """One account, everything about it, and the keys to change it."""

    BINDINGS = [
        Binding("e", "edit", "Edit", id="account.edit"),
        Binding("n", "note", "Note", id="account.note"),
        Binding("l", "log", "Log activity", id="account.log"),
        Binding("r", "nps", "Record NPS", id="account.nps"),
        Binding("b", "playbook", "Apply playbook", id="account.playbook"),
        Binding("p", "save_plan", "Save plan", id="account.save_plan"),
        Binding("escape", "back", "Back", id="account.back"),
    ]
    DEFAULT_CSS = """
    AccountScreen #title { height: auto; padding: 0 1; background: $boost; }
    AccountScreen .row { height: auto; }
    AccountScreen .col { width: 1fr; height: auto; }
    AccountScreen .panel { height: auto; border: round $panel-lighten-2; padding: 0 1; }
    AccountScreen TrendPlot { height: 8; border: round $panel-lighten-2; }
    AccountScreen.narrow .row { layout: vertical; }
    """
    #: Below this width the two columns stack.
    NARROW = 100

    class Loaded(Message):
        """The account's view, read in a worker."""

        def __init__(self, view: AccountView) -> None:
            super().__init__()
            self.view = view

    class DriversLoaded(Message):
        """The churn model's explanation for the account."""

        def __init__(self, explanation: ChurnExplanation) -> None:
            super().__init__()
            self.explanation = explanation

    def __init__(self, account_id: str, section: str | None = None) -> None:
        super().__init__()
        self.account_id = account_id
        self.section = section
        self.view: AccountView | None = None
        self.drivers: ChurnExplanation | None = None

    def compose(self) -> ComposeResult:
        yield BookHeader("Account")
        with VerticalScroll(id="body"):
            yield Static("Loading the account…", id="title")
            with Horizontal(classes="row"):
                with Vertical(classes="col"):
                    yield HealthGauge(id="gauge")
                    yield TrendPlot(
                        labels=[], y_range=(0, 100), id="health-trend", colors={"Health": "cyan"}
                    )
                with Vertical(classes="col"):
                    yield self._panel("churn", "Churn risk")
                    yield self._panel("renewal", "Renewal")
                    yield self._panel("alerts", "Open alerts")
            with Horizontal(classes="row"):
                with Vertical(classes="col"):
                    yield TrendPlot(labels=[], id="usage-trend", kind="line")
                    yield self._panel("stakeholders", "Stakeholders")
                with Vertical(classes="col"):
                    yield self._panel("tickets", "Tickets")
                    yield self._panel("nps", "NPS and CSAT")
            with Horizontal(classes="row"):
                yield self._panel("timeline", "Timeline", "col")
                with Vertical(classes="col"):
                    yield self._panel("tasks", "Open tasks")
                    yield self._panel("plans", "Save plans")
        yield Footer()

    @staticmethod
    def _panel(name: str, title: str, extra: str = "") -> Static:
        panel = Static("", id=name, classes=f"panel {extra}".strip())
        panel.border_title = title
        return panel

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.NARROW, "narrow")

    def on_mount(self) -> None:
        self.set_class(self.size.width < self.NARROW, "narrow")
        self.query_one("#health-trend").border_title = "Health, 12 months"
        self.query_one("#usage-trend").border_title = "Usage (MAU / DAU)"
        self.load()

    def refresh_data(self) -> None:
        """The book changed elsewhere: re-read this account."""
        self.load()

    # -- loading ---------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the account (and, separately, the churn drivers) in workers."""
        self._load()
        self._load_drivers()

    @work(
        thread=True,
        exclusive=True,
        group="account.load",
        exit_on_error=False,
        name="reading the account",
    )
    def _load(self) -> None:
        view = account_view.load_account(self.app.session.reader, self.account_id)
        self.post_message(self.Loaded(view))

    @work(
        thread=True,
        exclusive=True,
        group="account.churn",
        exit_on_error=False,
        name="explaining the churn risk",
    )
    def _load_drivers(self) -> None:
        explanation = account_view.churn_drivers(self.app.session.reader, self.account_id)
        self.post_message(self.DriversLoaded(explanation))

    def on_account_screen_loaded(self, event: Loaded) -> None:
        self.view = event.view
        self._render_view(event.view)
        if self.section == "usage":
            self.query_one("#body", VerticalScroll).scroll_to_widget(
                self.query_one("#usage-trend"), animate=False
            )
            self.section = None

    def on_account_screen_drivers_loaded(self, event: DriversLoaded) -> None:
        self.drivers = event.explanation
        if self.view is not None:
            self.query_one("#churn", Static).update(_churn_text(self.view, self.drivers))

    def _render_view(self, view: AccountView) -> None:
        self.query_one("#title", Static).update(_title_text(view))
        self.query_one(HealthGauge).show(view.gauge)
        self.query_one("#health-trend", TrendPlot).update_series(
            view.health_trend.values, view.health_trend.labels
        )
        self.query_one("#usage-trend", TrendPlot).update_series(
            view.usage_trend.values, view.usage_trend.labels
        )
        panels = {
            "churn": _churn_text(view, self.drivers),
            "renewal": _renewal_text(view),
            "alerts": _alerts_text(view),
            "stakeholders": _stakeholders_text(view),
            "tickets": _tickets_text(view),
            "nps": _nps_text(view),
            "timeline": _timeline_text(view),
            "tasks": _tasks_text(view),
            "plans": _plans_text(view),
        }
        for name, text in panels.items():
            self.query_one(f"#{name}", Static).update(text)

    # -- keys ------------------------------------------------------------------------------------
    def _account_name(self) -> str:
        return self.view.name if self.view else self.account_id

    def _writer(self, edit):
        """`edit` bound to the book's writer and this account, resolved in the form's worker
        (the connection is never opened on the event loop)."""
        session, account_id = self.app.session, self.account_id
        return lambda *args: edit(session.book, account_id, *args)

    def action_edit(self) -> None:
        """Edit the account's fields and signals."""
        if self.view is None:
            return
        from csm_tui.screens.forms.edit_account import EditAccountForm

        submit = self._writer(edits.update_account)
        form = EditAccountForm(self._account_name(), self.view.edit_values, submit)
        self.app.push_screen(form, self._saved)

    def action_note(self) -> None:
        """Add a note to the timeline."""
        from csm_tui.screens.forms.note import NoteForm

        submit = self._writer(edits.add_note)
        self.app.push_screen(NoteForm(self._account_name(), submit), self._saved)

    def action_log(self) -> None:
        """Log a call, meeting, email or QBR."""
        from csm_tui.screens.forms.log_activity import LogActivityForm

        submit = self._writer(edits.log_event)
        form = LogActivityForm(self._account_name(), submit, check_time=_check_time)
        self.app.push_screen(form, self._saved)

    def action_nps(self) -> None:
        """Record an NPS response."""
        from csm_tui.screens.forms.nps import NpsForm

        submit = self._writer(edits.record_response)
        self.app.push_screen(NpsForm(self._account_name(), submit), self._saved)

    def action_playbook(self) -> None:
        """Apply a playbook: its steps become tasks with due dates from the offsets."""
        from csm_tui.screens.apply_playbook import ApplyPlaybookForm

        form = ApplyPlaybookForm(self.account_id, self._account_name())
        self.app.push_screen(form, self._after_plan_form)

    def action_save_plan(self) -> None:
        """Create a save plan for this account, prefilled from its alerts and scores."""
        from csm_tui.screens.save_plan import SavePlanForm

        self.app.push_screen(SavePlanForm(self.account_id), self._after_plan_form)

    def action_back(self) -> None:
        """Back to where the account was opened from."""
        self.dismiss() if self.is_modal else self.app.pop_screen()

    def _after_plan_form(self, result) -> None:
        if result is not None:
            self.load()
            self.app.refresh_summary()  # type: ignore[attr-defined]

    def _saved(self, result) -> None:
        """A form saved: toast what changed, then show the new score, risk and alerts."""
        if result is None:
            return
        self.notify(result.summary() or "Saved.", title=f"Saved · {result.account_name}", timeout=6)
        self.load()
        self.app.refresh_summary()  # type: ignore[attr-defined]


def _check_time(text: str) -> str:
    from csm_tui.errors import ValidationError
    from csm_tui.service.fields import Problem

    try:
        return parse_datetime(text)
    except Problem as exc:
        raise ValidationError("at", str(exc)) from None


# -- panels (rich Text, pure functions of the view) -------------------------------------------------
def _title_text(view: AccountView) -> Text:
    f = view.facts
    out = Text(view.name, style="bold")
    out.append(f"  {view.id}", style="dim")
    bits = [f.get("segment"), f.get("tier"), f.get("stage"), f.get("plan")]
    out.append("  " + " · ".join(b for b in bits if b))
    out.append(f"  owner {f.get('owner') or '–'}  ARR {money(f.get('arr') or 0)}")
    if f.get("seats"):
        out.append(f"  {f['seats']} seats")
    if f.get("status") != "active":
        out.append(f"  ({f.get('status')})", style="bold red")
    return out


def _churn_text(view: AccountView, drivers: ChurnExplanation | None) -> Text:
    out = Text()
    if view.churn_prob is None:
        out.append("No model probability", style="dim")
    else:
        style = "red" if view.churn_prob >= 0.5 else "yellow" if view.churn_prob >= 0.2 else "green"
        out.append(f"{view.churn_prob:.0%}", style=f"bold {style}")
        out.append(" chance of churning at renewal")
    if view.risk_segment:
        out.append(f"\nRisk segment: {view.risk_segment}")
    if view.facts.get("risk_top10"):
        out.append(" · in the riskiest 10 % of the book", style="bold red")
    if drivers is None:
        out.append("\nLoading the model's drivers…", style="dim")
    elif drivers.drivers:
        for line in drivers.drivers:
            out.append(f"\n• {line}")
    else:
        out.append(f"\n{drivers.note}", style="dim")
    return out


def _renewal_text(view: AccountView) -> Text:
    f = view.facts
    out = Text()
    if f.get("renewal_date"):
        style = "bold red" if view.days_left is not None and view.days_left <= 30 else "bold"
        out.append(f"{f['renewal_date']}", style="bold")
        out.append(f"  in {view.days_left} days" if view.days_left is not None else "", style=style)
        out.append(f"  ARR {money(f.get('arr') or 0)}")
    else:
        out.append("No renewal date on record", style="dim")
    for r in view.renewals:
        line = f"\n{r['due_date']}  {money(r['arr_before'] or 0)}"
        if r["outcome"]:
            after = money(r["arr_after"] or 0) if r["arr_after"] is not None else "–"
            line += f" → {after}  {r['outcome']}"
        elif r["csm_call"]:
            line += f"  open · your call: {r['csm_call'].replace('_', ' ')}"
        else:
            line += "  open"
        out.append(line, style="red" if r["outcome"] == "churned" else "")
    return out


def _alerts_text(view: AccountView) -> Text:
    if not view.alerts:
        return Text("No open alerts", style="dim")
    out = Text()
    for index, a in enumerate(view.alerts):
        style = {"high": "bold red", "medium": "yellow"}.get(a["severity"], "")
        out.append("\n" if index else "")
        out.append(f"{a['severity']:<6} ", style=style)
        out.append(a["reason"])
        if a["status"] == "snoozed":
            out.append(f" (snoozed until {a['snoozed_until']})", style="dim")
    return out


def _stakeholders_text(view: AccountView) -> Text:
    if not view.stakeholders:
        return Text("No contacts on record", style="dim")
    out = Text()
    for index, c in enumerate(view.stakeholders):
        out.append("\n" if index else "")
        out.append(f"{c['role']:<9} ", style="bold" if c["role"] in ("champion", "sponsor") else "")
        out.append(c["name"], style="" if c["active"] else "strike dim")
        if c.get("title"):
            out.append(f", {c['title']}", style="dim")
        if c.get("sentiment"):
            color = {"positive": "green", "negative": "red"}.get(c["sentiment"], "")
            out.append(f"  {c['sentiment']}", style=color)
        if not c["active"]:
            out.append(f"  left {c['left_on'] or ''}".rstrip(), style="bold red")
    return out


def _tickets_text(view: AccountView) -> Text:
    out = Text(f"{view.open_tickets} open", style="bold")
    for t in view.tickets:
        sev = "red" if t["severity"] <= 2 and t["status"] not in ("solved", "closed") else ""
        out.append(f"\n{t['opened_at'][:10]} ")
        out.append(f"sev {t['severity']}", style=sev)
        out.append(f" {t['status']:<7} {t['subject'] or ''}")
    return out


def _nps_text(view: AccountView) -> Text:
    if not view.responses:
        return Text("No responses yet", style="dim")
    out = Text()
    for index, r in enumerate(view.responses):
        score = r["score"]
        if r["kind"] == "nps":
            style = "green" if score >= 9 else "red" if score <= 6 else "yellow"
        else:
            style = "green" if score >= 4 else "red" if score <= 2 else "yellow"
        out.append("\n" if index else "")
        out.append(f"{r['date']} {r['kind'].upper():<4} ")
        out.append(f"{score:.0f}", style=f"bold {style}")
        if r["comment"]:
            out.append(f"  “{r['comment']}”", style="italic")
    return out


def _timeline_text(view: AccountView) -> Text:
    if not view.events:
        return Text("Nothing logged yet: `l` logs a call, `n` adds a note", style="dim")
    out = Text()
    for index, e in enumerate(view.events):
        out.append("\n" if index else "")
        out.append(f"{e['at'][:10]} ", style="dim")
        out.append(f"{e['kind']:<7} ", style="bold")
        out.append(e["text"].splitlines()[0][:120] if e["text"] else "")
    return out


def _tasks_text(view: AccountView) -> Text:
    if not view.tasks:
        return Text("No open tasks (`b` applies a playbook)", style="dim")
    out = Text()
    for index, t in enumerate(view.tasks):
        overdue = bool(t["due_date"]) and date.fromisoformat(t["due_date"][:10]) < today()
        out.append("\n" if index else "")
        out.append(f"☐ {t['title']}")
        if t["due_date"]:
            out.append(f"  due {t['due_date']}", style="bold red" if overdue else "dim")
    return out


def _plans_text(view: AccountView) -> Text:
    if not view.save_plans:
        return Text("No open save plan (`p` creates one)", style="dim")
    out = Text()
    for index, p in enumerate(view.save_plans):
        out.append("\n" if index else "")
        out.append(f"{p['id']} ", style="bold")
        out.append(
            f"risk {p['risk_level']}",
            style=band_color({"high": "red", "medium": "yellow"}.get(p["risk_level"], "green")),
        )
        out.append(f"  target {p['target_date'] or '–'}")
    return out
