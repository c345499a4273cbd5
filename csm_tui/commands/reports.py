"""`csm report qbr|success-plan|portfolio`: Markdown (or JSON) reports from the book's data.

Without `-o` the report goes to standard output; with it, to a file created 0600 (it holds
customer data). Heavy modules load only when a report runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add `csm report` and its three reports."""
    report = subparsers.add_parser(
        "report", parents=[common], help="write a QBR, success plan or portfolio summary",
        description="Write a report from your book's data as Markdown.",
    )  # fmt: skip
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True)
    for name, helptext in (
        ("qbr", "the quarterly business review of one account (seed 002's template)"),
        ("success-plan", "the customer success plan of one account"),
    ):
        sub = kinds.add_parser(name, parents=[common], help=helptext, description=helptext)
        sub.add_argument("account", metavar="ACCOUNT", help="account id or exact name")
        sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: print)")
        sub.set_defaults(func=run_account_report)
    summary = kinds.add_parser(
        "portfolio", parents=[common], help="the book's metrics, risks, renewals and save plans",
        description="The portfolio summary: GRR, NRR, logo churn, retention, NPS, renewal "
        "success and more, each with its numerator and denominator.",
    )  # fmt: skip
    summary.add_argument(
        "--period", metavar="P", default=None,
        help="2026-10, 2026-Q3, 2026, 2026-01-01..2026-06-30, last-quarter … "
        "(default: this quarter)",
    )  # fmt: skip
    summary.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: print)")
    summary.add_argument("--json", action="store_true", help="print the metrics as JSON")
    summary.set_defaults(func=run_portfolio)


def _open_book(args: argparse.Namespace):
    from csm_tui.cli import db_path_from
    from csm_tui.storage.db import open_book

    return open_book(db_path_from(args), create=False)


def run_account_report(args: argparse.Namespace) -> int:
    """`csm report qbr|success-plan ACCOUNT [-o FILE]`."""
    from csm_tui.service.accounts import resolve_account

    book = _open_book(args)
    try:
        with book.read() as conn:
            account = resolve_account(conn, args.account)
        if args.report == "qbr":
            from csm_tui.reports.qbr import qbr_markdown as render
        else:
            from csm_tui.reports.success_plan import success_plan_markdown as render
        content = render(book, account.id)
    finally:
        book.close()
    return _emit(content, args.output, f"{args.report} of {account.name} ({account.id})")


def run_portfolio(args: argparse.Namespace) -> int:
    """`csm report portfolio [--period P] [-o FILE] [--json]`."""
    from csm_tui.scoring.periods import parse_period

    period = parse_period(args.period)
    book = _open_book(args)
    try:
        if args.json:
            from csm_tui.reports.portfolio import portfolio_json

            content = json.dumps(portfolio_json(book, period), indent=2, ensure_ascii=False)
            content += "\n"
        else:
            from csm_tui.reports.portfolio import portfolio_markdown

            content = portfolio_markdown(book, period)
    finally:
        book.close()
    return _emit(content, args.output, f"portfolio summary for {period.label}")


def _emit(content: str, output: str | None, what: str) -> int:
    """Print the report, or write it (0600) and say where."""
    if not output:
        sys.stdout.write(content)
        return 0
    from csm_tui.errors import CsmError
    from csm_tui.reports.markdown import write_private

    try:
        path = write_private(Path(output), content)
    except OSError as exc:
        raise CsmError(
            f"{output}: cannot write the report ({exc.strerror}); nothing written."
        ) from None
    print(f"Wrote the {what} to {path}.", file=sys.stderr)
    return 0
