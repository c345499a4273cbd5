"""What every csm screen shares: worker failures go to the app's one handler.

Textual tells only the node that started a worker about its state, so a screen that runs
`@work(thread=True, exit_on_error=False, …)` workers mixes this in and the app turns a
failure into a notice (`CsmApp.on_worker_state_changed`) while it keeps running.
"""

from __future__ import annotations

from textual.worker import Worker


class ReportsWorkerErrors:
    """Mixin for screens and widgets: forward worker state changes to the app's handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        handler = getattr(self.app, "on_worker_state_changed", None)  # type: ignore[attr-defined]
        if handler is not None:
            handler(event)


class ReloadsWhenShown:
    """Mixin for screens that read the book whenever they come to the front.

    Textual sends ScreenResume on a screen's first show too, so this one hook covers opening,
    coming back from an account or a form, and (via `refresh_data`) the app's notice that the
    book changed elsewhere; `on_mount` must not load as well. The screen provides `load()`.
    """

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        """(Re)read what the screen shows."""
        self.load()  # type: ignore[attr-defined]
