"""Benchmark: churn-model SCORING (features + predict), the part the scoring engine runs.

Usage:  python3 bench/bench_churn_scoring.py [--db bench/out/churn100k.db] [--repeat 3]
                                             [--single 50] [--steps]

The book needs a trained model beside it; make one with
    csm demo --accounts 100000 --db bench/out/churn100k.db
    csm model train --db bench/out/churn100k.db
Prints medians (wall and CPU: the 2-core machine is shared, wall time is noisy), the sizes they
were measured at and the load average. `--steps` also times each feature query and predict on
its own. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeat` calls of `fn`, and its last result."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return statistics.median(wall), statistics.median(cpu), result


def report(label: str, wall: float, cpu: float, repeat: int, unit: str = "s") -> None:
    """One line: the medians in seconds or milliseconds."""
    scale = 1000 if unit == "ms" else 1
    print(
        f"{label}: median {wall * scale:.2f} {unit} wall, {cpu * scale:.2f} {unit} CPU, of {repeat}"
    )


def bench(db: Path, repeat: int, single: int, steps: bool) -> None:
    """Whole-book and one-account features + predict on the book at `db`."""
    os.environ.setdefault("CSM_TODAY", "2026-11-23")
    from csm_tui.paths import model_path_for
    from csm_tui.scoring.churn import load_model
    from csm_tui.scoring.churn_features import _active_ids, feature_frame
    from csm_tui.storage.db import open_book

    book = open_book(db)
    model = load_model(model_path_for(db))
    if model is None:
        sys.exit(f"no churn model beside {db}: run `csm model train --db {db}` first")
    custom, conn = model.custom_schema, book.conn
    ids = _active_ids(conn)
    print(
        f"book {db.name}: {len(ids):,} active accounts; model {model.metadata['metrics']['estimator']}"
        f"; load average {os.getloadavg()[0]:.2f}"
    )

    def whole_book():
        return model.predict(feature_frame(conn, account_ids=ids, custom=custom))

    wall, cpu, _ = timed(whole_book, repeat)
    report(f"features + predict, all {len(ids):,} active accounts", wall, cpu, repeat)
    one = [ids[len(ids) // 2]]
    timed(lambda: model.predict(feature_frame(conn, account_ids=one, custom=custom)), 3)  # warm
    wall, cpu, _ = timed(
        lambda: model.predict(feature_frame(conn, account_ids=one, custom=custom)), single
    )
    report("features + predict, one account", wall, cpu, single, "ms")
    if steps:
        _steps(conn, model, ids, custom, repeat)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    book.close()


def _steps(conn, model, ids: list[str], custom: dict, repeat: int) -> None:
    """Each feature query (the way a whole-book score runs it) and the prediction on their own."""
    import pandas as pd

    from csm_tui.scoring import churn_features as cf

    as_of = (cf.clock_today() + cf.timedelta(days=1)).isoformat()
    pts = pd.DataFrame({"k": range(len(ids)), "account_id": ids, "as_of": as_of})
    params, bulk = {"points": pts.to_json(orient="values")}, cf._bulk_params(conn, pts)
    wall, cpu, _ = timed(lambda: cf._usage_features(conn, params, len(ids)), repeat)
    report("  usage rows + numpy aggregates (per point)", wall, cpu, repeat)
    for name in ("TICKETS", "RESPONSES", "CONTACTS", "EVENTS", "RENEWALS", "ACCOUNTS"):
        sql = getattr(cf, f"_{name}_SQL")
        if bulk is not None and sql in cf._BULK_SQL:
            how, run = (
                "table scan",
                lambda sql=sql: cf._columns_by_account(conn, cf._BULK_SQL[sql], bulk, pts),
            )
        else:
            how, run = (
                "per point",
                lambda sql=sql: cf._columns_by_point(conn, sql, params, len(ids)),
            )
        wall, cpu, _ = timed(run, repeat)
        report(f"  {name.lower()} query ({how})", wall, cpu, repeat)
    wall, cpu, _ = timed(
        lambda: cf._custom_values(conn, pts["account_id"].to_numpy(), custom), repeat
    )
    report(f"  custom attributes ({len(custom)})", wall, cpu, repeat)
    frame = cf.feature_frame(conn, account_ids=ids, custom=custom)
    wall, cpu, _ = timed(lambda: model.predict(frame), repeat)
    report("  predict (typing, preprocessing, model, calibration)", wall, cpu, repeat)


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "churn100k.db")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", type=int, default=50)
    parser.add_argument("--steps", action="store_true")
    args = parser.parse_args()
    bench(args.db, args.repeat, args.single, args.steps)


if __name__ == "__main__":
    main()
