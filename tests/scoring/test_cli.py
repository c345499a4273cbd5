"""`csm score`, `csm alerts`, `csm config path|show` from the shell."""

from __future__ import annotations

import json

import pytest

from csm_tui.cli import main
from csm_tui.scoring.config import default_config, parse_config


@pytest.fixture
def scored(book, build, db_path):
    build.healthy("ACC-1")
    build.account("ACC-2", start_date="2026-10-01", activated_on=None)
    build.response("ACC-2", 1, 2)
    return db_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_score_all_prints_bands_and_alerts(scored, capsys):
    code, out, _ = run(capsys, "score", "--db", str(scored))
    assert code == 0
    assert "Rescored 2 accounts as of 2026-11-23" in out
    assert "green 1" in out and "insufficient data 1" in out
    assert "alerts opened: 2" in out


def test_score_all_json(scored, capsys):
    code, out, _ = run(capsys, "score", "--db", str(scored), "--json")
    data = json.loads(out)
    assert code == 0 and data["accounts"] == 2 and data["bands"]["green"] == 1


def test_score_one_account_with_explain(scored, capsys):
    code, out, _ = run(
        capsys, "score", "--db", str(scored), "--account", "Account ACC-1", "--explain"
    )
    assert code == 0
    assert out.startswith("Account ACC-1 (ACC-1): health ")
    for text in ("Seat utilisation", "Days since last touch", "Score ", "Change since 7 days ago"):
        assert text in out


def test_score_one_account_json_points_sum_to_score(scored, capsys):
    code, out, _ = run(capsys, "score", "--db", str(scored), "--account", "ACC-1", "--json")
    data = json.loads(out)
    points = sum(m["points"] for m in data["measures"] if m["points"] is not None)
    assert code == 0 and points == pytest.approx(data["score"], abs=0.05)


def test_score_insufficient_account_says_so(scored, capsys):
    _, out, _ = run(capsys, "score", "--db", str(scored), "--account", "ACC-2")
    assert "insufficient data" in out
    assert "alert opened (medium): Started 2026-10-01" in out


def test_explain_without_account_is_a_usage_error(scored, capsys):
    code, _, err = run(capsys, "score", "--db", str(scored), "--explain")
    assert code == 2 and "--explain needs --account" in err


def test_unknown_account_is_reported_cleanly(scored, capsys):
    code, _, err = run(capsys, "score", "--db", str(scored), "--account", "Nobody Inc")
    assert code == 1 and err.startswith("csm: ") and "Traceback" not in err


def test_alerts_lists_and_filters(scored, capsys):
    run(capsys, "score", "--db", str(scored))
    code, out, _ = run(capsys, "alerts", "--db", str(scored), "--json")
    rows = json.loads(out)
    assert code == 0 and {r["rule"] for r in rows} == {"detractor_nps", "not_activated"}
    assert all(r["account_id"] == "ACC-2" and r["reason"] for r in rows)
    _, out, _ = run(capsys, "alerts", "--db", str(scored))
    assert "detractor nps" in out and "Account ACC-2" in out
    _, out, _ = run(capsys, "alerts", "--db", str(scored), "--status", "done")
    assert "No done alerts." in out


def test_config_path_and_show_round_trip(capsys, isolated_env):
    code, out, _ = run(capsys, "config", "path")
    assert code == 0 and out.strip() == str(isolated_env / "config" / "scoring.toml")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and parse_config(out) == default_config()


def test_config_show_reflects_the_users_file(capsys, isolated_env):
    path = isolated_env / "config" / "scoring.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[bands]\ngreen = 80\nyellow = 60\n")
    _, out, _ = run(capsys, "config", "show")
    assert parse_config(out).bands.green == 80
    assert f"# source: {path}" in out


def test_bad_config_stops_score_with_key_and_line(scored, capsys, isolated_env):
    path = isolated_env / "config" / "scoring.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[categories.usage]\nweight = "lots"\n')
    code, _, err = run(capsys, "score", "--db", str(scored))
    assert code == 1
    assert "categories.usage.weight" in err and "line 2" in err and "Traceback" not in err
