"""`csm` with no command: open the user's book (or `--demo`: the demo book) in the app.

The demo book lives in its own file (`csm_tui.paths.demo_db_path()`); if it does not exist
yet, it is generated (scored, with its churn model trained) first, with a progress bar in the
terminal, before the app takes over the screen.
"""

from __future__ import annotations

from pathlib import Path

from csm_tui.paths import demo_db_path
from csm_tui.progress import ProgressFn, progress_bar


def ensure_demo_book(progress: ProgressFn | None = None) -> Path:
    """The demo book's path, generating the book first if it has no accounts yet."""
    from csm_tui.service.demo_book import create_demo_book, train_demo_model
    from csm_tui.storage.db import open_book

    path = demo_db_path()
    book = open_book(path)
    try:
        if not book.scalar("SELECT count(*) FROM accounts"):
            create_demo_book(book, progress=progress)
            train_demo_model(book)  # so churn risk shows from the first look
    finally:
        book.close()
    return path


def launch_app(db_path: Path | None, demo: bool = False) -> int:
    """Run the app on `db_path` (or the demo book) until the user quits; the exit code."""
    if demo:
        if demo_db_path().exists():
            db_path = ensure_demo_book()
        else:  # first time: generating takes a few seconds, show it
            with progress_bar("Writing the demo book") as update:
                db_path = ensure_demo_book(progress=update)
    elif db_path is None:
        from csm_tui.paths import default_db_path

        db_path = default_db_path()
    from csm_tui.app import CsmApp
    from csm_tui.storage.db import open_book

    open_book(Path(db_path)).close()  # a bad or newer file fails here, with a clear message
    CsmApp(db_path=Path(db_path), demo=demo).run()
    return 0
