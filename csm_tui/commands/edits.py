"""`csm log` and `csm set`: edits from the shell, through the same service call as the app.

What changed is printed only after the edit's transaction has committed (the service call
returns only then), so "saved" on the terminal always means saved on disk.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from csm_tui.errors import UsageError

LOG_KINDS = ("call", "meeting", "email", "note", "qbr")


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add the `log` and `set` sub-commands."""
    log = subparsers.add_parser(
        "log",
        parents=[common],
        help="add a call, meeting, email, note or QBR to an account's timeline",
        description="Add an event to an account's timeline, rescore the account and show "
        "what changed. ACCOUNT is an account id or its exact name.",
    )
    log.add_argument("account", metavar="ACCOUNT", help="account id or exact name")
    log.add_argument("--kind", required=True, metavar="KIND", help=f"one of {', '.join(LOG_KINDS)}")
    log.add_argument("--text", required=True, help="what happened ('-' reads it from stdin)")
    log.add_argument("--at", metavar="DATETIME", help="when: YYYY-MM-DD[THH:MM] (default: now)")
    log.add_argument("--json", action="store_true", help="print the result as JSON")
    log.set_defaults(func=run_log)

    edit = subparsers.add_parser(
        "set",
        parents=[common],
        help="edit an account's fields and signals (FIELD=VALUE …)",
        description="Edit an account, rescore it and show what changed. Fields: "
        + ", ".join(_field_names())
        + ". Example: csm set ACME-001 arr=52000 champion_left=yes champion='Jo Park'",
    )
    edit.add_argument("account", metavar="ACCOUNT", help="account id or exact name")
    edit.add_argument("changes", nargs="+", metavar="FIELD=VALUE", help="the changes to make")
    edit.add_argument("--json", action="store_true", help="print the result as JSON")
    edit.set_defaults(func=run_set)


def _field_names() -> list[str]:
    from csm_tui.service.fields import field_names

    return field_names()


def run_log(args: argparse.Namespace) -> int:
    """`csm log ACCOUNT --kind K --text T [--at WHEN] [--json]`."""
    from csm_tui.service.edits import log_event

    text = sys.stdin.read() if args.text == "-" else args.text
    with _open(args) as book:
        result = log_event(book, args.account, args.kind, text, at=args.at)
    if args.json:
        _print_json(result)
        return 0
    kind = args.kind.strip().lower()
    print(f"Logged {kind} {result.event_id} on {result.account_name} ({result.account_id}).")
    _print_summary(result)
    return 0


def run_set(args: argparse.Namespace) -> int:
    """`csm set ACCOUNT FIELD=VALUE … [--json]`."""
    from csm_tui.service.edits import update_account

    changes = parse_assignments(args.changes)
    with _open(args) as book:
        result = update_account(book, args.account, changes)
    if args.json:
        _print_json(result)
        return 0
    if not result.changed:
        print(f"{result.account_name} ({result.account_id}): already so; nothing changed.")
    else:
        print(f"Saved {result.account_name} ({result.account_id}):")
        for key, (old, new) in result.changed.items():
            print(f"  {key}: {_shown(old)} → {_shown(new)}")
    _print_summary(result)
    return 0


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`FIELD=VALUE` arguments as a dict; a repeated field or a missing `=` is refused."""
    changes: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{item!r} is not FIELD=VALUE (e.g. arr=52000 or champion_left=yes)")
        key = name.strip()
        if key in changes:
            raise UsageError(f"{key} is given twice; give each field once")
        changes[key] = value
    return changes


@contextmanager
def _open(args: argparse.Namespace) -> Iterator:
    """The book named by --db; it must exist (an edit never creates an empty book)."""
    from csm_tui.cli import db_path_from
    from csm_tui.storage.db import open_book

    book = open_book(db_path_from(args), create=False)
    try:
        yield book
    finally:
        book.close()


def _print_summary(result) -> None:
    words = result.summary()
    if words:
        print(words)


def _print_json(result) -> None:
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))


def _shown(value) -> str:
    return "(none)" if value is None or value == "" else str(value)
