"""The churn model: one cross-validated, calibrated scikit-learn pipeline for any labelled table.

API used by the rest of csm (the scoring engine imports this module lazily; nothing on the
app's start-up path imports it, since it pulls in scikit-learn):

- ``fit_report(df, label, id_col=None) -> ModelReport`` — stratified 5-fold CV report for any
  labelled table (``csm model evaluate`` on a user's CSV; the book model uses the same core).
- ``train_book_model(book) -> ModelReport`` — trains on the book's past renewal outcomes and
  saves the calibrated model to ``paths.model_path_for(book.path)``; raises ``NotEnoughHistory``
  (status message in plain words) when there are too few known outcomes.
- ``load_model(path) -> ChurnModel | None`` — ``None`` when no model was trained; raises
  ``ModelMismatch`` when the file was written by incompatible library versions.
- ``ChurnModel.predict(frame) -> numpy array`` of churn probabilities, one per row of
  ``churn_features.feature_frame(conn, account_ids=[...])``; raises ``ModelMismatch`` when the
  frame's features differ from the ones it was trained on (e.g. a custom attribute was added).
  The engine catches ``ModelMismatch`` and falls back to the health band, like "no model".
- ``ChurnModel.drivers(frame_row, k=3) -> list[Driver]`` — what pushes one account's
  probability up, in words, for the account screen.
- ``risk_segment(prob, high=0.5, medium=0.2) -> "high" | "medium" | "low"``.

Method: numeric columns are median-imputed (with missing-value indicators) and scaled;
categorical ones imputed with a constant and one-hot encoded (rare levels pooled). Logistic
regression and HistGradientBoosting are compared by stratified 5-fold CV ROC-AUC (boosting
must win by ``HGB_MARGIN`` to be chosen: regression is faster and explains itself exactly).
The winner is refitted on all rows and calibrated on its out-of-fold scores (isotonic with
enough rows, else sigmoid) — what ``CalibratedClassifierCV(ensemble=False)`` computes, minus
re-running the five CV fits (see bench/profile_cv.md for why that matters here).
Reported ROC-AUC, PR-AUC and lift come from the out-of-fold scores; Brier and the calibration
table from out-of-fold probabilities whose calibrator never saw that fold.
"""

from __future__ import annotations

import math
import os
import pickle
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import ThreadpoolController

from csm_tui.errors import CsmError

#: Fewest known outcomes, and fewest of each class, we train on.
MIN_OUTCOMES = 50
MIN_PER_CLASS = 10
N_FOLDS = 5
#: Boosting must beat logistic regression by this much CV ROC-AUC to be chosen.
HGB_MARGIN = 0.005
#: Isotonic calibration needs about 1,000 rows per calibration fold; below that, sigmoid.
ISOTONIC_MIN_ROWS = 5000
#: A text column whose distinct values exceed this share of its rows is an identifier or free
#: text: one-hot encoding it would add a column per row and teach the model nothing.
NEAR_UNIQUE_SHARE = 0.5
#: A text column is numeric when this share of its non-blank values parse as numbers.
NUMERIC_SHARE = 0.95
MAX_CATEGORIES = 30
SEED = 0
MODEL_FORMAT = 3  # bump whenever ChurnModel or its parts change shape

POSITIVE_LABELS = frozenset(
    "yes y true t 1 churned churn lost cancelled canceled left closed-lost positive".split()
)
NEGATIVE_LABELS = frozenset(
    "no n false f 0 renewed retained active stayed expanded downgraded kept negative".split()
)

ProgressFn = Callable[[int, int], None]


class ModelMismatch(CsmError):
    """The saved model does not fit the book's current features or this csm's libraries."""


class NotEnoughHistory(CsmError):
    """Too few known outcomes (or too few of one class) to train an honest model."""

    def __init__(self, positives: int, negatives: int, what: str = "renewal outcomes") -> None:
        super().__init__(history_status(positives, negatives, what) or "")
        self.positives = positives
        self.negatives = negatives


class BadLabel(CsmError):
    """The label column is missing or holds values we cannot read as churned / retained."""


def history_status(positives: int, negatives: int, what: str = "renewal outcomes") -> str | None:
    """The plain "not enough history" sentence, or None when there is enough to train."""
    total = positives + negatives
    if total >= MIN_OUTCOMES and min(positives, negatives) >= MIN_PER_CLASS:
        return None
    return (
        f"not enough history to train: {total} known {what} ({positives} churned, "
        f"{negatives} renewed); need at least {MIN_OUTCOMES} with {MIN_PER_CLASS} of each"
    )


def risk_segment(prob: float | None, high: float = 0.5, medium: float = 0.2) -> str | None:
    """Risk segment of a churn probability: "high" (≥ high), "medium" (≥ medium) or "low"."""
    if prob is None or (isinstance(prob, float) and math.isnan(prob)):
        return None
    return "high" if prob >= high else "medium" if prob >= medium else "low"


_threadpools: ThreadpoolController | None = None


def single_threaded():
    """Run OpenMP/BLAS on one thread inside the block.

    On this 2-core machine shared with other work, boosting's OpenMP threads spin at a barrier
    whenever one of them is descheduled: a 0.23 s fit took 14–22 s (bench/profile_cv.md).
    One thread per fit is never that slow, and folds are few and small enough to run in turn."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1)


# -- reports -------------------------------------------------------------------------------------
@dataclass
class CalibrationBin:
    """One bin of the calibration table: predicted vs observed churn rate."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@dataclass
class ModelReport:
    """The cross-validated quality of a churn model, fit to print or to dump as JSON."""

    n: int
    positives: int
    negatives: int
    positive_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    lift_top_decile: float
    estimator: str
    calibration_method: str
    calibration: list[CalibrationBin]
    candidates: dict[str, float]
    fit_seconds: dict[str, float]
    features: list[str]
    dropped_columns: dict[str, str] = field(default_factory=dict)
    folds: int = N_FOLDS
    trained_at: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (rounded for reading, not for recomputation)."""
        out = asdict(self)
        for key in ("positive_rate", "roc_auc", "pr_auc", "brier", "lift_top_decile"):
            out[key] = round(out[key], 4)
        out["candidates"] = {k: round(v, 4) for k, v in self.candidates.items()}
        out["fit_seconds"] = {k: round(v, 3) for k, v in self.fit_seconds.items()}
        return out


# -- reading a labelled table ----------------------------------------------------------------------
def parse_label(values: pd.Series, column: str) -> pd.Series:
    """Map label values (Yes/No, 1/0, True/False, churned/renewed, …) to 1 = churned, 0 = not."""
    text = values.astype("string").str.strip().str.lower()
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)  # "1.0" read from a float column
    blank = text.isna() | (text == "")
    if blank.any():
        rows = ", ".join(str(i) for i in _row_numbers(blank)[:10])
        raise BadLabel(
            f"label column {column!r} is empty in {int(blank.sum())} row(s) (rows {rows}); "
            "every row needs a known outcome."
        )
    known = text.isin(POSITIVE_LABELS | NEGATIVE_LABELS)
    if not known.all():
        counts = values[~known].astype(str).value_counts()
        shown = ", ".join(f"{v!r} ({c} rows)" for v, c in counts.head(8).items())
        raise BadLabel(
            f"label column {column!r} has values csm cannot read as churned or retained: "
            f"{shown}. Use Yes/No, 1/0, True/False or churned/renewed."
        )
    return text.isin(POSITIVE_LABELS).astype(np.int8).rename(column)


def _row_numbers(mask: pd.Series) -> list[int]:
    """1-based data row numbers (the header is row 1 in a CSV, so data starts at row 2)."""
    return [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]


@dataclass
class ColumnPlan:
    """How each column of a labelled table is used, and how its raw values are converted."""

    numeric: list[str]
    categorical: list[str]
    dropped: dict[str, str]
    convert: dict[str, str] = field(default_factory=dict)  # column -> one of CONVERSIONS


def prepare_features(df: pd.DataFrame) -> tuple[pd.DataFrame, ColumnPlan]:
    """Type each column: numeric (text that reads as numbers or ISO dates included) or
    categorical; drop constant and near-unique text columns. Returns the typed frame and plan."""
    out, plan = {}, ColumnPlan([], [], {})
    for name in df.columns:
        how = _conversion_for(df[name])
        col = convert_column(df[name], how)
        reason = _drop_reason(col, len(df))
        if reason:
            plan.dropped[str(name)] = reason
            continue
        out[name] = col
        plan.convert[name] = how
        (plan.categorical if how == "text" else plan.numeric).append(name)
    return pd.DataFrame(out, index=df.index), plan


def _conversion_for(col: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return "number"
    text = _as_text(col).dropna()
    if text.empty:
        return "text"
    if text.str.match(_ISO_DATE).mean() >= NUMERIC_SHARE:
        return "date"
    parsed = pd.to_numeric(text.str.replace(_NUMBER_NOISE, "", regex=True), errors="coerce")
    return "number_text" if parsed.notna().mean() >= NUMERIC_SHARE else "text"


def convert_column(col: pd.Series, how: str) -> pd.Series:
    """Raw values to model input: float64 for numbers, days since 1970 for dates, else text."""
    if how == "number":
        if col.dtype == np.float64:
            return col  # already model input (the feature frame's numeric columns)
        return pd.to_numeric(col, errors="coerce").astype("float64")
    if how == "number_text":
        text = _as_text(col).str.replace(_NUMBER_NOISE, "", regex=True)
        return pd.to_numeric(text, errors="coerce").astype("float64")
    if how == "date":
        stamp = pd.to_datetime(_as_text(col).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        return ((stamp - pd.Timestamp("1970-01-01")).dt.days).astype("float64")
    text = _as_text(col)
    return text.astype(object).where(text.notna(), np.nan)


_NUMBER_NOISE = re.compile(r"^[\s$€£]+|[\s%]+$|,(?=\d{3}\b)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]|$)")


#: Up to this many rows (an edit's rescore), text is cleaned in plain Python: pandas' string
#: machinery costs ~0.3 ms per column even for one value.
SMALL_FRAME = 64


def _clean_text(value) -> object:
    """One value as `convert_column(..., "text")` would give it (stripped; blank → NaN)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    text = str(value).strip()
    return text if text else np.nan


def _as_text(col: pd.Series) -> pd.Series:
    """Strip text; blanks become missing (Telco's TotalCharges holds " " for new customers)."""
    text = col.astype("string").str.strip()
    return text.mask(text == "")


def _drop_reason(col: pd.Series, n_rows: int) -> str | None:
    present = col.dropna()
    if present.empty:
        return "always empty"
    distinct = present.nunique()
    if distinct <= 1:
        return "the same value in every row"
    is_text = not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
    if is_text and distinct > max(MAX_CATEGORIES, NEAR_UNIQUE_SHARE * len(present)):
        return f"text with {distinct} distinct values in {n_rows} rows (an identifier or free text)"
    return None


# -- the pipeline ----------------------------------------------------------------------------------
def build_pipeline(kind: str, plan: ColumnPlan, n_rows: int) -> Pipeline:
    """Preprocessing plus one estimator ("logistic" or "boosting") over the planned columns."""
    rare = max(3, min(20, n_rows // 100))  # pool levels seen in under ~1 % of rows
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=rare,
                    max_categories=MAX_CATEGORIES,
                    sparse_output=False,  # boosting needs dense input; the width is capped
                ),
            ),
        ]
    )
    pre = ColumnTransformer(
        [("num", numeric, plan.numeric), ("cat", categorical, plan.categorical)],
        verbose_feature_names_out=False,
    )
    return Pipeline([("pre", pre), ("model", _estimator(kind, n_rows))])


def _estimator(kind: str, n_rows: int):
    if kind == "logistic":
        return LogisticRegression(C=1.0, max_iter=2000)
    if kind == "boosting":
        # Shallow, regularised trees; early stopping on the loss only with enough rows to hold
        # some out (a scorer-based early stop would re-score the training set every iteration).
        return HistGradientBoostingClassifier(
            learning_rate=0.08,
            max_iter=200,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=n_rows >= 2000,
            scoring="loss",
            validation_fraction=0.1,
            n_iter_no_change=10,
            random_state=SEED,
        )
    raise ValueError(f"unknown estimator kind {kind!r}")


def model_input(X: pd.DataFrame, plan: ColumnPlan) -> np.ndarray:
    """The typed features as one object array, numeric columns first, then categorical.

    The pipeline selects columns by position: scikit-learn's pandas handling costs more
    than the model itself when one account is scored after an edit (4.5 ms vs 2.4 ms)."""
    return X[plan.numeric + plan.categorical].to_numpy(dtype=object)


def positional(plan: ColumnPlan) -> ColumnPlan:
    """The plan with column positions in `model_input` order instead of names."""
    n = len(plan.numeric)
    return ColumnPlan(list(range(n)), list(range(n, n + len(plan.categorical))), plan.dropped)


CANDIDATES = ("logistic", "boosting")


@dataclass
class CrossFit:
    """The winner of the cross-validated comparison, with its fold models and scores."""

    kind: str
    fold_models: list[Pipeline]
    folds: list[np.ndarray]  # held-out row positions per fold
    oof_score: np.ndarray  # out-of-fold decision values of the winner
    candidates: dict[str, float]
    fit_seconds: dict[str, float]


def cross_fit(
    X: pd.DataFrame, y: np.ndarray, plan: ColumnPlan, progress: ProgressFn | None = None
) -> CrossFit:
    """Fit every candidate on the same stratified folds (sequentially: on 2 cores, parallel
    folds plus boosting's own threads only fight); keep the best by out-of-fold ROC-AUC."""
    splitter = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    folds = [test for _, test in splitter.split(X, y)]
    X, plan = model_input(X, plan), positional(plan)
    results, times = {}, {}
    step, total = 0, len(CANDIDATES) * N_FOLDS
    with single_threaded():
        for kind in CANDIDATES:
            started = time.perf_counter()
            models, scores = [], np.zeros(len(y))
            for test in folds:
                train = np.setdiff1d(np.arange(len(y)), test, assume_unique=True)
                model = build_pipeline(kind, plan, len(train)).fit(X[train], y[train])
                scores[test] = model.decision_function(X[test])
                models.append(model)
                step += 1
                if progress:
                    progress(step, total)
            times[kind] = time.perf_counter() - started
            results[kind] = (roc_auc_score(y, scores), models, scores)
    aucs = {kind: r[0] for kind, r in results.items()}
    best = "boosting" if aucs["boosting"] > aucs["logistic"] + HGB_MARGIN else "logistic"
    _, models, scores = results[best]
    return CrossFit(best, models, folds, scores, aucs, times)


def calibration_method(n_rows: int) -> str:
    """Isotonic calibration with enough rows to trust its steps, else sigmoid (Platt)."""
    return "isotonic" if n_rows >= ISOTONIC_MIN_ROWS else "sigmoid"


class ScoreCalibrator:
    """Maps a model's decision values to probabilities: isotonic, or sigmoid (Platt).

    Fit on out-of-fold scores, this is what `CalibratedClassifierCV(ensemble=False)` computes —
    without re-running the cross-validation fits we already have."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.model: IsotonicRegression | LogisticRegression | None = None

    def fit(self, score: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        """Learn the mapping from scores to observed churn."""
        if self.method == "isotonic":
            self.model = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
            self.model.fit(score, y)
        else:
            self.model = LogisticRegression(C=1e6).fit(score[:, None], y)
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        """Calibrated churn probability for each score.

        Evaluated from the fitted parameters directly (what the estimators' own predict
        computes, minus ~1 ms of input checks per call on the one-account path)."""
        score = np.asarray(score, dtype=np.float64)
        if isinstance(self.model, IsotonicRegression):  # piecewise linear, clipped at the ends
            return np.interp(score, self.model.X_thresholds_, self.model.y_thresholds_)
        logit = score * self.model.coef_[0, 0] + self.model.intercept_[0]
        return 1.0 / (1.0 + np.exp(-logit))


def _cross_calibrated(score: np.ndarray, y: np.ndarray, folds: list[np.ndarray], method: str):
    """Out-of-fold probabilities: each fold's scores mapped by a calibrator fit on the others."""
    prob = np.zeros(len(y))
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test, assume_unique=True)
        prob[test] = ScoreCalibrator(method).fit(score[train], y[train]).predict(score[test])
    return prob


def lift_top_decile(y: np.ndarray, score: np.ndarray) -> float:
    """Churn rate among the top 10 % by score divided by the overall churn rate."""
    top = max(1, math.ceil(0.1 * len(y)))
    order = np.argsort(-score, kind="stable")
    base = y.mean()
    return float(y[order[:top]].mean() / base) if base > 0 else 0.0


def calibration_table(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> list[CalibrationBin]:
    """Ten equal-width probability bins: count, mean predicted and observed churn rate."""
    index = np.minimum((prob * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        table.append(
            CalibrationBin(
                lower=b / bins,
                upper=(b + 1) / bins,
                count=count,
                mean_predicted=round(float(prob[mask].mean()), 4) if count else None,
                observed_rate=round(float(y[mask].mean()), 4) if count else None,
            )
        )
    return table


def _report(fit: CrossFit, y: np.ndarray, plan: ColumnPlan, method: str) -> ModelReport:
    started = time.perf_counter()
    prob = _cross_calibrated(fit.oof_score, y, fit.folds, method)
    seconds = dict(fit.fit_seconds, calibration=time.perf_counter() - started)
    positives = int(y.sum())
    return ModelReport(
        n=len(y),
        positives=positives,
        negatives=len(y) - positives,
        positive_rate=positives / len(y),
        roc_auc=float(roc_auc_score(y, fit.oof_score)),
        pr_auc=float(average_precision_score(y, fit.oof_score)),
        brier=float(brier_score_loss(y, prob)),
        lift_top_decile=lift_top_decile(y, fit.oof_score),
        estimator=fit.kind,
        calibration_method=method,
        calibration=calibration_table(y, prob),
        candidates=fit.candidates,
        fit_seconds=seconds,
        features=plan.numeric + plan.categorical,
        dropped_columns=plan.dropped,
    )


def _check_history(y: np.ndarray, what: str) -> None:
    positives = int(y.sum())
    if history_status(positives, len(y) - positives, what):
        raise NotEnoughHistory(positives, len(y) - positives, what)


def fit_report(
    df: pd.DataFrame, label: str, id_col: str | None = None, progress: ProgressFn | None = None
) -> ModelReport:
    """Cross-validated report of the churn pipeline on any labelled table.

    `label` names the outcome column (Yes/No, 1/0, churned/renewed…); `id_col`, if given, is
    dropped. Raises BadLabel / NotEnoughHistory with a message fit for the user."""
    if label not in df.columns:
        raise BadLabel(
            f"no column named {label!r}; the columns are: {', '.join(map(str, df.columns))}"
        )
    if id_col is not None and id_col not in df.columns:
        raise BadLabel(
            f"no id column named {id_col!r}; the columns are: {', '.join(map(str, df.columns))}"
        )
    y = parse_label(df[label], label).to_numpy()
    _check_history(y, "outcomes")
    X, plan = prepare_features(df.drop(columns=[c for c in (label, id_col) if c is not None]))
    if not plan.numeric and not plan.categorical:
        raise BadLabel("no usable feature columns beside the label and the id")
    if id_col is not None:
        plan.dropped[id_col] = "the id column"
    fit = cross_fit(X, y, plan, progress)
    return _report(fit, y, plan, calibration_method(len(y)))


# -- the trained model ---------------------------------------------------------------------------
# -- a few rows without scikit-learn's per-call overhead ---------------------------------------------
class FastPipeline:
    """The fitted preprocessing (+ boosting trees) evaluated with numpy for a few rows.

    After an edit one account is scored: scikit-learn's ColumnTransformer and tree predictors
    cost ~3 ms of input checks and per-tree calls for a 1-row input, numpy ~0.2 ms. Built from
    the fitted parameters and checked against the pipeline itself on probe rows; `build`
    returns None for any pipeline it cannot reproduce exactly (the caller then uses sklearn)."""

    def __init__(self, pre: ColumnTransformer, model) -> None:
        num_pipe, num_cols = pre.named_transformers_["num"], pre.transformers_[0][2]
        cat_pipe, cat_cols = pre.named_transformers_["cat"], pre.transformers_[1][2]
        imputer, scaler = num_pipe.named_steps["impute"], num_pipe.named_steps["scale"]
        self.num_cols, self.cat_cols = list(num_cols), list(cat_cols)
        self.fill = imputer.statistics_
        self.kept = ~np.isnan(self.fill)  # columns all-missing at fit time are dropped
        indicator = imputer.indicator_
        self.flagged = [] if indicator is None else list(indicator.features_)
        self.mean, self.scale = scaler.mean_, scaler.scale_
        self.levels, self.unknown, self.width = _one_hot_columns(cat_pipe, len(cat_cols))
        self.model = model
        self.trees = (
            _TreeTable(model) if isinstance(model, HistGradientBoostingClassifier) else None
        )

    @classmethod
    def build(cls, pipeline: Pipeline) -> FastPipeline | None:
        """Compile `pipeline`, or None when it is not the shape `build_pipeline` makes."""
        try:
            fast = cls(pipeline.named_steps["pre"], pipeline.named_steps["model"])
            probe = fast.probe_rows()
            with single_threaded(), sklearn.config_context(skip_parameter_validation=True):
                expected = pipeline.decision_function(probe)
            same = np.array_equal(fast.decision_function(probe), expected)
        except Exception:  # another sklearn's internals, another pipeline: use sklearn
            return None
        return fast if same else None

    def transform(self, X: np.ndarray) -> np.ndarray:
        """What the fitted ColumnTransformer outputs for `X` (`model_input` order)."""
        num = X[:, self.num_cols].astype(np.float64)
        missing = np.isnan(num)
        flags = missing[:, self.flagged].astype(np.float64)
        num = np.hstack([np.where(missing, self.fill, num)[:, self.kept], flags])
        num -= self.mean  # the scaler sees the imputed columns and the missing flags
        num /= self.scale
        hot = np.zeros((len(X), self.width))
        for j, col in enumerate(self.cat_cols):
            levels = self.levels[j]
            for i, value in enumerate(X[:, col].tolist()):
                missing = value is None or value is pd.NA or value != value
                key = "(missing)" if missing else value
                at = levels.get(key, self.unknown[j])
                if at is not None:
                    hot[i, at] = 1.0
        return np.hstack([num, hot])

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The final estimator's decision values for `X` (`model_input` order)."""
        design = self.transform(X)
        if self.trees is not None:
            return self.trees.raw(design)
        return self.model.decision_function(design)

    def probe_rows(self) -> np.ndarray:
        """Rows that visit every category, an unknown level, missing values and extremes."""
        n_rows = max([len(levels) for levels in self.levels] + [4]) + 2
        rng = np.random.default_rng(SEED)
        X = np.empty((n_rows, len(self.num_cols) + len(self.cat_cols)), dtype=object)
        centre, spread = np.full(len(self.num_cols), np.nan), np.ones(len(self.num_cols))
        n_kept = int(self.kept.sum())
        centre[self.kept], spread[self.kept] = self.mean[:n_kept], self.scale[:n_kept]
        values = centre + rng.normal(size=(n_rows, len(self.num_cols))) * 3 * spread
        values[0], values[1] = np.nan, 0.0
        X[:, self.num_cols] = values
        for j, col in enumerate(self.cat_cols):
            seen = [*self.levels[j], "\x00not a level", np.nan]
            X[:, col] = [seen[i % len(seen)] for i in range(n_rows)]
        return X


def _one_hot_columns(cat_pipe: Pipeline, n_features: int):
    """Per categorical feature: level -> output column, the column an unknown level takes
    (None: all zeros) and the total one-hot width, read off the fitted encoder itself."""
    encoder: OneHotEncoder = cat_pipe.named_steps["onehot"]
    starts = _block_starts(encoder, n_features)
    levels, unknown = [], []
    for j in range(n_features):
        probe = [*encoder.categories_[j], "\x00not a level"]
        rows = np.empty((len(probe), n_features), dtype=object)
        for k in range(n_features):
            rows[:, k] = encoder.categories_[k][0]
        rows[:, j] = probe
        block = encoder.transform(rows)[:, starts[j] : starts[j + 1]]
        cols = [int(np.argmax(r)) + starts[j] if r.any() else None for r in block]
        levels.append(dict(zip(probe[:-1], cols[:-1], strict=True)))
        unknown.append(cols[-1])
    return levels, unknown, starts[-1]


def _block_starts(encoder: OneHotEncoder, n_features: int) -> list[int]:
    """Where each feature's one-hot block starts in the encoder's output (and the end)."""
    names = encoder.get_feature_names_out([f"f{j}" for j in range(n_features)])
    counts = [sum(1 for n in names if n.startswith(f"f{j}_")) for j in range(n_features)]
    return [0, *np.cumsum(counts).tolist()]


class _TreeTable:
    """All trees of a fitted binary HistGradientBoostingClassifier as flat node arrays,
    walked for every (row, tree) pair at once; leaves summed in the estimator's order."""

    def __init__(self, model: HistGradientBoostingClassifier) -> None:
        if model.n_trees_per_iteration_ != 1:
            raise ValueError("multi-class boosting")
        nodes = [iteration[0].nodes for iteration in model._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("categorical splits")
        self.roots = np.cumsum([0] + [len(n) for n in nodes[:-1]])
        table = np.concatenate(nodes)
        shift = np.repeat(self.roots, [len(n) for n in nodes])
        self.feature = table["feature_idx"].astype(np.intp)
        self.threshold = table["num_threshold"]
        self.missing_left = table["missing_go_to_left"].astype(bool)
        self.left = table["left"].astype(np.intp) + shift
        self.right = table["right"].astype(np.intp) + shift
        self.leaf = table["is_leaf"].astype(bool)
        self.value = table["value"]
        self.baseline = float(model._baseline_prediction.ravel()[0])

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw decision values: baseline plus each tree's leaf, added tree by tree."""
        node = np.tile(self.roots, (len(X), 1))
        rows = np.arange(len(X))[:, None]
        while True:
            inner = ~self.leaf[node]
            if not inner.any():
                break
            x = X[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        leaves = np.column_stack([np.full(len(X), self.baseline), self.value[node]])
        return np.add.accumulate(leaves, axis=1)[:, -1]  # sequential, as sklearn adds them


#: Rows per pipeline call when scoring many accounts. Boosting walks every tree over every row:
#: over the whole 84k-row book the 44 MB design matrix is re-read from memory once per tree
#: (2.0 s CPU); in blocks that stay in cache, 0.5 s. Each row's score is unchanged.
PREDICT_CHUNK = 8192


class CalibratedModel:
    """The chosen pipeline refitted on every row, with a calibrator learnt from its
    out-of-fold scores. One pipeline to run per prediction (a few ms for one account)."""

    def __init__(self, pipeline: Pipeline, calibrator: ScoreCalibrator) -> None:
        self.pipeline = pipeline
        self.calibrator = calibrator

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (retained, churned) per row of `model_input` order."""
        if len(X) <= SMALL_FRAME:  # an edit's rescore or a drivers batch
            fast = self.fast_path()
            if fast is not None:
                churn = self.calibrator.predict(fast.decision_function(X))
                return np.column_stack([1 - churn, churn])
        # the features were validated when typed: skip sklearn's per-call checks (ms per call)
        with single_threaded(), sklearn.config_context(skip_parameter_validation=True):
            score = np.concatenate(
                [
                    self.pipeline.decision_function(X[start : start + PREDICT_CHUNK])
                    for start in range(0, len(X), PREDICT_CHUNK)
                ]
            )
            churn = self.calibrator.predict(score)
        return np.column_stack([1 - churn, churn])

    def fast_path(self) -> FastPipeline | None:
        """The pipeline compiled to numpy for a few rows (built once per loaded model);
        None when it cannot reproduce this pipeline exactly."""
        if not hasattr(self, "_fast"):
            self._fast = FastPipeline.build(self.pipeline)
        return self._fast

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_fast", None)  # derived from the pipeline; rebuilt after loading
        return state


def final_model(
    fit: CrossFit, X: pd.DataFrame, y: np.ndarray, plan: ColumnPlan, method: str
) -> CalibratedModel:
    """Refit the winner on all rows; calibrate it on the out-of-fold scores."""
    with single_threaded():
        pipeline = build_pipeline(fit.kind, positional(plan), len(y)).fit(model_input(X, plan), y)
    return CalibratedModel(pipeline, ScoreCalibrator(method).fit(fit.oof_score, y))


@dataclass
class Driver:
    """One reason behind an account's churn probability, in words."""

    feature: str
    label: str
    value: str
    typical: str
    points: float  # probability points added by this value vs a typical one

    def text(self) -> str:
        """E.g. "MAU trend (90 d): −35 % (typical +2 %) adds 12 pts"."""
        verb = "adds" if self.points >= 0 else "removes"
        return (
            f"{self.label}: {self.value} (typical {self.typical}) {verb} {abs(self.points):.0f} pts"
        )


@dataclass
class ChurnModel:
    """A trained, calibrated churn model with what it needs to check and explain itself."""

    estimator: CalibratedModel
    convert: dict[str, str]  # used feature -> how its raw values are converted (ColumnPlan)
    input_kinds: dict[str, str]  # every training column, used or dropped -> raw dtype kind
    typical: dict[str, object]  # median / most common value per feature (for drivers)
    metadata: dict

    @property
    def feature_types(self) -> dict[str, str]:
        """Used feature -> "numeric" | "categorical" (as the model sees it)."""
        return {c: "categorical" if how == "text" else "numeric" for c, how in self.convert.items()}

    def check_features(self, frame: pd.DataFrame) -> None:
        """Refuse a frame whose features differ from the training ones (names or types)."""
        # one dtype lookup for the frame: a column access costs ~10 µs, x 33 per edit
        current = {c: _kind_of(dtype) for c, dtype in zip(frame.columns, frame.dtypes, strict=True)}
        missing = sorted(set(self.input_kinds) - set(current))
        added = sorted(set(current) - set(self.input_kinds))
        retyped = sorted(
            c
            for c in set(current) & set(self.convert)
            if current[c] != self.input_kinds[c] and frame[c].notna().any()
        )
        if missing or added or retyped:
            parts = [
                f"{label}: {', '.join(cols[:6])}"
                for label, cols in (("missing", missing), ("new", added), ("changed type", retyped))
                if cols
            ]
            raise ModelMismatch(
                "the churn model was trained on other features than the book has now ("
                + "; ".join(parts)
                + "). Run `csm model train` to retrain it."
            )

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probability per row of `frame` (a `feature_frame`), as a numpy array."""
        self.check_features(frame)
        if frame.empty:
            return np.zeros(0)
        return self.estimator.predict_proba(self._typed(frame))[:, 1]

    def _typed(self, frame: pd.DataFrame) -> np.ndarray:
        """`frame` as model input (`model_input` order: `convert` lists numeric first)."""
        out = np.empty((len(frame), len(self.convert)), dtype=object)
        dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))
        ready = [  # float columns need no conversion: copy them as one block
            i
            for i, (name, how) in enumerate(self.convert.items())
            if how == "number" and dtypes[name] == np.float64
        ]
        names = list(self.convert)
        out[:, ready] = frame[[names[i] for i in ready]].to_numpy(dtype=np.float64)
        rest = [i for i in range(len(names)) if i not in set(ready)]
        if len(frame) <= SMALL_FRAME and all(self.convert[names[i]] == "text" for i in rest):
            raw = frame[[names[i] for i in rest]].to_numpy(dtype=object)
            out[:, rest] = np.frompyfunc(_clean_text, 1, 1)(raw) if rest else raw
            return out
        for i in rest:
            out[:, i] = convert_column(frame[names[i]], self.convert[names[i]]).to_numpy(object)
        return out

    def drivers(self, frame_row: pd.DataFrame | pd.Series, k: int = 3) -> list[Driver]:
        """The k features that raise this account's probability most versus a typical value.

        Each feature in turn is set to its typical value (median / most common); the drop in
        probability is its contribution. One batched predict of (features + 1) rows."""
        if isinstance(frame_row, pd.Series):
            row = frame_row.to_frame().T.infer_objects()
        else:
            row = frame_row.iloc[:1]
        self.check_features(row)
        names = list(self.convert)
        batch = np.repeat(self._typed(row), len(names) + 1, axis=0)
        for i, name in enumerate(names):
            batch[i + 1, i] = self.typical.get(name)  # typical values are already converted
        prob = self.estimator.predict_proba(batch)[:, 1]
        effect = (prob[0] - prob[1:]) * 100
        order = np.argsort(-effect, kind="stable")
        return [
            self._driver(names[i], row[names[i]].iloc[0], float(effect[i]))
            for i in order[:k]
            if effect[i] > 0.5
        ]

    def _driver(self, name: str, value, points: float) -> Driver:
        if self.metadata.get("kind") == "book":
            from csm_tui.scoring.churn_features import describe_value, feature_label

            return Driver(
                name,
                feature_label(name),
                describe_value(name, value),
                describe_value(name, self.typical.get(name)),
                points,
            )
        return Driver(name, name, _show(value), _show(self.typical.get(name)), points)

    @property
    def custom_schema(self) -> dict[str, str]:
        """The custom attributes the model was trained on (pass to `feature_frame(custom=…)`)."""
        return dict(self.metadata.get("custom", {}))


def _kind_of(col) -> str:
    """The kind ("numeric" or "categorical") of a column or a dtype."""
    numeric = pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
    return "numeric" if numeric else "categorical"


def _show(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def typical_values(X: pd.DataFrame, plan: ColumnPlan) -> dict[str, object]:
    """Median of each numeric feature and most common level of each categorical one."""
    typical: dict[str, object] = {c: float(X[c].median()) for c in plan.numeric}
    for c in plan.categorical:
        mode = X[c].dropna().mode()
        typical[c] = mode.iloc[0] if not mode.empty else None
    return typical


# -- persistence ---------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    """Versions that must match for a saved model to load safely."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }


def _compatible(saved: dict[str, str]) -> list[str]:
    """Names of libraries whose saved version differs in a way pickles do not survive."""
    current = library_versions()
    depth = {"python": 2, "sklearn": 2, "pandas": 1, "numpy": 1}  # major(.minor) must match
    return [
        f"{lib} {saved.get(lib)} (now {current[lib]})"
        for lib, parts in depth.items()
        if str(saved.get(lib, "")).split(".")[:parts] != current[lib].split(".")[:parts]
    ]


def save_model(model: ChurnModel, path: Path) -> None:
    """Write metadata then the model to `path` (0600), atomically via a temp file + rename."""
    from csm_tui.paths import ensure_private_dir

    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model.metadata, fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_metadata(path: Path) -> dict | None:
    """The saved model's metadata (without unpickling the model), or None if there is none."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            meta = pickle.load(fh)
    except Exception:
        raise ModelMismatch(
            f"{path}: the saved churn model cannot be read. Run `csm model train` to retrain it."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelMismatch(
            f"{path}: the saved churn model is from another csm version. "
            "Run `csm model train` to retrain it."
        )
    return meta


def load_model(path: Path) -> ChurnModel | None:
    """The model saved at `path`, or None if none was trained. Raises ModelMismatch when it
    was saved by incompatible library versions or cannot be read."""
    meta = read_metadata(path)
    if meta is None:
        return None
    changed = _compatible(meta.get("versions", {}))
    if changed:
        raise ModelMismatch(
            f"the churn model was saved with other library versions ({', '.join(changed)}). "
            "Run `csm model train` to retrain it."
        )
    try:
        with path.open("rb") as fh:
            pickle.load(fh)
            model = pickle.load(fh)
    except Exception:
        raise ModelMismatch(
            f"{path}: the saved churn model cannot be read. Run `csm model train` to retrain it."
        ) from None
    if not isinstance(model, ChurnModel):
        raise ModelMismatch(f"{path}: not a csm churn model. Run `csm model train` to retrain it.")
    return model


def fit_model(
    X: pd.DataFrame, y: np.ndarray, progress: ProgressFn | None = None, what: str = "outcomes"
) -> tuple[ChurnModel, ModelReport]:
    """Cross-validate, calibrate and package a model on a feature frame with known labels."""
    _check_history(y, what)
    input_kinds = {str(c): _kind_of(X[c]) for c in X.columns}
    X, plan = prepare_features(X)
    fit = cross_fit(X, y, plan, progress)
    method = calibration_method(len(y))
    report = _report(fit, y, plan, method)
    started = time.perf_counter()
    final = final_model(fit, X, y, plan, method)
    report.fit_seconds["final_fit"] = time.perf_counter() - started
    types = {c: "numeric" for c in plan.numeric} | {c: "categorical" for c in plan.categorical}
    meta = {
        "format": MODEL_FORMAT,
        "rows": len(y),
        "features": types,
        "dropped": plan.dropped,
        "metrics": report.to_dict(),
        "versions": library_versions(),
        "python_executable": sys.executable,
    }
    ordered = {c: plan.convert[c] for c in plan.numeric + plan.categorical}
    return ChurnModel(final, ordered, input_kinds, typical_values(X, plan), meta), report


def train_book_model(book, progress: ProgressFn | None = None) -> ModelReport:
    """Train on the book's past renewal outcomes, save the model beside the book, return its
    CV report. Raises NotEnoughHistory (a plain status sentence) when history is too thin."""
    from csm_tui.clock import now_iso
    from csm_tui.paths import model_path_for
    from csm_tui.scoring.churn_features import training_frame

    with book.read() as conn:
        data = training_frame(conn)
    model, report = fit_model(data.X, data.y, progress, what="renewal outcomes")
    report.trained_at = now_iso()
    model.metadata.update(
        kind="book", trained_at=report.trained_at, custom=data.custom, metrics=report.to_dict()
    )
    save_model(model, model_path_for(Path(book.path)))
    return report
