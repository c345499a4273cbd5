"""The scoring config: SPEC defaults, TOML overrides, errors naming key and line, round trip."""

from __future__ import annotations

import pytest

from csm_tui.errors import ConfigError
from csm_tui.scoring.config import (
    config_to_toml,
    default_config,
    find_key_line,
    load_config,
    parse_config,
)


def test_defaults_follow_the_spec():
    cfg = default_config()
    assert {c.key: c.weight for c in cfg.categories} == {
        "usage": 40, "engagement": 30, "outcomes": 20, "sentiment": 10,
    }  # fmt: skip
    assert (cfg.bands.green, cfg.bands.yellow, cfg.min_data_share) == (75, 50, 0.5)
    assert cfg.measure("last_touch").points == ((14, 100), (90, 0))
    assert cfg.measure("usage_trend").points == ((-30, 0), (0, 70), (20, 100))
    assert len(cfg.rules) == 9
    assert cfg.rule("score_drop").params["points"] == 10
    assert [cfg.band_of(s) for s in (75, 74.9, 50, 49.9, None)] == [
        "green", "yellow", "yellow", "red", "insufficient",
    ]  # fmt: skip


def test_missing_file_means_the_defaults(tmp_path):
    assert load_config(tmp_path / "absent.toml") == default_config()


def test_a_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "scoring.toml"
    path.write_text(
        "[bands]\ngreen = 80\nyellow = 60\n\n[measures.nps]\nweight = 70\n"
        '[alerts.mau_drop]\ndrop_pct = 40\nseverity = "medium"\n'
    )
    cfg = load_config(path)
    assert (cfg.bands.green, cfg.bands.yellow) == (80, 60)
    assert cfg.measure("nps").weight == 70
    assert cfg.measure("csat").weight == default_config().measure("csat").weight
    assert cfg.rule("mau_drop").params["drop_pct"] == 40
    assert cfg.rule("mau_drop").severity == "medium"


def test_round_trip_of_the_effective_config():
    text = "[categories.usage]\nweight = 55\n[measures.qbr]\npoints = [[90, 100], [200, 0]]\n"
    cfg = parse_config(text)
    assert parse_config(config_to_toml(cfg)) == cfg
    assert parse_config(config_to_toml(default_config())) == default_config()


def test_syntax_error_names_the_line():
    with pytest.raises(ConfigError) as err:
        parse_config("[bands]\ngreen = 80\nyellow = = 3\n", "my.toml")
    assert "my.toml" in err.value.message and "line 3" in err.value.message


def test_unknown_key_names_key_and_line():
    text = "[bands]\ngreen = 80\n\n[measures.nps]\nwieght = 3\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "scoring.toml")
    assert "measures.nps.wieght" in err.value.message
    assert "line 5" in err.value.message
    assert "unknown key" in err.value.message


def test_weight_that_is_not_a_number_names_key_and_line():
    text = '# my weights\n[categories.usage]\nweight = "heavy"\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert "categories.usage.weight" in err.value.message
    assert "line 3" in err.value.message and "number" in err.value.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[measures.nps]\npoints = [[0, 0]]\n", "measures.nps.points"),
        ("[measures.nps]\npoints = [[5, 0], [1, 100]]\n", "measures.nps.points"),
        ("[measures.nps]\npoints = [[0, 0], [10, 140]]\n", "measures.nps.points"),
        ("[bands]\ngreen = 40\nyellow = 60\n", "bands.yellow"),
        ('[alerts.score_drop]\nseverity = "urgent"\n', "alerts.score_drop.severity"),
        ("[alerts.score_drop]\nenabled = 1\n", "alerts.score_drop.enabled"),
        ("[alerts.nope]\nenabled = true\n", "alerts.nope"),
        ("min_data_share = 2\n", "min_data_share"),
        ("[measures.nps]\nweight = true\n", "measures.nps.weight"),
        ("[categories.usage]\nweight = -1\n", "categories.usage.weight"),
    ],
)
def test_bad_values_are_refused_with_their_key(text, key):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert key in err.value.message
    assert "line" in err.value.message


def test_find_key_line_handles_dotted_keys_and_headers():
    text = "a = 1\n[measures]\nnps.weight = 3\n[alerts.score_drop]\n points = 4\n"
    assert find_key_line(text, "measures.nps.weight") == 3
    assert find_key_line(text, "alerts.score_drop.points") == 5
    assert find_key_line(text, "alerts.score_drop") == 4
    assert find_key_line(text, "nothing.here") is None
