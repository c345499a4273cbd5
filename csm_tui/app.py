"""CsmApp: the shell — screens by number, help, command palette, themes, refresh, notices.

Screens are Textual *modes* (each keeps its own stack: the account you opened from the
portfolio is still there when you come back with `1`). Every database call runs in a worker
thread; workers report failures here (`on_worker_state_changed`), which turns them into a
notice and keeps the app running. The app polls the book's data version about once a second
and refreshes the current screen when another process (or an edit) committed.

Long jobs — the daily full rescore (started on its own when the book was last scored before
today), `ctrl+r` rescore and `ctrl+o` import — run one at a time in the "jobs" worker group.
The app holds the running job as `job`; a `JobProgress` line, mounted on whichever screen is
current, shows it; the worker only posts messages (throttled to ~10 a second).

Nothing heavy is imported here: pandas and scikit-learn load only when a screen needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen, SystemModalScreen
from textual.worker import Worker, WorkerState

from csm_tui import clock
from csm_tui.errors import CsmError
from csm_tui.service.book_session import BookSession
from csm_tui.service.portfolio import BookSummary, account_count, book_summary
from csm_tui.widgets.job_progress import JobProgress, JobState, ProgressThrottle

#: Screens by key: (mode name, module, class). A screen whose module is absent keeps its key
#: unbound (hidden from the footer and help) rather than showing an empty placeholder.
SCREENS = {
    "1": ("portfolio", "csm_tui.screens.portfolio", "PortfolioScreen"),
    "2": ("alerts", "csm_tui.screens.alerts", "AlertsScreen"),
    "3": ("renewals", "csm_tui.screens.renewals", "RenewalsScreen"),
    "4": ("playbooks", "csm_tui.screens.playbooks", "PlaybooksScreen"),
    "5": ("dashboard", "csm_tui.screens.dashboard", "DashboardScreen"),
}
#: Themes `ctrl+t` cycles through (all shipped with Textual).
THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "dracula", "solarized-light")
#: How many of a rejected import's `FILE:ROW: field: problem` lines a notice shows.
PROBLEMS_SHOWN = 5


def screen_available(module: str) -> bool:
    """True if the screen's module is installed (found without importing it: start-up stays
    fast and a screen's own imports load only when the user first opens it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _palette_provider():
    from csm_tui.palette import QuickActions

    return QuickActions


class CsmApp(App):
    """csm's full-screen app on one book."""

    TITLE = "csm"
    COMMANDS = App.COMMANDS | {_palette_provider}
    BINDINGS = [
        Binding("1", "show('1')", "Portfolio", id="app.portfolio"),
        Binding("2", "show('2')", "Alerts", id="app.alerts"),
        Binding("3", "show('3')", "Renewals", id="app.renewals"),
        Binding("4", "show('4')", "Playbooks", id="app.playbooks"),
        Binding("5", "show('5')", "Dashboard", id="app.dashboard"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+t", "next_theme", "Theme", show=False, id="app.theme"),
        Binding("ctrl+r", "rescore", "Rescore book", show=False, id="app.rescore"),
        Binding("ctrl+o", "import_file", "Import a file", show=False, id="app.import"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    book_summary: reactive[BookSummary | None] = reactive(None)
    #: The long job running now (None when idle); `JobProgress` widgets watch it.
    job: reactive[JobState | None] = reactive(None)

    class BookChanged(Message):
        """Another connection committed to the book."""

    class SummaryLoaded(Message):
        """Fresh header counts."""

        def __init__(self, summary: BookSummary) -> None:
            super().__init__()
            self.summary = summary

    class BookOpened(Message):
        """The book was opened; `accounts` is how many it holds (0 → welcome screen)."""

        def __init__(self, accounts: int) -> None:
            super().__init__()
            self.accounts = accounts

    class RescoreDue(Message):
        """The book was last fully rescored before today."""

    class JobProgressed(Message):
        """A job's worker got further (posted at most ~10 times a second)."""

        def __init__(self, label: str, unit: str, done: int, total: int) -> None:
            super().__init__()
            self.label, self.unit, self.done, self.total = label, unit, done, total

    class JobEnded(Message):
        """The job's worker finished; `notice` says what it did (None when it failed: the
        worker's error is reported on its own); `changed` when it wrote to the book."""

        def __init__(
            self,
            notice: str | None = None,
            *,
            title: str = "",
            severity: str = "information",
            changed: bool = False,
        ) -> None:
            super().__init__()
            self.notice, self.title, self.severity, self.changed = notice, title, severity, changed

    def __init__(self, db_path: Path, *, poll_interval: float = 1.0, demo: bool = False) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.session = BookSession(self.db_path)
        self.poll_interval = poll_interval
        self.demo = demo
        self._daily_checked: object = None  # the day the daily rescore was last checked for
        self.available = {key: spec for key, spec in SCREENS.items() if screen_available(spec[1])}
        for mode, module, name in self.available.values():
            self.add_mode(mode, _screen_factory(module, name))

    # -- start and stop --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._apply_keymap()
        self.switch_mode("portfolio")
        self._open_book()
        self.screen_change_signal.subscribe(self, self._show_job_progress)
        self.set_interval(self.poll_interval, self._poll, name="watch the book for changes")

    def on_unmount(self) -> None:
        self.session.close()

    def _apply_keymap(self) -> None:
        from csm_tui.keymap import load_keymap

        try:
            self.set_keymap(load_keymap())
        except CsmError as exc:
            self.notify(exc.message, title="Keymap", severity="warning", timeout=8)

    @work(
        thread=True, exclusive=True, group="app.open", exit_on_error=False, name="opening the book"
    )
    def _open_book(self) -> None:
        # the counter connection: header counts never hold up the portfolio's first rows
        self.post_message(self.BookOpened(account_count(self.session.counter)))
        self.post_message(self.SummaryLoaded(book_summary(self.session.counter)))

    def on_csm_app_book_opened(self, event: BookOpened) -> None:
        if event.accounts == 0 and not self.demo:
            from csm_tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.db_path), self._welcome_done)

    def _welcome_done(self, choice: str | None) -> None:
        if choice == "demo":
            self.open_demo()

    def open_demo(self) -> None:
        """Switch to the demo book (generated first, in a worker, if it does not exist)."""
        self.notify("Opening the demo book…", title="Demo")
        self._switch_to_demo()

    @work(
        thread=True,
        exclusive=True,
        group="app.demo",
        exit_on_error=False,
        name="preparing the demo book",
    )
    def _switch_to_demo(self) -> None:
        from csm_tui.launch import ensure_demo_book

        path = ensure_demo_book(progress=None)
        self.call_from_thread(self._reopen, path)

    def _reopen(self, path: Path) -> None:
        self.session.close()
        self.db_path = Path(path)
        self.session = BookSession(self.db_path)
        self._daily_checked = None  # a different book: is its rescore due?
        self.post_message(self.BookChanged())

    # -- refresh ---------------------------------------------------------------------------------
    def _poll(self) -> None:
        self._check_changes()
        if self._daily_checked != clock.today() and self.job is None:
            self._daily_checked = clock.today()
            self._check_rescore_due()

    @work(
        thread=True,
        exclusive=True,
        group="app.poll",
        exit_on_error=False,
        name="checking the book for changes",
    )
    def _check_changes(self) -> None:
        if self.session.changed_elsewhere():
            self.post_message(self.BookChanged())

    def on_csm_app_book_changed(self, event: BookChanged) -> None:
        if not self.screen_stack:  # the app is closing: a late change notice has nothing to show
            return
        self.refresh_summary()
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def refresh_summary(self) -> None:
        """Re-read the header counts (after an edit or an outside change)."""
        self._load_summary()

    @work(
        thread=True,
        exclusive=True,
        group="app.summary",
        exit_on_error=False,
        name="counting accounts and alerts",
    )
    def _load_summary(self) -> None:
        self.post_message(self.SummaryLoaded(book_summary(self.session.counter)))

    def on_csm_app_summary_loaded(self, event: SummaryLoaded) -> None:
        self.book_summary = event.summary

    # -- long jobs: full rescore, import ---------------------------------------------------------
    @work(
        thread=True,
        exclusive=True,
        group="app.daily",
        exit_on_error=False,
        name="checking when the book was last scored",
    )
    def _check_rescore_due(self) -> None:
        from csm_tui.service.jobs import rescore_is_stale

        if rescore_is_stale(self.session.reader, clock.today()):
            self.post_message(self.RescoreDue())

    def on_csm_app_rescore_due(self, event: RescoreDue) -> None:
        if self.job is None:  # a job already running (an import) rescores anyway
            self._start_job("Rescoring the book", "accounts")
            self._rescore_job(daily=True)

    def action_rescore(self) -> None:
        """Rescore the whole book now, in the background."""
        if self._start_job("Rescoring the book", "accounts"):
            self._rescore_job(daily=False)

    def action_import_file(self) -> None:
        """Ask for a file to import (the import then runs in the background)."""
        from csm_tui.screens.forms.import_file import ImportForm

        if not isinstance(self.screen, ImportForm):
            self.push_screen(ImportForm(), self._import_chosen)

    def _import_chosen(self, request) -> None:
        if request is not None and self._start_job(_import_label(request), "rows"):
            self._import_job(request)

    def _start_job(self, label: str, unit: str) -> bool:
        """Mark a job as running (False, with a notice, while another one still is)."""
        if self.job is not None:
            self.notify(
                f"{self.job.label} is still running; try again when it has finished.",
                severity="warning",
                timeout=4,
            )
            return False
        self.job = JobState(label, unit)
        self._show_job_progress(self.screen)
        return True

    def _show_job_progress(self, screen: Screen) -> None:
        """Give `screen` a progress line while a job runs (it watches `job` from then on)."""
        if self.job is None or isinstance(screen, SystemModalScreen):
            return  # idle, or the command palette: its own layout
        if not screen.query(JobProgress):
            screen.mount(JobProgress())

    def _reporter(self, label: str, unit: str) -> ProgressThrottle:
        """A progress callback for a job's worker thread: messages, never widget calls."""

        def send(done: int, total: int) -> None:
            self.post_message(self.JobProgressed(label, unit, done, total))

        return ProgressThrottle(send)

    def on_csm_app_job_progressed(self, event: JobProgressed) -> None:
        if self.job is not None:
            self.job = self.job.advanced(event.label, event.unit, event.done, event.total)

    @work(thread=True, exclusive=True, group="jobs", exit_on_error=False, name="rescoring the book")
    def _rescore_job(self, daily: bool) -> None:
        from csm_tui.service import jobs

        ended = self.JobEnded()
        try:
            book = self.session.book
            label = f"Rescoring {jobs.accounts_in_book(book):,} accounts"
            start = f"{label} for today…" if daily else f"{label}…"
            self.call_from_thread(self.notify, start, title="Rescore", timeout=4)
            summary = jobs.rescore_book(book, self._reporter(label, "accounts"))
            ended = self.JobEnded(jobs.rescore_message(summary), title="Rescore", changed=True)
        finally:
            self.post_message(ended)
            self.session.book.checkpoint()  # the rescore's WAL, once its result is shown

    @work(thread=True, exclusive=True, group="jobs", exit_on_error=False, name="importing the file")
    def _import_job(self, request) -> None:
        from csm_tui.service import jobs

        ended = self.JobEnded()
        try:
            outcome = jobs.import_into_book(
                self.session.book,
                request.path,
                request.kind,
                self._reporter(_import_label(request), "rows"),
                request.dry_run,
                rescore_progress=self._reporter("Rescoring the book", "accounts"),
            )
            ended = self.JobEnded(
                outcome.summary(),
                title="Import",
                severity="warning" if outcome.rescore_error else "information",
                changed=not outcome.dry_run,
            )
        finally:
            self.post_message(ended)
            self.session.book.checkpoint()

    def on_csm_app_job_ended(self, event: JobEnded) -> None:
        self.job = None
        if event.notice:
            self.notify(
                event.notice, title=event.title, severity=event.severity, timeout=8, markup=False
            )
        if event.changed and self.screen_stack:
            self._leave_welcome()
            self.post_message(self.BookChanged())

    def _leave_welcome(self) -> None:
        """The book has data now: the first-run welcome gives way to the portfolio."""
        from csm_tui.screens.welcome import WelcomeScreen

        if isinstance(self.screen, WelcomeScreen):
            self.screen.dismiss(None)

    # -- failures --------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become notices; the app keeps running."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, CsmError):
            problems = getattr(error, "problems", None) or []
            self.notify(
                _with_problems(error.message, problems),
                title="Nothing changed",
                severity="error",
                timeout=20 if problems else 10,
                markup=False,  # file names and cells are the user's text, not markup
            )
            return
        what = event.worker.name or "working on the book"
        detail = f" ({type(error).__name__}: {error})" if os.environ.get("CSM_DEBUG") else ""
        self.notify(
            f"Something went wrong while {what}; nothing was changed.{detail} "
            "Set CSM_DEBUG=1 for details.",
            title="Error",
            severity="error",
            timeout=10,
        )

    # -- navigation ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show" and parameters and parameters[0] not in self.available:
            return None  # key unbound: that screen is not part of this build
        return True

    def action_show(self, key: str) -> None:
        """Switch to screen `key` (1 portfolio … 5 dashboard)."""
        if key not in self.available:
            return
        mode, module, name = self.available[key]
        try:
            getattr(importlib.import_module(module), name)
        except Exception:  # a screen that cannot load must not take the app down
            self.notify(f"The {mode} screen could not be opened.", severity="error")
            return
        self.switch_mode(mode)

    def open_account(self, account_id: str, section: str | None = None) -> None:
        """Open an account's screen on top of the current one."""
        from csm_tui.screens.account import AccountScreen

        self.push_screen(AccountScreen(account_id, section=section))

    def show_portfolio(self, query) -> None:
        """Go to the portfolio showing `query` (a `PortfolioQuery`: filters and order)."""
        self.switch_mode("portfolio")
        while len(self.screen_stack) > 1 and not _is_portfolio(self.screen):
            self.pop_screen()
        screen = self.screen
        if _is_portfolio(screen):
            screen.apply_query(query)

    def write_qbr(self, account_id: str, name: str) -> None:
        """Write the account's QBR review (engineer G's report) and say where it went."""
        self.notify(f"Writing the QBR review for {name}…", timeout=3)
        self._write_qbr(account_id)

    @work(
        thread=True,
        exclusive=True,
        group="app.qbr",
        exit_on_error=False,
        name="writing the QBR review",
    )
    def _write_qbr(self, account_id: str) -> None:
        from csm_tui.clock import today
        from csm_tui.paths import data_dir, ensure_private_dir
        from csm_tui.reports.qbr import write_qbr

        folder = data_dir() / "reports"
        ensure_private_dir(folder)
        path = folder / f"qbr-{account_id}-{today().isoformat()}.md"
        written = write_qbr(self.session.reader, account_id, path)
        self.call_from_thread(
            self.notify, f"QBR review written to {written}", title="QBR", timeout=10
        )

    def action_help(self) -> None:
        """Show every key of the current screen."""
        from csm_tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, list(self.active_bindings.values())))

    def action_next_theme(self) -> None:
        """Cycle through a few of Textual's themes."""
        current = THEMES.index(self.theme) if self.theme in THEMES else -1
        self.theme = THEMES[(current + 1) % len(THEMES)]
        self.notify(f"Theme: {self.theme}", timeout=2)


def _with_problems(message: str, problems: list[str]) -> str:
    """A rejected import's message with its first `FILE:ROW: field: problem` lines."""
    if not problems:
        return message
    lines = [message, *problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(f"… and {len(problems) - PROBLEMS_SHOWN:,} more (`csm import` lists all)")
    return "\n".join(lines)


def _import_label(request) -> str:
    """ "Importing accounts.csv" / "Checking accounts.csv" (a dry run)."""
    return f"{'Checking' if request.dry_run else 'Importing'} {request.path.name}"


def _is_portfolio(screen: Screen) -> bool:
    return type(screen).__name__ == "PortfolioScreen"


def _screen_factory(module: str, name: str):
    def make() -> Screen:
        return getattr(importlib.import_module(module), name)()

    return make
