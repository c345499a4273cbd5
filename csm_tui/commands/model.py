"""`csm model train | report | evaluate`: the churn model from the shell.

scikit-learn and pandas are imported inside the commands, so `csm --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from csm_tui.errors import CsmError, UsageError

ESTIMATOR_NAMES = {"logistic": "logistic regression", "boosting": "gradient boosting"}


def register(subparsers, common: argparse.ArgumentParser) -> None:
    """Add `model` with its `train`, `report` and `evaluate` sub-commands."""
    model = subparsers.add_parser(
        "model",
        help="train, report on or evaluate the churn model",
        description="The churn model learns from your past renewal outcomes.",
    )
    sub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    train = sub.add_parser(
        "train",
        parents=[common],
        help="train the churn model on the book's past renewals and save it",
        description="Cross-validate logistic regression and gradient boosting on the book's "
        "renewals with a known outcome, keep the better one, calibrate it and save it beside "
        "the book. Downgraded and expanded renewals count as retained.",
    )
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    train.set_defaults(func=run_train)
    report = sub.add_parser(
        "report",
        parents=[common],
        help="how good is the churn model, and does the health score predict churn?",
        description="The churn model's cross-validated quality beside how the health score "
        "(a month before each past renewal) ranked the outcomes.",
    )
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(func=run_report)
    evaluate = sub.add_parser(
        "evaluate",
        parents=[common],
        help="cross-validate the churn pipeline on any labelled CSV",
        description="Run the same cross-validated churn pipeline on a CSV of your own "
        "(one row per customer, a churn label column). Nothing is saved.",
    )
    evaluate.add_argument("--data", required=True, metavar="FILE", help="the CSV file")
    evaluate.add_argument(
        "--label", required=True, metavar="COLUMN", help="the outcome column (Yes/No, 1/0, …)"
    )
    evaluate.add_argument("--id", metavar="COLUMN", help="an id column to leave out")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(func=run_evaluate)


def _open_book(args: argparse.Namespace):
    from csm_tui.cli import db_path_from
    from csm_tui.storage.db import open_book

    return open_book(db_path_from(args), create=False)


def run_train(args: argparse.Namespace) -> int:
    """`csm model train [--json]`."""
    from csm_tui.paths import model_path_for
    from csm_tui.progress import progress_bar
    from csm_tui.scoring.churn import train_book_model

    book = _open_book(args)
    try:
        with progress_bar("Cross-validating the churn model") as update:
            report = train_book_model(book, progress=update)
        rescored = _rescore(book)
    finally:
        book.close()
    if args.json:
        print(json.dumps(report.to_dict() | {"saved_to": str(model_path_for(book.path))}, indent=2))
        return 0
    print(f"Trained the churn model on {report.n} past renewals with a known outcome.")
    _print_metrics(report.to_dict())
    print(f"Saved to {model_path_for(book.path)}.")
    if rescored is not None:
        print(f"Churn risk updated for {rescored} accounts.")
    return 0


def _rescore(book) -> int | None:
    """Refresh every account's churn probability with the new model (if the engine is there)."""
    try:
        from csm_tui.scoring.engine import rescore_all
    except ImportError:
        return None
    summary = rescore_all(book)
    return getattr(summary, "accounts", None)


def run_report(args: argparse.Namespace) -> int:
    """`csm model report [--json]`."""
    from csm_tui.paths import model_path_for
    from csm_tui.scoring.model_report import full_report

    book = _open_book(args)
    try:
        report = full_report(book, model_path_for(book.path))
    finally:
        book.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    _print_report(report)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """`csm model evaluate --data FILE --label COLUMN [--id COLUMN] [--json]`."""
    from csm_tui.progress import progress_bar
    from csm_tui.scoring.churn import BadLabel, fit_report

    path = Path(args.data).expanduser()
    frame = read_labelled_csv(path)
    try:
        with progress_bar(f"Cross-validating on {path.name}") as update:
            report = fit_report(frame, args.label, args.id, progress=update)
    except BadLabel as exc:
        raise UsageError(f"{path}: {exc.message}") from None
    except CsmError as exc:
        raise CsmError(f"{path}: {exc.message}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(f"{path.name}: {report.n} rows, label {args.label!r}.")
    _print_metrics(report.to_dict())
    for column, reason in report.dropped_columns.items():
        print(f"  left out {column!r}: {reason}")
    return 0


def read_labelled_csv(path: Path):
    """The CSV as text columns (types are inferred later); a clear error if it cannot be read."""
    import pandas as pd

    if not path.is_file():
        raise UsageError(f"{path}: no such file.")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise UsageError(f"{path}: the file is empty.") from None
        except pd.errors.ParserError as exc:
            raise UsageError(f"{path}: not a readable CSV ({_first_line(exc)}).") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the file ({exc.strerror}).") from None
    if frame.empty:
        raise UsageError(f"{path}: the file has a header but no rows.")
    return frame


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _print_metrics(m: dict) -> None:
    estimator = ESTIMATOR_NAMES.get(m["estimator"], m["estimator"])
    print(
        f"  outcomes    {m['n']} ({m['positives']} churned, {m['negatives']} retained; "
        f"{m['positive_rate']:.1%} churn)"
    )
    print(
        f"  estimator   {estimator} (5-fold CV ROC-AUC: "
        + ", ".join(f"{ESTIMATOR_NAMES.get(k, k)} {v:.3f}" for k, v in m["candidates"].items())
        + ")"
    )
    print(f"  ROC-AUC     {m['roc_auc']:.3f}   (0.5 = chance, 1 = perfect)")
    print(f"  PR-AUC      {m['pr_auc']:.3f}   (churn rate alone: {m['positive_rate']:.3f})")
    print(f"  Brier       {m['brier']:.3f}   (lower is better)")
    print(f"  lift        {m['lift_top_decile']:.2f}×  churn in the riskiest 10 % vs overall")
    print(f"  calibration ({m['calibration_method']}): predicted vs observed churn")
    for b in m["calibration"]:
        if b["count"]:
            print(
                f"    {b['lower']:.0%}–{b['upper']:.0%}  {b['count']:>7}  predicted "
                f"{b['mean_predicted']:.1%}  observed {b['observed_rate']:.1%}"
            )
    seconds = sum(m["fit_seconds"].values())
    print(f"  fit time    {seconds:.1f} s")


def _print_report(report: dict) -> None:
    model = report["model"]
    print("Churn model")
    print(f"  {model['message']}")
    if "roc_auc" in model:
        _print_metrics(model)
    health = report["health_score"]
    print("\nDoes the health score predict churn? (score a month before each past renewal)")
    if health["status"]:
        print(f"  {health['status']}")
    else:
        print(f"  ROC-AUC     {health['roc_auc']:.3f}   ranking renewals by 100 − score")
        print(f"  lift        {health['lift_top_decile']:.2f}×  churn in the lowest-scored 10 %")
    if health["scored"]:
        print(f"  {health['scored']} of {health['outcomes']} past renewals had a snapshot:")
        for band in health["bands"]:
            rate = "—" if band["churn_rate"] is None else f"{band['churn_rate']:.0%}"
            print(
                f"    {band['band']:<13} {band['renewals']:>7} renewals  "
                f"{band['churned']:>6} churned  ({rate})"
            )
