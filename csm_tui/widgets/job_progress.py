"""The progress line of a long job (full rescore, import): label, bar, counts and rate.

The app holds the running job as `app.job` (a `JobState`, None when idle); every
`JobProgress` watches it, so the line shows the same job on whichever screen is current.
Idle, the widget is hidden and takes no space. Workers never touch it: they report through a
`ProgressThrottle`, which passes on at most ~10 updates a second to the app's event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Label, ProgressBar

#: Seconds between two progress updates sent from a worker (about 10 a second).
UPDATE_INTERVAL = 0.1


@dataclass(frozen=True)
class JobState:
    """A running job: what it does (`label`), and how far, counted in `unit`."""

    label: str  # "Rescoring 1,000 accounts"
    unit: str  # "accounts", "rows"
    done: int = 0
    total: int = 0  # 0 while unknown
    started: float = field(default_factory=time.monotonic, compare=False)

    def advanced(self, label: str, unit: str, done: int, total: int) -> JobState:
        """This job further on; a new label is a new phase (its rate starts afresh)."""
        if (label, unit) != (self.label, self.unit):
            return JobState(label, unit, done, total)
        return replace(self, done=done, total=total)

    def counts(self, now: float | None = None) -> str:
        """ "1,200 / 5,000 rows · 3,400/s" (the rate once it means something)."""
        text = f"{self.done:,} / {self.total:,} {self.unit}" if self.total else ""
        elapsed = (time.monotonic() if now is None else now) - self.started
        if self.done and elapsed >= 0.2:
            text += f" · {self.done / elapsed:,.0f}/s"
        return text


class ProgressThrottle:
    """A `ProgressFn` for a worker thread: forwards (done, total) to `send` at most every
    `interval` seconds, plus the first report and the last (done == total)."""

    def __init__(self, send: Callable[[int, int], None], interval: float = UPDATE_INTERVAL) -> None:
        self.send = send
        self.interval = interval
        self._last = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int = 0) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval and not (total and done >= total):
                return
            self._last = now
        self.send(done, total)


class JobProgress(Widget):
    """Docked above the footer while `app.job` is set; hidden (no space) when idle."""

    DEFAULT_CSS = """
    JobProgress { dock: bottom; margin-bottom: 1; height: 1; layout: horizontal;
        background: $panel; padding: 0 1; display: none; }
    JobProgress.-running { display: block; }
    JobProgress #job-label { width: auto; max-width: 45%; margin-right: 1; text-style: bold; }
    JobProgress #job-bar { width: auto; margin-right: 1; }
    JobProgress #job-counts { width: 1fr; height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="job-label")
        yield ProgressBar(show_eta=False, id="job-bar")
        yield Label("", id="job-counts")

    def on_mount(self) -> None:
        if hasattr(self.app, "job"):
            self.watch(self.app, "job", self.show_job, init=True)

    def show_job(self, state: JobState | None) -> None:
        """Show `state` (or hide when None)."""
        self.set_class(state is not None, "-running")
        if state is None:
            return
        self.query_one("#job-label", Label).update(f"{state.label}…")
        bar = self.query_one("#job-bar", ProgressBar)
        bar.update(total=state.total or None, progress=state.done)
        self.query_one("#job-counts", Label).update(state.counts())
