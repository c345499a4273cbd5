"""`csm demo`, `csm check`, `csm backup` and `csm restore`: making and looking after a book."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from csm_tui.errors import UsageError


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add the book sub-commands to the `csm` parser."""
    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="generate a realistic demo book",
        description="Generate a realistic, deterministic demo book (12 months of usage, tickets, "
        "NPS, stakeholders, timeline, renewals and their outcomes). Without --db it goes to "
        "$CSM_DB if set, else to the demo book file (demo.db, what `csm --demo` opens), never "
        "into your own book. It only writes into an empty book unless --force.",
    )
    demo.add_argument(
        "--accounts",
        type=_positive_int,
        default=None,
        metavar="N",
        help="how many accounts (default 1,000)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="random seed: the same seed and date give the same book (default 7)",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="replace everything in a book that already has accounts",
    )
    demo.add_argument(
        "--no-model",
        action="store_true",
        help="skip training the churn model on the demo's renewal history",
    )
    demo.set_defaults(func=run_demo)

    check = subparsers.add_parser(
        "check",
        parents=[common],
        help="check the book's integrity and schema version",
        description="Check the book: SQLite integrity, foreign keys, schema version and the "
        "search index. Exits non-zero when anything is wrong.",
    )
    check.set_defaults(func=run_check)

    backup = subparsers.add_parser(
        "backup",
        parents=[common],
        help="make a consistent copy of the book (safe while in use)",
        description="Copy the book with SQLite's online backup API (safe while the app runs). "
        "Default: csm-backup-YYYYMMDD-HHMMSS.db in the data directory.",
    )
    backup.add_argument("-o", "--output", metavar="FILE", help="where to write the copy")
    backup.set_defaults(func=run_backup)

    restore = subparsers.add_parser(
        "restore",
        parents=[common],
        help="replace the book with a checked backup",
        description="Check FILE (integrity, schema version), keep the current book as a "
        "timestamped copy beside it, then replace the book with FILE.",
    )
    restore.add_argument("file", metavar="FILE", help="the backup to restore")
    restore.set_defaults(func=run_restore)


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def demo_path_from(args: argparse.Namespace) -> Path:
    """`--db`, else `$CSM_DB`, else the demo book's own file (never the user's default book)."""
    from csm_tui.paths import demo_db_path

    if getattr(args, "db", None):
        return Path(args.db).expanduser()
    env = os.environ.get("CSM_DB")
    return Path(env).expanduser() if env else demo_db_path()


def run_demo(args: argparse.Namespace) -> int:
    """Generate the demo book and say what was written."""
    from csm_tui.progress import progress_bar
    from csm_tui.service.demo_book import create_demo_book, train_demo_model
    from csm_tui.storage.db import open_book
    from csm_tui.storage.demo import DEFAULT_ACCOUNTS, DEFAULT_SEED

    path = demo_path_from(args)
    accounts = args.accounts or DEFAULT_ACCOUNTS
    seed = DEFAULT_SEED if args.seed is None else args.seed
    book = open_book(path)
    try:
        with progress_bar(f"Demo book ({accounts:,} accounts)") as update:
            summary = create_demo_book(
                book, accounts=accounts, seed=seed, force=args.force, progress=update
            )
        trained = not args.no_model and train_demo_model(book)
    finally:
        book.close()
    rows = summary.rows
    print(f"Demo book written to {summary.path} (seed {summary.seed}, as of {summary.today}):")
    print(
        f"  {summary.accounts:,} accounts ({summary.churned:,} churned in the past year), "
        f"{rows['contacts']:,} contacts, {rows['usage']:,} usage snapshots,"
    )
    print(
        f"  {rows['tickets']:,} tickets, {rows['responses']:,} NPS/CSAT responses, "
        f"{rows['events']:,} timeline events, {rows['renewals']:,} renewals, "
        f"{rows['objectives']:,} objectives."
    )
    if summary.rescored:
        print("  Health scores, alerts and 12 months of health history computed.")
    else:
        print("  Health not scored yet: run `csm score` to compute scores and alerts.")
    if trained:
        print("  Churn model trained on the book's renewal history (see `csm model report`).")
    opener = "csm --demo" if path == _demo_default() else f"csm --db {path}"
    print(f"Open it with: {opener}")
    return 0


def _demo_default() -> Path:
    from csm_tui.paths import demo_db_path

    return demo_db_path()


def run_check(args: argparse.Namespace) -> int:
    """Print the check report; exit 1 if anything is wrong."""
    import sys

    from csm_tui.cli import db_path_from
    from csm_tui.storage.maintenance import check_book

    report = check_book(db_path_from(args))
    stream = sys.stdout if report.ok else sys.stderr
    for line in report.lines():
        print(line, file=stream)
    return 0 if report.ok else 1


def run_backup(args: argparse.Namespace) -> int:
    """Write the backup and say where."""
    from csm_tui.cli import db_path_from
    from csm_tui.storage.maintenance import backup_book

    output = Path(args.output) if args.output else None
    result = backup_book(db_path_from(args), output)
    print(
        f"Backup written to {result.path} ({result.accounts:,} accounts, "
        f"{result.size_bytes / 1_048_576:,.1f} MB, readable only by you)."
    )
    print(f"Check it with: csm check --db {result.path}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Restore a backup and say what happened to the previous book."""
    from csm_tui.cli import db_path_from
    from csm_tui.storage.maintenance import restore_book

    if not args.file:
        raise UsageError("csm restore needs the backup FILE to restore.")
    result = restore_book(db_path_from(args), Path(args.file))
    print(f"Checked {result.source}: sound csm book.")
    if result.previous_copy:
        print(f"Kept your previous book as {result.previous_copy}.")
    for path in result.removed:
        print(f"Removed stale {path.name}.")
    print(f"Restored {result.book} ({result.accounts:,} accounts).")
    return 0
