"""The app's long-running jobs: a full rescore of the book, and importing a file into it.

Plain functions (no Textual) that the app runs in a worker thread, reporting progress through
a `ProgressFn` (done, total). They do what `csm score` and `csm import` do, with the same
rules: an import writes all of its rows or none (`ImportRejected` lists `FILE:ROW: field:
problem`), and an import of a kind the health score reads is followed by a full rescore. The
import is committed before that rescore starts, so a failing rescore is reported as such —
never as a lost import.

    if rescore_is_stale(session.reader, clock.today()):
        summary = rescore_book(session.book, progress)
    outcome = import_into_book(session.book, path, "accounts", progress)

pandas (through the scoring engine) is imported only when a job runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from csm_tui.errors import CsmError
from csm_tui.progress import ProgressFn
from csm_tui.storage.kinds import SCORED_KINDS

#: The kinds the app offers to import (the ones a CSM brings from other tools).
IMPORT_KINDS = SCORED_KINDS


@dataclass(frozen=True)
class ImportOutcome:
    """What an import from the app did: the import itself, then the rescore it triggered."""

    result: Any  # storage.importer.ImportResult
    rescore: Any = None  # scoring.results.RescoreSummary, when the book was rescored
    rescore_error: str | None = None  # the import is saved, but rescoring failed: why

    @property
    def dry_run(self) -> bool:
        """True when nothing was written (the file was only checked)."""
        return bool(self.result.dry_run)

    def summary(self) -> str:
        """One or two sentences for a notice, e.g. "Imported 3 accounts (3 new, 0 updated)…"."""
        text = self.result.summary()
        if self.rescore is not None:
            text += f" {rescore_message(self.rescore)}."
        if self.rescore_error:
            text += f" The import is saved, but rescoring failed: {self.rescore_error}"
        return text


def accounts_in_book(book) -> int:
    """How many accounts a full rescore will score."""
    return int(book.scalar("SELECT count(*) FROM accounts") or 0)


def last_full_rescore(book) -> str | None:
    """When the whole book was last rescored (`YYYY-MM-DDTHH:MM:SS`), or None if never."""
    raw = book.scalar("SELECT value FROM meta WHERE key = 'last_full_rescore'")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None  # unreadable: treat as never, so the next rescore rewrites it
    return value if isinstance(value, str) else None


def rescore_is_stale(book, today: date) -> bool:
    """True when the book has accounts and its last full rescore is from a day before
    `today`: the daily rescore is due. A book never fully rescored (imported with
    `--no-rescore`, or written by another tool) is left as its owner chose; an empty book
    has nothing to score."""
    last = last_full_rescore(book)
    if last is None or last[:10] >= today.isoformat():
        return False
    return bool(book.scalar("SELECT EXISTS (SELECT 1 FROM accounts)"))


def rescore_book(book, progress: ProgressFn | None = None):
    """Rescore every account (the engine's vectorised `rescore_all`) and return its
    `RescoreSummary`. Progress is reported in accounts: the engine works in six vectorised
    stages over all accounts at once, so stage k of 6 is reported as k/6 of them."""
    from csm_tui.scoring.engine import rescore_all

    accounts = accounts_in_book(book)

    def stage(done: int, total: int = 0) -> None:
        if progress is not None:
            progress(accounts * done // total if total else 0, accounts)

    stage(0, 1)
    return rescore_all(book, progress=stage)


def rescore_message(summary) -> str:
    """ "Rescored 1,000 accounts: 12 alerts opened" (the toast after a full rescore)."""
    opened = summary.alerts_opened + summary.alerts_reopened
    alerts = "1 alert opened" if opened == 1 else f"{opened:,} alerts opened"
    return f"Rescored {summary.accounts:,} accounts: {alerts}"


def import_into_book(
    book,
    path: Path,
    kind: str,
    progress: ProgressFn | None = None,
    dry_run: bool = False,
    *,
    rescore_progress: ProgressFn | None = None,
) -> ImportOutcome:
    """Import `path` as `kind` records (all rows or none, like `csm import`), then rescore the
    book when the kind feeds the health score. Raises `ImportRejected` (every bad row),
    `CsmError` (unreadable file) or `UsageError` (unknown kind); nothing is written then.
    `rescore_progress` (default: `progress`) follows the rescore that comes after."""
    from csm_tui.storage.importer import import_file

    result = import_file(book, Path(path).expanduser(), kind, dry_run=dry_run, progress=progress)
    if dry_run or result.kind.name not in SCORED_KINDS:
        return ImportOutcome(result)
    try:
        summary = rescore_book(book, rescore_progress or progress)
    except CsmError as exc:
        return ImportOutcome(result, rescore_error=f"{exc.message} Rescore the book to retry.")
    except Exception as exc:  # noqa: BLE001 - the data is in; say so rather than lose it
        if os.environ.get("CSM_DEBUG"):
            raise
        return ImportOutcome(
            result, rescore_error=f"{type(exc).__name__}. Rescore the book to retry."
        )
    return ImportOutcome(result, rescore=summary)
