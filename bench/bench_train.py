"""Benchmark: `csm model train` on a large demo book, and `csm model evaluate` on Telco.

Usage:  python3 bench/bench_train.py [--accounts 100000] [--repeat 3] [--skip-book]
        python3 bench/bench_train.py --cliffs      # the CV cliffs of bench/profile_cv.md

Prints medians with the sizes they were measured at. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT.parent / "shared" / "data" / "telco_customer_churn.csv"
sys.path.insert(0, str(ROOT))


def _median(label: str, runs: list[float], cpu: list[float] | None = None) -> float:
    """Print the median wall time (and CPU time: the machine is shared, wall time is noisy)."""
    median = statistics.median(runs)
    cpu_note = f"; CPU {statistics.median(cpu):.2f} s" if cpu else ""
    print(
        f"{label}: median {median:.2f} s wall of {len(runs)} "
        f"({', '.join(f'{r:.2f}' for r in runs)}){cpu_note}"
    )
    return median


class Timer:
    """Wall and CPU seconds of a block, appended to two lists."""

    def __init__(self, wall: list[float], cpu: list[float]) -> None:
        self.wall, self.cpu = wall, cpu

    def __enter__(self) -> Timer:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall.append(time.perf_counter() - self.started)
        self.cpu.append(time.process_time() - self.cpu_started)


def bench_book(accounts: int, repeat: int) -> None:
    """Generate a demo book of `accounts` accounts, then time feature extraction and training."""
    os.environ.setdefault("CSM_TODAY", "2026-11-23")
    from csm_tui.scoring.churn import train_book_model
    from csm_tui.scoring.churn_features import training_frame
    from csm_tui.storage.db import open_book
    from csm_tui.storage.demo import generate_demo

    path = Path(tempfile.mkdtemp(prefix="csm-bench-")) / "bench.db"
    book = open_book(path)
    started = time.perf_counter()
    generate_demo(book, accounts=accounts)
    print(f"demo book of {accounts:,} accounts written in {time.perf_counter() - started:.1f} s")
    rows = book.scalar("SELECT count(*) FROM renewals WHERE outcome IS NOT NULL")
    usage = book.scalar("SELECT count(*) FROM usage")
    print(f"  {rows:,} renewals with a known outcome, {usage:,} usage rows")
    frames, frames_cpu, trains, trains_cpu, reports = [], [], [], [], []
    for _ in range(repeat):
        with Timer(frames, frames_cpu), book.read() as conn:
            training_frame(conn)
        with Timer(trains, trains_cpu):
            reports.append(train_book_model(book))
    _median(f"training features ({rows:,} renewals)", frames, frames_cpu)
    _median(
        f"model train, end to end ({accounts:,} accounts, {rows:,} renewals)", trains, trains_cpu
    )
    last = reports[-1]
    print(
        f"  chose {last.estimator}; CV ROC-AUC {last.roc_auc:.3f}, lift {last.lift_top_decile:.2f}; "
        + ", ".join(f"{k} {v:.2f} s" for k, v in last.fit_seconds.items())
    )
    _bench_scoring(book, accounts, repeat)
    book.close()


def _bench_scoring(book, accounts: int, repeat: int) -> None:
    """Scoring features for every active account, and one account (the engine's edit path)."""
    from csm_tui.paths import model_path_for
    from csm_tui.scoring.churn import load_model
    from csm_tui.scoring.churn_features import feature_frame

    model = load_model(model_path_for(book.path))
    runs, cpu = [], []
    for _ in range(repeat):
        with Timer(runs, cpu):
            frame = feature_frame(book.conn)
            model.predict(frame)
    _median(f"features + predict for all {len(frame):,} active accounts", runs, cpu)
    one = frame.index[len(frame) // 2]
    single, single_cpu = [], []
    for _ in range(50):
        with Timer(single, single_cpu):
            model.predict(feature_frame(book.conn, account_ids=[one], custom=model.custom_schema))
    print(
        f"features + predict for one account ({accounts:,}-account book): median "
        f"{statistics.median(single) * 1000:.1f} ms wall of 50; "
        f"CPU {statistics.median(single_cpu) * 1000:.1f} ms"
    )


def bench_telco(repeat: int) -> None:
    """`csm model evaluate` on the Telco file, in process (read, type, CV both, calibrate)."""
    from csm_tui.commands.model import read_labelled_csv
    from csm_tui.scoring.churn import fit_report

    runs, cpu = [], []
    for _ in range(repeat):
        with Timer(runs, cpu):
            report = fit_report(read_labelled_csv(TELCO), "Churn", "customerID")
    _median(f"evaluate Telco ({report.n:,} rows x {len(report.features)} features)", runs, cpu)
    print(
        f"  ROC-AUC {report.roc_auc:.4f} ({report.estimator}); "
        + ", ".join(f"{k} {v:.2f} s" for k, v in report.fit_seconds.items())
    )


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _telco_xy(keep_id: bool = False):
    from csm_tui.commands.model import read_labelled_csv
    from csm_tui.scoring.churn import parse_label, prepare_features

    raw = read_labelled_csv(TELCO)
    y = parse_label(raw["Churn"], "Churn").to_numpy()
    X, plan = prepare_features(raw.drop(columns=["Churn"] if keep_id else ["Churn", "customerID"]))
    if keep_id:  # what happens when nobody drops the id: a one-hot column per customer
        X["customerID"] = raw["customerID"]
        plan.categorical.append("customerID")
    return X, y, plan


def _hgb_pipeline(plan, n_rows: int, **hgb):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from csm_tui.scoring.churn import build_pipeline

    pipe = build_pipeline("boosting", plan, n_rows)
    pipe.set_params(model=HistGradientBoostingClassifier(random_state=0, **hgb))
    if "customerID" in plan.categorical:  # no min_frequency / max_categories: the naive encoder
        pipe.set_params(pre__cat__onehot__min_frequency=None, pre__cat__onehot__max_categories=None)
    return pipe


def _cliff_cases(X, y, plan) -> dict:
    """label -> (callable, OpenMP/BLAS threads) for each suspected cliff on Telco."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def hgb(**params):
        return _hgb_pipeline(plan, len(y), **params)

    def cv_auc(model, **kw):
        return lambda: cross_val_score(model, X, y, cv=cv, scoring="roc_auc", **kw)

    small = np.random.default_rng(0).choice(len(y), 500, replace=False)  # a small book's history
    Xs, ys = X.iloc[small], y[small]
    early = dict(early_stopping=True, scoring="roc_auc", n_iter_no_change=50, max_iter=300)
    return {
        "one HGB fit, default (100 iter), OpenMP 2 threads": (lambda: hgb().fit(X, y), 2),
        "one HGB fit, default (100 iter), 1 thread": (lambda: hgb().fit(X, y), 1),
        "5-fold CV of HGB, sequential, 1 thread": (cv_auc(hgb()), 1),
        "5-fold CV of HGB, n_jobs=-1 (2 procs x 2 OpenMP threads)": (cv_auc(hgb(), n_jobs=-1), 2),
        "5-fold CV of CalibratedClassifierCV(HGB, cv=5), 1 thread (30 fits)": (
            cv_auc(CalibratedClassifierCV(hgb(), cv=5)), 1),
        "one HGB fit, early stopping scored by roc_auc, 1 thread": (
            lambda: hgb(**early).fit(X, y), 1),
        "one HGB fit, max_iter=1000 lr=0.02, 1 thread": (
            lambda: hgb(max_iter=1000, learning_rate=0.02).fit(X, y), 1),
        "one HGB fit on 500 rows (a small book), 2 OpenMP threads": (
            lambda: _hgb_pipeline(plan, 500).fit(Xs, ys), 2),
        "one HGB fit on 500 rows (a small book), 1 OpenMP thread": (
            lambda: _hgb_pipeline(plan, 500).fit(Xs, ys), 1),
    }  # fmt: skip


def run_cliffs(repeat: int) -> None:
    """Time each suspected cliff of a CV pipeline around HistGradientBoosting on Telco."""
    from threadpoolctl import threadpool_limits

    X, y, plan = _telco_xy()
    for label, (fn, threads) in _cliff_cases(X, y, plan).items():
        with threadpool_limits(threads):
            _median(label, [_timed(fn) for _ in range(repeat)])
    Xi, yi, plan_i = _telco_xy(keep_id=True)
    with threadpool_limits(1):
        _median(
            "one HGB fit with customerID one-hot (7,000+ columns), 1 thread",
            [_timed(lambda: _hgb_pipeline(plan_i, len(yi)).fit(Xi, yi))],
        )


def main() -> int:
    """Run the benchmarks named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-book", action="store_true")
    parser.add_argument("--cliffs", action="store_true", help="time the CV cliffs instead")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    if args.cliffs:
        run_cliffs(args.repeat)
        return 0
    bench_telco(args.repeat)
    if not args.skip_book:
        bench_book(args.accounts, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
