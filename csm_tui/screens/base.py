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
