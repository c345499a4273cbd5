"""Import/export speed: median seconds over a few runs, sizes named (not run by the test suite).

    python3 bench/bench_import.py [--sizes 10000 50000] [--runs 3]

Each run imports a generated HubSpot-style accounts CSV (with custom columns) into a fresh book
without the rescore (that is the scoring engine's time), then a usage CSV of 3 snapshots per
account, then exports the accounts as CSV.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csm_tui.storage.db import open_book  # noqa: E402
from csm_tui.storage.exporter import collect, export_text  # noqa: E402
from csm_tui.storage.importer import import_file  # noqa: E402


def accounts_csv(path: Path, n: int) -> None:
    """A HubSpot-like company export with `n` rows."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Record ID",
                "Company name",
                "Company owner",
                "Lifecycle Stage",
                "Industry",
                "Annual Revenue",
                "City",
                "ARR",
                "Renewal Date",
            ]
        )
        for i in range(n):
            writer.writerow(
                [
                    f"{5_000_000_000 + i}",
                    f"Company {i:06d}, Inc.",
                    f"CSM {i % 40}",
                    "Customer",
                    "Software",
                    f"${(i % 900 + 1) * 100_000:,}",
                    f"City {i % 300}",
                    f"${(i % 500 + 5) * 1_000:,.2f}",
                    f"2027-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                ]
            )


def usage_csv(path: Path, n: int) -> None:
    """Three monthly usage snapshots per account, referring to accounts by id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["date", "account", "active users", "DAU", "MAU", "licensed seats"])
    for i in range(n):
        for month in (9, 10, 11):
            writer.writerow(
                [
                    f"2026-{month:02d}-01",
                    f"{5_000_000_000 + i}",
                    40 + i % 60,
                    10 + i % 20,
                    40 + i % 60,
                    120,
                ]
            )
    path.write_text(buffer.getvalue(), encoding="utf-8")


def one_run(workdir: Path, n: int) -> tuple[float, float, float]:
    """(accounts import s, usage import s, accounts export s) for a fresh book."""
    book_path = workdir / f"bench-{n}-{time.monotonic_ns()}.db"
    book = open_book(book_path)
    try:
        started = time.perf_counter()
        import_file(book, workdir / f"accounts-{n}.csv")
        accounts_s = time.perf_counter() - started
        started = time.perf_counter()
        import_file(book, workdir / f"usage-{n}.csv", "usage")
        usage_s = time.perf_counter() - started
        started = time.perf_counter()
        export_text(collect(book, "accounts"), "csv")
        export_s = time.perf_counter() - started
    finally:
        book.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{book_path}{suffix}").unlink(missing_ok=True)
    return accounts_s, usage_s, export_s


def main() -> None:
    """Print medians per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for n in args.sizes:
            accounts_csv(workdir / f"accounts-{n}.csv", n)
            usage_csv(workdir / f"usage-{n}.csv", n)
            runs = [one_run(workdir, n) for _ in range(args.runs)]
            acc, use, exp = (statistics.median(col) for col in zip(*runs, strict=True))
            print(
                f"accounts={n:,}: import accounts median {acc:.2f} s "
                f"({n / acc:,.0f} rows/s); import usage ({3 * n:,} rows) median {use:.2f} s "
                f"({3 * n / use:,.0f} rows/s); export accounts CSV median {exp:.2f} s "
                f"[{args.runs} runs]"
            )


if __name__ == "__main__":
    main()
