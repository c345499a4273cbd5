"""The `csm` command: opens the TUI, or runs a sub-command (`csm --help` lists them).

Heavy modules (pandas, scikit-learn, Textual) are imported inside the sub-commands that need
them, so `csm --help` and small edits start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from csm_tui import __version__
from csm_tui.errors import CsmError

#: Sub-command modules; each exposes `register(subparsers, common)`.
COMMAND_MODULES = (
    "csm_tui.commands.book",  # demo, check, backup, restore
    "csm_tui.commands.io",  # import, export
    "csm_tui.commands.scoring",  # score, alerts, config
    "csm_tui.commands.model",  # model train / report / evaluate
    "csm_tui.commands.reports",  # report qbr / success-plan / portfolio
    "csm_tui.commands.edits",  # log, set
)


def db_path_from(args: argparse.Namespace) -> Path:
    """The book to use: `--db`, else `CSM_DB`, else the user's book in the data directory."""
    from csm_tui.paths import default_db_path

    return Path(args.db).expanduser() if getattr(args, "db", None) else default_db_path()


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (top level plus every sub-command)."""
    import importlib

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="PATH", help="the book's database (default: $CSM_DB or the data dir)"
    )
    parser = argparse.ArgumentParser(
        prog="csm",
        description="csm — the customer-success workbench for the terminal. "
        "With no command, opens your book in the full-screen app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"csm {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="open the app on a demo book kept in its own file"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `csm` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _open_app(args)
        return int(args.func(args) or 0)
    except CsmError as exc:
        print(f"csm: {exc.message}", file=sys.stderr)
        for line in getattr(exc, "problems", [])[:200]:
            print(f"  {line}", file=sys.stderr)
        more = len(getattr(exc, "problems", [])) - 200
        if more > 0:
            print(f"  … and {more} more", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "csm: interrupted; nothing half-written (each change is one transaction).",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a raw traceback (it could hold customer data)
        if os.environ.get("CSM_DEBUG"):
            raise
        print(
            f"csm: unexpected error ({type(exc).__name__}); nothing half-written. "
            "Set CSM_DEBUG=1 to see details.",
            file=sys.stderr,
        )
        return 1


def _open_app(args: argparse.Namespace) -> int:
    from csm_tui.launch import launch_app

    return launch_app(db_path=None if args.demo else db_path_from(args), demo=args.demo)


if __name__ == "__main__":
    raise SystemExit(main())
