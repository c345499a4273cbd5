"""The architecture is a contract: import-linter's rules in pyproject.toml must hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    """storage/scoring/reports/service never import Textual; screens/widgets never touch SQL."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_heavy_modules_stay_off_the_cli_start_up_path() -> None:
    """`csm --help` must not import pandas, scikit-learn or Textual (fast start, small edits)."""
    code = (
        "import sys\n"
        "from csm_tui.cli import build_parser\n"
        "build_parser()\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'textual') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
