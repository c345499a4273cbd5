"""Progress for long work: a rich bar with counts and rate on a terminal, silence when piped."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: A progress callback: (done, total) — total may be 0 when unknown.
ProgressFn = Callable[[int, int], None]


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second."""

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

    return RateColumn()


@contextmanager
def progress_bar(
    description: str, total: int = 0, *, enabled: bool | None = None
) -> Iterator[ProgressFn]:
    """Yield a callback `update(done, total)`; draws a bar on stderr only if it is a TTY."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda done, total=0: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _rate_column(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total or None)

        def update(done: int, new_total: int = 0) -> None:
            bar.update(task, completed=done, total=(new_total or total) or None)

        yield update
