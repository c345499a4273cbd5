"""`csm import` and `csm export`: bring real exports in (all rows or none) and take data out."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csm_tui.errors import CsmError, UsageError

_PREVIEW = 10


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add the `import` and `export` sub-commands."""
    from csm_tui.storage.kinds import IMPORT_ORDER

    kinds = ", ".join(IMPORT_ORDER)
    imp = subparsers.add_parser(
        "import",
        parents=[common],
        help="import accounts (or another KIND) from CSV/JSON/JSONL",
        description="Import a CSV, JSON or JSONL file into the book: all rows or none. Headers "
        "from HubSpot, Salesforce, Zendesk, product-analytics and survey exports are mapped "
        "automatically; unknown account columns are kept as custom attributes. Bad rows are "
        "listed as FILE:ROW: column: problem (ROW as a spreadsheet shows it: header = row 1).",
    )
    imp.add_argument("file", metavar="FILE", help="the file to import")
    imp.add_argument("--kind", default="accounts", metavar="KIND", help=f"one of: {kinds}")
    imp.add_argument(
        "--format",
        choices=("csv", "json", "jsonl"),
        help="the file's format (default: from its name and content)",
    )
    imp.add_argument(
        "--map",
        action="append",
        metavar="SRC=DEST",
        default=[],
        help="map column SRC onto field DEST (repeatable); DEST 'custom' keeps it "
        "as a custom attribute",
    )
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and show what would change, writing nothing",
    )
    imp.add_argument(
        "--no-rescore",
        action="store_true",
        help="skip the full rescore after the import (run `csm score` later)",
    )
    imp.set_defaults(func=run_import)

    exp = subparsers.add_parser(
        "export",
        parents=[common],
        help="export KIND as CSV or JSON",
        description=f"Export records of KIND ({kinds}) as CSV or JSON (a list of objects). "
        "`csm export renewals --within 90` is the renewal forecast.",
    )
    exp.add_argument("kind", metavar="KIND", help=f"one of: {kinds}")
    exp.add_argument(
        "--format", choices=("csv", "json"), help="csv (default) or json; -o FILE.json implies json"
    )
    exp.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (0600) instead of stdout"
    )
    exp.add_argument(
        "--within",
        type=int,
        metavar="DAYS",
        help="renewals only: the forecast of open renewals due in the next DAYS",
    )
    exp.set_defaults(func=run_export)


@dataclass
class _Target:
    """The book an import writes to; `keep` once something was committed to it."""

    book: object
    created: bool
    keep: bool = False


@contextmanager
def _book_for_import(db_path: Path) -> Iterator[_Target]:
    """Open (or create) the book. A book created here that received nothing (a rejected file,
    a dry run) is removed again, so a failed first import leaves no empty book behind."""
    from csm_tui.storage.db import open_book

    created = not db_path.exists()
    target = _Target(open_book(db_path), created)
    try:
        yield target
    finally:
        target.book.close()
        if target.created and not target.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def run_import(args: argparse.Namespace) -> int:
    """`csm import FILE [--kind KIND] [--format F] [--map SRC=DEST …] [--dry-run]`."""
    from csm_tui.cli import db_path_from
    from csm_tui.progress import progress_bar
    from csm_tui.storage.importer import import_file, read_source
    from csm_tui.storage.kinds import SCORED_KINDS, kind_named
    from csm_tui.storage.mapping import parse_map_options

    kind = kind_named(args.kind)
    overrides = parse_map_options(args.map)
    path = Path(args.file).expanduser()
    source = read_source(path, args.format, kind)  # refuse a bad file before opening the book
    with _book_for_import(db_path_from(args)) as target:
        with progress_bar(f"Importing {kind.noun}") as update:
            result = import_file(
                target.book,
                path,
                kind.name,
                fmt=args.format,
                overrides=overrides,
                dry_run=args.dry_run,
                progress=update,
                source=source,
            )
        target.keep = not args.dry_run  # committed: never remove it from here on
        _print_result(result)
        if not args.dry_run and not args.no_rescore and kind.name in SCORED_KINDS:
            return _rescore(target.book)
    return 0


def _rescore(book) -> int:
    """Bring every score up to date with the new data (when the scoring engine is installed).

    The import is already committed: a failure here is reported as such, not as a lost import.
    """
    try:
        from csm_tui.scoring.engine import rescore_all
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("csm_tui.scoring"):
            return 0
        raise
    from csm_tui.progress import progress_bar

    try:
        with progress_bar("Rescoring accounts") as update:
            rescore_all(book, progress=update)
    except CsmError as exc:
        print(
            f"csm: the import is saved, but rescoring failed: {exc.message} "
            "Run `csm score` to retry.",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # noqa: BLE001 - the data is in; say so rather than a traceback
        if os.environ.get("CSM_DEBUG"):
            raise
        print(
            f"csm: the import is saved, but rescoring failed ({type(exc).__name__}). "
            "Run `csm score` to retry.",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_result(result) -> None:
    print(result.summary())
    if result.custom_columns:
        print(
            f"Kept {len(result.custom_columns)} column(s) as custom attributes: "
            f"{_listing(result.custom_columns)}"
        )
    if result.ignored_columns:
        print(
            f"Ignored {len(result.ignored_columns)} column(s) csm does not use for "
            f"{result.kind.noun}: {_listing(result.ignored_columns)}"
        )
    if result.dry_run:
        for label, keys in (("new", result.new_keys), ("updated", result.updated_keys)):
            if keys:
                more = f" … and {len(keys) - _PREVIEW:,} more" if len(keys) > _PREVIEW else ""
                print(f"  {label}: {', '.join(keys[:_PREVIEW])}{more}")


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def run_export(args: argparse.Namespace) -> int:
    """`csm export KIND [--format csv|json] [-o FILE] [--within DAYS]`."""
    from csm_tui.cli import db_path_from
    from csm_tui.storage.db import open_book
    from csm_tui.storage.exporter import collect, export_text, write_private
    from csm_tui.storage.kinds import kind_named

    kind = kind_named(args.kind)
    output = Path(args.output).expanduser() if args.output else None
    fmt = args.format or ("json" if output and output.suffix.lower() == ".json" else "csv")
    if output is not None and output.is_dir():
        raise UsageError(f"-o {output}: is a directory; give a file name")
    book = open_book(db_path_from(args), create=False)
    try:
        export = collect(book, kind.name, within=args.within)
    finally:
        book.close()
    text = export_text(export, fmt)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_private(output, [text])
    except OSError as exc:
        raise CsmError(f"{output}: cannot write the export ({exc.strerror}).") from None
    what = "renewals in the forecast" if args.within is not None else kind.noun
    print(f"Exported {len(export.rows):,} {what} to {output}", file=sys.stderr)
    return 0
