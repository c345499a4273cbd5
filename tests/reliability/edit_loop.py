"""A child process that edits a book in a loop and acknowledges each edit after its commit.

    python -m tests.reliability.edit_loop DB COUNT TAG [ACCOUNT_ID …]

Prints `READY` once the book is open, then for each edit `ACK <event id>` — only after the
service call returned, i.e. after COMMIT — exactly as `csm log` reports an edit as saved.
Every 5th edit is a field change (`csm set`) acknowledged as `SET <account> custom.TAG=<n>`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from csm_tui.service.edits import log_event, update_account
from csm_tui.storage.db import open_book


def run(db: Path, count: int, tag: str, accounts: list[str]) -> None:
    """Edit `count` times (or forever if count is 0), acknowledging each on stdout."""
    import csm_tui.scoring.engine  # noqa: F401  (import now: READY means edits start at once)

    book = open_book(db, create=False)
    print("READY", flush=True)
    n = 0
    while count == 0 or n < count:
        n += 1
        account = accounts[n % len(accounts)]
        if n % 5 == 0:
            update_account(book, account, {f"custom.{tag}": str(n)})
            print(f"SET {account} custom.{tag}={n}", flush=True)
        else:
            result = log_event(book, account, "call", f"{tag} call {n}")
            print(f"ACK {result.event_id}", flush=True)
    book.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:])
