"""The health score from raw measures: transforms, category parts, overall score, band, explain.

One numpy implementation over an (accounts × measures) matrix serves both the single-account
rescore (a 1-row matrix) and the full rescore, so the two can never disagree.

- Each measure's raw value → 0–100 by its piecewise-linear transform (clamped at both ends).
- A category's part = the weighted mean of its measures that have data.
- The score = the weighted mean of the categories that have data, their weights renormalised.
- Coverage = the share of the total nominal weight whose measures have data; below the
  config's `min_data_share` the account is "insufficient": no score, never a made-up number.
- Each measure's effective weight = its share of the score, so points = value × weight and the
  points of an account sum to its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from csm_tui.scoring.config import ScoringConfig
from csm_tui.scoring.results import MeasureExplain


def transform(raw: float | np.ndarray, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """Map raw value(s) to 0–100 through the break-points (clamped; NaN stays NaN)."""
    raw = np.asarray(raw, dtype=float)
    return np.where(np.isnan(raw), np.nan, _through(raw, points))


def _through(raw: np.ndarray, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """The piecewise-linear map itself (clamped at both ends); NaN handling is the caller's."""
    return np.interp(raw, [p[0] for p in points], [p[1] for p in points])


@dataclass
class ScoreArrays:
    """Scores of n accounts: per-measure values/weights/points, category parts, the score."""

    values: np.ndarray  # (n, M) 0–100, NaN where no data; (0, M) when scored without explain
    weights: np.ndarray  # (n, M) effective share of the score (0 where no data); likewise
    points: np.ndarray  # (n, M) value × weight; NaN where no data or insufficient
    parts: np.ndarray  # (n, C) category parts, NaN where no data
    coverage: np.ndarray  # (n,) share of the total weight with data
    score: np.ndarray  # (n,) NaN when insufficient
    band: np.ndarray  # (n,) object: green / yellow / red / insufficient


#: Rows scored per pass. Every step is row-wise, so a block's result is the whole matrix's
#: rows; blocks whose temporaries stay in the CPU cache score 1M accounts ~3× faster.
BLOCK_ROWS = 16_384


def score_matrix(raw: np.ndarray, cfg: ScoringConfig, *, explain: bool = True) -> ScoreArrays:
    """Score an (n × M) matrix of raw values, columns in `cfg.measures` order. `explain=False`
    (the full rescore) leaves `values` and `weights` with no rows: only one account's explain
    reads them, and for a million accounts they are 220 MB to allocate and fill."""
    raw = np.atleast_2d(np.asarray(raw, dtype=float))
    first = _score_block(raw[:BLOCK_ROWS], cfg)
    if len(raw) <= BLOCK_ROWS and explain:
        return first
    out = _allocated(first, len(raw), explain)
    for start in range(0, len(raw), BLOCK_ROWS):
        block = first if start == 0 else _score_block(raw[start : start + BLOCK_ROWS], cfg)
        for f in fields(ScoreArrays):
            target = getattr(out, f.name)
            if len(target):
                target[start : start + len(block.score)] = getattr(block, f.name)
    return out


def _allocated(block: ScoreArrays, n: int, explain: bool) -> ScoreArrays:
    """Arrays for n accounts shaped and typed like `block`'s (values, weights: none unless
    `explain`), filled block by block."""
    sized = {f.name: getattr(block, f.name) for f in fields(ScoreArrays)}
    return ScoreArrays(**{
        name: np.empty(
            (n if explain or name not in ("values", "weights") else 0, *a.shape[1:]), a.dtype
        )
        for name, a in sized.items()
    })  # fmt: skip


def _score_block(raw: np.ndarray, cfg: ScoringConfig) -> ScoreArrays:
    """`score_matrix` over rows that fit the CPU cache."""
    n = raw.shape[0]
    values = np.empty(raw.shape)
    for j, m in enumerate(cfg.measures):
        values[:, j] = _through(raw[:, j], m.points)
    present = ~np.isnan(raw)
    values[~present] = np.nan  # no data stays no data, whatever the break-points
    filled = np.where(present, values, 0.0)
    mweight = np.array([m.weight for m in cfg.measures], dtype=float)
    cat_index = {c.key: i for i, c in enumerate(cfg.categories)}
    cat_of = np.array([cat_index[m.category] for m in cfg.measures], dtype=np.intp)
    members = [np.flatnonzero(cat_of == c) for c in range(len(cfg.categories))]
    cweight = np.array([c.weight for c in cfg.categories], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        wp = present * mweight  # (n, M) nominal measure weight with data
        cat_present_w = _category_sums(wp, members)  # (n, C)
        cat_total_w = _category_sums(mweight[None, :], members)[0]  # (C,)
        parts = _category_sums(filled * wp, members) / cat_present_w
        parts[cat_present_w == 0] = np.nan
        cat_share = np.where(
            cat_total_w > 0, cat_present_w / np.where(cat_total_w > 0, cat_total_w, 1), 0
        )
        total = cweight.sum()
        coverage = (cat_share * cweight).sum(axis=1) / total if total > 0 else np.zeros(n)
        cw_present = np.where(np.isnan(parts), 0.0, cweight)  # (n, C)
        cw_sum = cw_present.sum(axis=1, keepdims=True)
        # a category's share of the score per unit of measure weight (0 where it has no data)
        cat_factor = np.nan_to_num(cw_present / cw_sum / cat_present_w, nan=0.0, posinf=0.0)
        weights = wp * cat_factor[:, cat_of]  # finite: 0 where a measure has no data
        weighted = filled * weights  # the points, 0 where no data
        score = weighted.sum(axis=1)
    sufficient = (coverage >= cfg.min_data_share) & (cw_sum[:, 0] > 0)
    score = np.where(sufficient, score, np.nan)
    points = np.where(sufficient[:, None] & present, weighted, np.nan)
    band = bands_of(score, cfg)
    return ScoreArrays(values, weights, points, parts, coverage, score, band)


def _category_sums(a: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    """(n × C) sums of `a`'s measure columns per category. Plain numpy sums, not a matrix
    product: BLAS would start a thread pool whose spinning threads take the second core from
    the rest of a full rescore."""
    out = np.zeros((a.shape[0], len(members)))
    for c, columns in enumerate(members):
        if columns.size:
            out[:, c] = a[:, columns].sum(axis=1)
    return out


def bands_of(score: np.ndarray, cfg: ScoringConfig) -> np.ndarray:
    """Band per score: green / yellow / red, "insufficient" where the score is NaN."""
    score = np.asarray(score, dtype=float)
    codes = np.where(score >= cfg.bands.green, 0, np.where(score >= cfg.bands.yellow, 1, 2))
    codes[np.isnan(score)] = 3
    return _BAND_NAMES[codes]


_BAND_NAMES = np.array(["green", "yellow", "red", "insufficient"], dtype=object)


def explain_row(
    raw: np.ndarray, arrays: ScoreArrays, cfg: ScoringConfig, row: int = 0
) -> list[MeasureExplain]:
    """Per-measure explain of one account: raw, 0–100 value, effective weight, points."""
    out = []
    for j, m in enumerate(cfg.measures):
        value = arrays.values[row, j]
        out.append(
            MeasureExplain(
                key=m.key,
                label=m.label,
                category=m.category,
                raw=_opt(raw[row, j], 2),
                value=_opt(value, 1),
                weight=_opt(arrays.weights[row, j] if not np.isnan(value) else np.nan, 4),
                points=_opt(arrays.points[row, j], 2),
            )
        )
    return out


def _opt(value: float, digits: int) -> float | None:
    # np.round, like the vectorised writer, so explain and stored history agree to the digit
    return None if value is None or np.isnan(value) else float(np.round(value, digits))
