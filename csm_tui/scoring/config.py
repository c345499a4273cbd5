"""The scoring configuration: categories, measures and their transforms, bands, alert rules.

Shipped defaults (SPEC.md "Health score" / "Alert rules"); a user's `scoring.toml`
(`csm config path`) overrides any of them. Each measure maps its raw value to 0–100 by a
piecewise-linear transform through its break-points `(raw, value)`, clamped at both ends:

| category (weight)   | measure            | raw value                                  | break-points (raw → value)         |
|---------------------|--------------------|--------------------------------------------|------------------------------------|
| usage (40)          | seat_utilisation 30| active users / licensed seats, %           | 0→0, 30→35, 60→75, 85→100          |
|                     | stickiness 25      | DAU / MAU, %                               | 0→0, 10→40, 20→70, 40→100          |
|                     | feature_adoption 25| core features used / total, %              | 0→0, 30→40, 60→80, 80→100          |
|                     | usage_trend 20     | MAU vs mean of the 60 d before, % change   | −30→0, 0→70, +20→100               |
| engagement (30)     | support_load 30    | tickets / 100 seats in 90 d, +5 per open   | 0→100, 5→80, 15→40, 30→0           |
|                     |                    | sev-1/2 ticket                             |                                    |
|                     | onboarding 20      | onboarding / training completion, %        | 0→0, 100→100                       |
|                     | last_touch 30      | days since the last call/meeting/email/QBR | 14→100, 90→0                       |
|                     | qbr 20             | days since the last QBR                    | 120→100, 180→0                     |
| outcomes (20)       | objectives 40      | success-plan objectives on track or done, %| 0→0, 100→100                       |
|                     | sponsor 30         | executive sponsor engaged (1 / 0)          | 0→0, 1→100                         |
|                     | champion 30        | a champion is in place (1 / 0)             | 0→0, 1→100                         |
| sentiment (10)      | nps 50             | latest NPS answer, 0–10                    | 0→0, 6→40, 8→75, 10→100            |
|                     | csat 20            | latest CSAT answer, 1–5                    | 1→0, 3→50, 5→100                   |
|                     | escalations 30     | open escalations                           | 0→100, 1→50, 3→0                   |

Bands: green ≥ 75, yellow ≥ 50, else red; below `min_data_share` of the total weight with
data the account is "insufficient" (no score). Alert rules: see `DEFAULT_RULES`.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from csm_tui.errors import ConfigError

Points = tuple[tuple[float, float], ...]
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Measure:
    """One measure: its weight within its category and its 0–100 transform."""

    key: str
    label: str
    category: str
    unit: str
    weight: float
    points: Points


@dataclass(frozen=True)
class Category:
    """One of the four categories and its weight in the overall score."""

    key: str
    label: str
    weight: float


@dataclass(frozen=True)
class Bands:
    """Score thresholds: green at or above `green`, yellow at or above `yellow`, else red."""

    green: float = 75.0
    yellow: float = 50.0


@dataclass(frozen=True)
class AlertRule:
    """A named alert rule: on/off, its severity and its thresholds (named numbers)."""

    key: str
    label: str
    severity: str
    enabled: bool
    params: dict[str, float]


@dataclass(frozen=True)
class RiskConfig:
    """Risk segments from the churn probability, and the share of the book flagged top risk."""

    high: float = 0.5
    medium: float = 0.2
    top_share: float = 0.10


@dataclass(frozen=True)
class ScoringConfig:
    """The whole effective scoring configuration."""

    categories: tuple[Category, ...]
    measures: tuple[Measure, ...]
    bands: Bands = field(default_factory=Bands)
    min_data_share: float = 0.5
    rules: tuple[AlertRule, ...] = ()
    risk: RiskConfig = field(default_factory=RiskConfig)

    def measure(self, key: str) -> Measure:
        """The measure called `key`."""
        return next(m for m in self.measures if m.key == key)

    def rule(self, key: str) -> AlertRule:
        """The alert rule called `key`."""
        return next(r for r in self.rules if r.key == key)

    def band_of(self, score: float | None) -> str:
        """The band of a score ("insufficient" when there is none)."""
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return "insufficient"
        if score >= self.bands.green:
            return "green"
        return "yellow" if score >= self.bands.yellow else "red"


DEFAULT_CATEGORIES = (
    Category("usage", "Usage", 40.0),
    Category("engagement", "Engagement", 30.0),
    Category("outcomes", "Business outcomes", 20.0),
    Category("sentiment", "Sentiment", 10.0),
)


def _m(key: str, label: str, category: str, unit: str, weight: float, *points) -> Measure:
    return Measure(
        key, label, category, unit, weight, tuple((float(a), float(b)) for a, b in points)
    )


DEFAULT_MEASURES = (
    _m(
        "seat_utilisation",
        "Seat utilisation",
        "usage",
        "%",
        30,
        (0, 0),
        (30, 35),
        (60, 75),
        (85, 100),
    ),
    _m(
        "stickiness",
        "Stickiness (DAU/MAU)",
        "usage",
        "%",
        25,
        (0, 0),
        (10, 40),
        (20, 70),
        (40, 100),
    ),
    _m(
        "feature_adoption",
        "Core-feature adoption",
        "usage",
        "%",
        25,
        (0, 0),
        (30, 40),
        (60, 80),
        (80, 100),
    ),
    _m("usage_trend", "Usage trend (MAU)", "usage", "%", 20, (-30, 0), (0, 70), (20, 100)),
    _m(
        "support_load",
        "Support load",
        "engagement",
        "per 100 seats",
        30,
        (0, 100),
        (5, 80),
        (15, 40),
        (30, 0),
    ),
    _m("onboarding", "Onboarding completion", "engagement", "%", 20, (0, 0), (100, 100)),
    _m("last_touch", "Days since last touch", "engagement", "days", 30, (14, 100), (90, 0)),
    _m("qbr", "Days since last QBR", "engagement", "days", 20, (120, 100), (180, 0)),
    _m("objectives", "Objectives on track", "outcomes", "%", 40, (0, 0), (100, 100)),
    _m("sponsor", "Executive sponsor engaged", "outcomes", "yes/no", 30, (0, 0), (1, 100)),
    _m("champion", "Champion in place", "outcomes", "yes/no", 30, (0, 0), (1, 100)),
    _m("nps", "Latest NPS", "sentiment", "of 10", 50, (0, 0), (6, 40), (8, 75), (10, 100)),
    _m("csat", "Latest CSAT", "sentiment", "of 5", 20, (1, 0), (3, 50), (5, 100)),
    _m("escalations", "Open escalations", "sentiment", "", 30, (0, 100), (1, 50), (3, 0)),
)

DEFAULT_RULES = (
    AlertRule("score_drop", "Health dropped", "medium", True, {"points": 10}),
    AlertRule("band_worsened", "Band worsened", "high", True, {}),
    AlertRule("mau_drop", "MAU down", "high", True, {"drop_pct": 30}),
    AlertRule(
        "ticket_spike",
        "Ticket spike / sev-1",
        "high",
        True,
        {"ratio": 2.0, "min_tickets": 3, "open_sev1": 1},
    ),
    AlertRule(
        "detractor_nps", "Detractor NPS", "medium", True, {"max_score": 6, "max_age_days": 180}
    ),
    AlertRule("stakeholder_left", "Champion/sponsor left", "high", True, {"days": 30}),
    AlertRule("renewal_not_green", "Renewal soon, not green", "high", True, {"days": 90}),
    AlertRule(
        "not_activated",
        "Not activated by day 30",
        "medium",
        True,
        {"days": 30, "max_age_days": 180},
    ),
    AlertRule(
        "expansion_signal",
        "Expansion signal",
        "low",
        True,
        {"seat_utilisation_pct": 90, "min_nps": 8},
    ),
)


def default_config() -> ScoringConfig:
    """The shipped defaults."""
    return ScoringConfig(DEFAULT_CATEGORIES, DEFAULT_MEASURES, rules=DEFAULT_RULES)


# -- loading ----------------------------------------------------------------------------------------
def load_config(path: Path | None = None) -> ScoringConfig:
    """The effective config: `path` (default `paths.scoring_config_path()`) over the defaults.

    A missing file means the defaults. A syntax error, an unknown key or a bad value raises
    `ConfigError` naming the file, the key and its line.
    """
    if path is None:
        from csm_tui.paths import scoring_config_path

        path = scoring_config_path()
    path = Path(path)
    if not path.exists():
        return default_config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the scoring config ({exc}).") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path | str = "scoring.toml") -> ScoringConfig:
    """Parse TOML text over the defaults (see `load_config`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    reader = _Reader(text, str(path))
    return reader.apply(data, default_config())


class _Reader:
    """Applies a parsed TOML document over a config, naming key and line on any problem."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        """A ConfigError naming the file, the key's line (when found) and the key."""
        line = find_key_line(self.text, key)
        where = f"line {line}: " if line else ""
        return ConfigError(f"{self.path}: {where}{key}: {problem}")

    def apply(self, data: dict, cfg: ScoringConfig) -> ScoringConfig:
        """`cfg` with every value of the parsed document applied, each one checked."""
        known = {"min_data_share", "bands", "categories", "measures", "alerts", "risk"}
        self._no_unknown(data, known, "")
        if "min_data_share" in data:
            share = self.number(data["min_data_share"], "min_data_share", 0.0, 1.0)
            cfg = replace(cfg, min_data_share=share)
        cfg = replace(cfg, bands=self._bands(data.get("bands", {}), cfg.bands))
        cfg = replace(cfg, categories=self._categories(data.get("categories", {}), cfg.categories))
        cfg = replace(cfg, measures=self._measures(data.get("measures", {}), cfg.measures))
        cfg = replace(cfg, rules=self._rules(data.get("alerts", {}), cfg.rules))
        cfg = replace(cfg, risk=self._risk(data.get("risk", {}), cfg.risk))
        if sum(c.weight for c in cfg.categories) <= 0:
            raise self.fail("categories", "at least one category needs a weight above 0")
        return cfg

    def _bands(self, data: Any, bands: Bands) -> Bands:
        self._table(data, "bands")
        self._no_unknown(data, {"green", "yellow"}, "bands")
        green = self.number(data.get("green", bands.green), "bands.green", 0, 100)
        yellow = self.number(data.get("yellow", bands.yellow), "bands.yellow", 0, 100)
        if yellow > green:
            raise self.fail("bands.yellow", f"must not be above bands.green ({green:g})")
        return Bands(green, yellow)

    def _categories(self, data: Any, cats: tuple[Category, ...]) -> tuple[Category, ...]:
        self._table(data, "categories")
        self._no_unknown(data, {c.key for c in cats}, "categories")
        out = []
        for cat in cats:
            sub = data.get(cat.key, {})
            key = f"categories.{cat.key}"
            self._table(sub, key)
            self._no_unknown(sub, {"weight"}, key)
            weight = self.number(sub.get("weight", cat.weight), f"{key}.weight", 0)
            out.append(replace(cat, weight=weight))
        return tuple(out)

    def _measures(self, data: Any, measures: tuple[Measure, ...]) -> tuple[Measure, ...]:
        self._table(data, "measures")
        self._no_unknown(data, {m.key for m in measures}, "measures")
        out = []
        for m in measures:
            sub = data.get(m.key, {})
            key = f"measures.{m.key}"
            self._table(sub, key)
            self._no_unknown(sub, {"weight", "points"}, key)
            weight = self.number(sub.get("weight", m.weight), f"{key}.weight", 0)
            points = self.points(sub["points"], f"{key}.points") if "points" in sub else m.points
            out.append(replace(m, weight=weight, points=points))
        return tuple(out)

    def _rules(self, data: Any, rules: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
        self._table(data, "alerts")
        self._no_unknown(data, {r.key for r in rules}, "alerts")
        out = []
        for rule in rules:
            sub = data.get(rule.key, {})
            key = f"alerts.{rule.key}"
            self._table(sub, key)
            self._no_unknown(sub, {"enabled", "severity", *rule.params}, key)
            enabled = sub.get("enabled", rule.enabled)
            if not isinstance(enabled, bool):
                raise self.fail(f"{key}.enabled", "must be true or false")
            severity = sub.get("severity", rule.severity)
            if severity not in SEVERITIES:
                raise self.fail(f"{key}.severity", 'must be "high", "medium" or "low"')
            params = {
                name: self.number(sub.get(name, value), f"{key}.{name}", 0)
                for name, value in rule.params.items()
            }
            out.append(replace(rule, enabled=enabled, severity=severity, params=params))
        return tuple(out)

    def _risk(self, data: Any, risk: RiskConfig) -> RiskConfig:
        self._table(data, "risk")
        self._no_unknown(data, {"high", "medium", "top_share"}, "risk")
        high = self.number(data.get("high", risk.high), "risk.high", 0, 1)
        medium = self.number(data.get("medium", risk.medium), "risk.medium", 0, 1)
        if medium > high:
            raise self.fail("risk.medium", f"must not be above risk.high ({high:g})")
        top = self.number(data.get("top_share", risk.top_share), "risk.top_share", 0, 1)
        return RiskConfig(high, medium, top)

    # -- value checks ---------------------------------------------------------------------------
    def number(
        self, value: Any, key: str, low: float | None = None, high: float | None = None
    ) -> float:
        """A finite number within [low, high], else a ConfigError naming `key`."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(key, f"must be a number, not {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise self.fail(key, f"must be {bounds}, not {value:g}")
        return float(value)

    def points(self, value: Any, key: str) -> Points:
        """Break-points: a list of at least two [raw, value] pairs, raw strictly ascending."""
        shape = "a list of [raw, value] pairs, e.g. [[0, 0], [100, 100]]"
        if not isinstance(value, list) or len(value) < 2:
            raise self.fail(key, f"must be {shape} (at least two)")
        out = []
        for pair in value:
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(key, f"must be {shape}")
            raw = self.number(pair[0], key)
            score = self.number(pair[1], key, 0, 100)
            if out and raw <= out[-1][0]:
                raise self.fail(key, "raw values must go up strictly from one pair to the next")
            out.append((raw, score))
        return tuple(out)

    def _table(self, value: Any, key: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")

    def _no_unknown(self, data: dict, known: set[str], prefix: str) -> None:
        for name in data:
            if name not in known:
                key = f"{prefix}.{name}" if prefix else name
                hint = ", ".join(sorted(known))
                raise self.fail(key, f"unknown key (expected one of: {hint})")


def find_key_line(text: str, dotted: str) -> int | None:
    """The 1-based line where `dotted` (e.g. `measures.nps.weight`) is set, by scanning text.

    Looks for `leaf =` under the table header `[parent]`, then a dotted `a.b = ` form, then the
    header `[dotted]` itself; None when the key cannot be found.
    """
    parts = dotted.split(".")
    lines = text.splitlines()
    for split in range(len(parts) - 1, -1, -1):
        table, rest = parts[:split], parts[split:]
        hit = _line_under_table(lines, table, ".".join(rest))
        if hit:
            return hit
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, parts)) + r"\s*\]")
    return next((i for i, line in enumerate(lines, 1) if header.match(line)), None)


def _line_under_table(lines: list[str], table: list[str], key: str) -> int | None:
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
    keyline = re.compile(r"^\s*" + r"\s*\.\s*".join(map(re.escape, key.split("."))) + r"\s*=")
    current: list[str] = []
    for number, line in enumerate(lines, 1):
        found = header.match(line)
        if found:
            current = [p.strip().strip('"') for p in found.group(1).split(".")]
            continue
        if current == table and keyline.match(line):
            return number
    return None


# -- writing ----------------------------------------------------------------------------------------
def config_to_toml(cfg: ScoringConfig) -> str:
    """The effective config as TOML that `parse_config` reads back to an equal config."""
    out = ["# csm scoring configuration (effective values)", ""]
    out.append(f"min_data_share = {_num(cfg.min_data_share)}")
    out += ["", "[bands]", f"green = {_num(cfg.bands.green)}", f"yellow = {_num(cfg.bands.yellow)}"]
    for cat in cfg.categories:
        out += ["", f"[categories.{cat.key}]", f"weight = {_num(cat.weight)}"]
    for m in cfg.measures:
        pairs = ", ".join(f"[{_num(a)}, {_num(b)}]" for a, b in m.points)
        out += [
            "",
            f"# {m.label} ({m.category}; raw in {m.unit or 'count'})",
            f"[measures.{m.key}]",
        ]
        out += [f"weight = {_num(m.weight)}", f"points = [{pairs}]"]
    for rule in cfg.rules:
        out += ["", f"# {rule.label}", f"[alerts.{rule.key}]"]
        out += [f"enabled = {'true' if rule.enabled else 'false'}", f'severity = "{rule.severity}"']
        out += [f"{name} = {_num(value)}" for name, value in rule.params.items()]
    risk = cfg.risk
    out += ["", "[risk]", f"high = {_num(risk.high)}", f"medium = {_num(risk.medium)}"]
    out.append(f"top_share = {_num(risk.top_share)}")
    return "\n".join(out) + "\n"


def _num(value: float) -> str:
    return repr(float(value))
