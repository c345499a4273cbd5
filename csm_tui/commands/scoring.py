"""`csm score`, `csm alerts` and `csm config path|show`: the health score from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from csm_tui.errors import UsageError

ALERT_STATUSES = ("open", "snoozed", "done")


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add the `score`, `alerts` and `config` sub-commands."""
    score = subparsers.add_parser(
        "score", parents=[common], help="recompute health scores and alerts (all or one account)",
        description="Recompute the health score, risk and alerts of every account (or of one "
        "with --account) and print a summary, or with --explain how the score is made up.",
    )  # fmt: skip
    score.add_argument("--account", metavar="ACCOUNT", help="one account: its id or exact name")
    score.add_argument(
        "--explain", action="store_true", help="show each measure's points (needs --account)"
    )
    score.add_argument("--json", action="store_true", help="print the result as JSON")
    score.set_defaults(func=run_score)

    alerts = subparsers.add_parser(
        "alerts", parents=[common], help="list alerts (open by default)",
        description="List alerts with the account, rule, severity, why it fired and when.",
    )  # fmt: skip
    alerts.add_argument("--status", choices=ALERT_STATUSES, default="open", help="default: open")
    alerts.add_argument("--json", action="store_true", help="print the alerts as JSON")
    alerts.set_defaults(func=run_alerts)

    config = subparsers.add_parser(
        "config", parents=[common], help="where the scoring config lives, and its effective values",
        description="`csm config path` prints where scoring.toml is read from; `csm config show` "
        "prints the effective scoring config (your file over the defaults) as TOML.",
    )  # fmt: skip
    config.add_argument("action", choices=("path", "show"), help="path or show")
    config.set_defaults(func=run_config)


@contextmanager
def _open(args: argparse.Namespace) -> Iterator:
    from csm_tui.cli import db_path_from
    from csm_tui.storage.db import open_book

    book = open_book(db_path_from(args), create=False)
    try:
        yield book
    finally:
        book.close()


def run_score(args: argparse.Namespace) -> int:
    """`csm score [--account ID] [--explain] [--json]`."""
    if args.explain and not args.account:
        raise UsageError("--explain needs --account ACCOUNT (the account to explain)")
    from csm_tui.scoring.engine import current_config

    cfg = current_config()  # a bad scoring.toml is reported before any work
    with _open(args) as book:
        if args.account:
            return _score_one(book, args, cfg)
        return _score_all(book, args, cfg)


def _score_all(book, args: argparse.Namespace, cfg) -> int:
    from csm_tui.progress import progress_bar
    from csm_tui.scoring.engine import rescore_all

    with progress_bar("Scoring accounts", enabled=None if not args.json else False) as update:
        summary = rescore_all(book, config=cfg, progress=update)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    b = summary.bands
    print(
        f"Rescored {summary.accounts:,} accounts as of {summary.as_of} in {summary.seconds:.1f} s."
    )
    print(
        f"  green {b['green']:,} · yellow {b['yellow']:,} · red {b['red']:,} · "
        f"insufficient data {b['insufficient']:,}"
    )
    print(f"  alerts opened: {summary.alerts_opened:,}; snoozes ended: {summary.alerts_reopened:,}")
    if summary.churn_model not in ("model", "none"):
        print(f"  churn model not used: {summary.churn_model}; risk comes from the health band")
    return 0


def _score_one(book, args: argparse.Namespace, cfg) -> int:
    from csm_tui.scoring.engine import rescore_account
    from csm_tui.service.accounts import resolve_account

    with book.write(durable=True) as conn:
        ref = resolve_account(conn, args.account)
        result = rescore_account(conn, ref.id, config=cfg)
    if args.json:
        print(json.dumps(result.to_dict() | {"name": ref.name}, indent=2))
        return 0
    print(f"{ref.name} ({ref.id}): {_score_words(result)}")
    if args.explain:
        _print_explain(result, cfg)
    for alert in result.alerts_opened:
        print(f"  alert opened ({alert.severity}): {alert.reason}")
    for alert in result.alerts_cleared:
        print(f"  alert's condition cleared: {alert.reason}")
    return 0


def _score_words(r) -> str:
    if r.score is None:
        return f"insufficient data ({r.coverage:.0%} of the score's weight has data)"
    risk = (
        f"churn risk {r.churn_prob:.0%} ({r.risk_segment})"
        if r.churn_prob is not None
        else (f"risk {r.risk_segment} (from the band)")
    )
    return f"health {r.score:.0f} ({r.band}), {risk}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}"


def _print_explain(r, cfg) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="How the score is made up", show_lines=False)
    for name, justify in (
        ("category", "left"),
        ("measure", "left"),
        ("raw", "right"),
        ("value 0–100", "right"),
        ("weight", "right"),
        ("points", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    labels = {c.key: c.label for c in cfg.categories}
    units = {m.key: m.unit for m in cfg.measures}
    for m in r.measures:
        raw = _raw_words(m.raw, units.get(m.key, ""))
        table.add_row(
            labels.get(m.category, m.category), m.label, raw,
            "–" if m.value is None else f"{m.value:.0f}",
            "–" if not m.weight else f"{m.weight:.1%}",
            "–" if m.points is None else f"{m.points:.1f}",
        )  # fmt: skip
    console = Console(file=sys.stdout, width=max(100, Console().width))
    console.print(table)
    parts = ", ".join(
        f"{labels.get(k, k)} {'–' if v is None else f'{v:.0f}'}" for k, v in r.parts.items()
    )
    console.print(f"Categories: {parts}")
    total = "–" if r.score is None else f"{r.score:.1f}"
    console.print(f"Score {total} = sum of points; {r.coverage:.0%} of the weight has data.")
    console.print(
        f"Change since 7 days ago: {_signed(r.delta_7)}; since 30 days ago: {_signed(r.delta_30)}"
    )
    if r.movers:
        console.print("Top movers: " + ", ".join(f"{label} {pts:+.1f}" for label, pts in r.movers))


def _raw_words(raw: float | None, unit: str) -> str:
    if raw is None:
        return "no data"
    if unit == "yes/no":
        return "yes" if raw >= 1 else "no"
    return f"{raw:,.1f}".removesuffix(".0") + (f" {unit}" if unit and unit != "%" else unit)


_ALERTS_SQL = """
SELECT al.id, al.account_id, ac.name, al.rule, al.severity, al.status, al.reason, al.fired_at,
       al.snoozed_until, al.closed_at, al.close_reason
FROM alerts al JOIN accounts ac ON ac.id = al.account_id WHERE al.status = ?
ORDER BY CASE al.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, al.fired_at DESC, al.id
"""


def run_alerts(args: argparse.Namespace) -> int:
    """`csm alerts [--status open|snoozed|done] [--json]`."""
    with _open(args) as book:
        rows = [dict(r) for r in book.query(_ALERTS_SQL, (args.status,))]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"No {args.status} alerts.")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows):,} {args.status} alerts")
    for name in ("account", "rule", "severity", "why", "fired"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            f"{r['name']} ({r['account_id']})",
            r["rule"].replace("_", " "),
            r["severity"],
            r["reason"],
            r["fired_at"][:16].replace("T", " "),
        )
    Console(file=sys.stdout, width=max(120, Console().width)).print(table)
    return 0


def run_config(args: argparse.Namespace) -> int:
    """`csm config path` / `csm config show`."""
    from csm_tui.paths import scoring_config_path

    path = scoring_config_path()
    if args.action == "path":
        print(path)
        return 0
    from csm_tui.scoring.config import config_to_toml, load_config

    cfg = load_config(path)
    origin = str(path) if path.exists() else "shipped defaults (no file at " + str(path) + ")"
    print(f"# source: {origin}")
    print(config_to_toml(cfg), end="")
    return 0
