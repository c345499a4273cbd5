"""What the scoring engine returns: plain dataclasses, JSON-ready through `to_dict`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class MeasureExplain:
    """One measure of one account: raw value, 0–100 value, share of the score, points."""

    key: str
    label: str
    category: str
    raw: float | None
    value: float | None
    weight: float | None  # effective share of the score (0–1); None without data
    points: float | None  # value × weight; the points of an account sum to its score


@dataclass
class AlertRecord:
    """An alert the rescore opened or found cleared, with its reason in words."""

    rule: str
    severity: str
    reason: str


@dataclass
class AccountScore:
    """One account's score after a rescore, with its explanation and what changed."""

    account_id: str
    score: float | None
    band: str  # green / yellow / red / insufficient
    parts: dict[str, float | None]
    measures: list[MeasureExplain]
    coverage: float  # share of the total weight with data
    delta_7: float | None = None
    delta_30: float | None = None
    movers: list[tuple[str, float]] = field(default_factory=list)
    churn_prob: float | None = None
    risk_segment: str | None = None
    risk_top10: bool = False
    expansion_candidate: bool = False
    last_touch_at: str | None = None
    alerts_opened: list[AlertRecord] = field(default_factory=list)
    alerts_cleared: list[AlertRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (`csm score --json`)."""
        out = asdict(self)
        out["movers"] = [{"measure": label, "points": pts} for label, pts in self.movers]
        return out


@dataclass
class RescoreSummary:
    """What a full rescore did."""

    as_of: str
    accounts: int
    bands: dict[str, int]
    alerts_opened: int
    alerts_reopened: int  # snoozes that expired
    history_only: bool = False
    seconds: float = 0.0
    churn_model: str = "none"  # "model" / "none" / the reason it was not used

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (`csm score --json`)."""
        return asdict(self)
