"""The backtest: fit a law on the smaller models, predict the larger ones, and score the predictions.

For every series (task x scope), every split (see :mod:`.windows`) and every form, the law is fitted with
:func:`scalecheck.laws.fit_series` on the split's fit set and asked for a point prediction and a prediction
interval at each held-out model. Errors are measured against what the held-out model actually scored.

A "form" may be a registered form's name, a :class:`~scalecheck.laws.Form` object, or a fitting function
``fit_fn(train: Series) -> Predictor`` (OLMo-core's rollout takes its fitter the same way): anything with
``predict(x)``, and ``interval(x, level=, kind="prediction")``, ``usable`` and ``reason`` where it has them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError
from ..laws import Form, LawFit, Predictor, fit_many, get_form, law_x
from ..laws.groups import GROUPINGS, GroupLawFit, fit_grouped
from ..laws.prediction import (
    DEFAULT,
    NO_ADAPTATION,
    Adaptation,
    PredictionModel,
    adapt,
    interval_score,
    terms,
)
from ..laws.prediction import distance as prediction_distance
from ..laws.reliability import estimated_skill, reading_of
from ..laws.result import excursion_reason
from ..laws.select import DEFAULT_CANDIDATES, CombinedFit, NoChangeFit, fit_selected
from ..observations import Selection, Series, Testbed
from ..progress import Progress, report
from ..tables import ReportFiles, write_tables
from .windows import SCHEMES, Split, holdout_models, splits

log = logging.getLogger(__name__)  # decisions made silently: tasks left out

# What a backtest can be asked to fit: a registered form's name, a Form, or fit_fn(train series) -> Predictor.
FormLike = str | Form | Callable[[Series], Predictor]

# Columns of Backtest.frame(), one row per (series, split, form, held-out model).
PREDICTION_COLUMNS = [
    "task", "metric", "scope", "x_name", "form", "scheme", "k_sizes_fit", "n_fit", "model", "params", "tokens",
    "x", "actual", "noise_sd", "predicted", "lo", "hi", "abs_error", "rel_error", "signed_error", "covered",
    "interval_width", "interval_score", "level_to_cover", "distance", "verdict", "units", "usable", "reason",
    "grouping", "fitted_form", "estimated_skill", "reliability", "spread_multiplier", "n_inner_rows", "n_inner_tasks",
]

# The form the adaptation's inner backtests fit where the backtest chooses forms ("auto"): the one the prediction
# model's numbers were calibrated on (benchmarks/interval_calibration.py).
ADAPT_FORM = "exponential"

# The form name that asks for each task's form to be chosen by an inner backtest on its fit set
# (scalecheck.laws.select) among DEFAULT_CANDIDATES.
AUTO_FORM = "auto"

# Levels of the calibration curve: the share of truths inside the central interval at each.
CALIBRATION_LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# Extrapolation distance bins (in units of the fitted x range; 0 = inside it).
DISTANCE_BINS = (0.0, 1e-9, 0.25, 0.5, 1.0, 2.0, np.inf)

# Splits fitted per call of the laws engine (bounds memory: each carries n_boot replicates).
_CHUNK = 16

# Summary statistics per group of predictions.
SUMMARY_COLUMNS = ["n_predictions", "n_unusable", "mae", "median_ae", "max_ae", "bias", "mean_rel_error",
                   "coverage", "mean_interval_width", "interval_score"]


def units_of(series: Series) -> tuple[float, str]:
    """Errors of accuracy-like metrics are reported in points (x100); others in the metric's own units."""
    if series.higher_is_better and series.metric_is_proportion:
        return 100.0, "points"
    return 1.0, series.metric


def _scope_label(series: Series) -> str:
    return series.scope_label


def group_column(testbed: Testbed) -> str:
    """The model column whose values may follow different laws in a pooled series: the corpus where the testbed
    has several, else the family (Sloth's 22 families share no corpus column), else the corpus."""
    for col in ("corpus", "family"):
        if col in testbed.models.columns and testbed.models[col].dropna().nunique() > 1:
            return col
    return "corpus"


def testbed_series(testbed: Testbed, x: str | None = None, *, by: str | None = None,
                   tasks: Sequence[str] | None = None, metric: str | None = None, shots: int | None = None,
                   variant: str | None = None, where: dict | None = None) -> list[Series]:
    """Every task's series against ``x`` (pooled, or one per value of the model column ``by``).

    Tasks that lack the requested metric or setting are left out; asking for none that exist is an error.
    """
    x = x or testbed.default_x()
    out: list[Series] = []
    skipped: list[str] = []
    for task in tasks or testbed.task_names:
        try:
            if by is None:
                out.append(testbed.series(task, x, metric=metric, shots=shots, variant=variant, where=where,
                                          group_by=group_column(testbed)))
            else:
                if by not in testbed.models.columns:
                    raise SelectionError(f"cannot split by {by!r}: not a model column")
                models = testbed.models if not where else testbed.select(**where).models
                for value in sorted(models[by].dropna().unique().tolist()):
                    scope = {**(where or {}), by: value}
                    out.append(testbed.series(task, x, metric=metric, shots=shots, variant=variant, where=scope,
                                              group_by=by))
        except SelectionError:
            if tasks is not None and (metric is None and shots is None and variant is None):
                raise  # a task the user named explicitly and that does not exist
            skipped.append(task)
    out = [s for s in out if len(s)]
    if skipped:
        log.info("left out %d task(s) without the requested metric or setting: %s", len(skipped), ", ".join(skipped))
    if not out:
        raise SelectionError(f"no series to backtest (x={x!r}, metric={metric!r}, shots={shots}, "
                             f"variant={variant!r}; skipped {len(skipped)} tasks)")
    return out


def _prediction_rows(series: Series, split: Split, form: str, law, level: float, model=None,
                     verdict: str = "", adaptation: Adaptation = NO_ADAPTATION) -> list[dict]:
    """Score ``law`` (fitted on ``split.train``) on the held-out points of ``split`` (``model``: the prediction
    model, adapted to the testbed as ``adaptation`` says)."""
    test = series.subset(split.test)
    scale, units = units_of(series)
    grouping = law.mode if isinstance(law, (GroupLawFit, NoChangeFit, CombinedFit)) else "pooled"
    fitted_form = law.form if isinstance(law, (GroupLawFit, NoChangeFit, CombinedFit)) else form
    base = {"grouping": grouping, "fitted_form": fitted_form, "verdict": verdict, "task": series.task,
            "metric": series.metric, "scope": _scope_label(series), "x_name": series.x_name,
            "form": form, "scheme": split.scheme, "k_sizes_fit": split.k_sizes_fit, "n_fit": split.n_train,
            "units": units, **adaptation.to_dict()}
    usable = bool(getattr(law, "usable", True))
    rows = None
    if usable and isinstance(law, (NoChangeFit, CombinedFit)):
        predicted, lo, hi, distance, need, reasons = _selected_predictions(series, test, law, level, model)
        rows = predicted, lo, hi
    elif usable:
        predicted, lo, hi, distance, need, reasons = _law_predictions(series, split, test, law, level, model)
    else:
        predicted = lo = hi = distance = need = np.full(len(test), np.nan)
        reasons = [str(getattr(law, "reason", ""))] * len(test)
    # The fit set's own evidence on this forecast, before the target (scalecheck.laws.reliability).
    skill = estimated_skill(law, test, level, model, rows=rows)
    base.update({"estimated_skill": skill, "reliability": reading_of(law, skill)})
    return _scored_rows(base, test, scale, level, (predicted, lo, hi, distance, need),
                        [usable and not r for r in reasons], reasons)


def _selected_predictions(series: Series, test: Series, law, level: float, model=None):
    """No change (each group's level at its largest fitted size), or the median of the forecasts that passed the
    fit set's inner backtest (scalecheck.laws.select)."""
    r = law.prediction_rows(test, level, model)
    predicted, lo, hi, distance, need = (r[k] for k in ("predicted", "lo", "hi", "distance", "level_to_cover"))
    if series.metric_is_proportion:
        predicted, lo, hi = (np.clip(v, 0.0, 1.0) for v in (predicted, lo, hi))
    return predicted, lo, hi, distance, need, [""] * len(test)


def _law_predictions(series: Series, split: Split, test: Series, law, level: float, model=None):
    """A usable law's point, interval, distance and level-to-cover at the held-out points, with the reason a
    prediction is set aside (empty where it is kept)."""
    actual = test.y
    distance = need = np.full(len(test), np.nan)
    xt = _law_x(test, law)
    curve = np.asarray(law.predict(xt), float).reshape(len(test)) if not isinstance(law, GroupLawFit) else None
    predicted = curve
    # The law's prediction interval holds what a held-out model's measured score carries beyond the curve:
    # sampling noise, model-to-model scatter and the extrapolation term (scalecheck.laws.prediction).
    if isinstance(law, GroupLawFit):
        # Each point from its own group's law and shift (scalecheck.laws.groups).
        r = law.prediction_rows(test, level, model)
        predicted, lo, hi, distance, need, curve = (r[k] for k in ("predicted", "lo", "hi", "distance",
                                                                   "level_to_cover", "curve"))
    elif isinstance(law, LawFit):
        lo, hi = (np.asarray(v, float).reshape(len(test))
                  for v in law.interval(xt, level=level, kind="prediction", model=model))
        pm = model or DEFAULT
        # The point forecast is the predictive distribution's median, so every interval holds it.
        predicted = np.asarray(law.quantile(xt, 0.5, model=model), float).reshape(len(test))
        distance = prediction_distance(law, xt)
        # The smallest central level whose interval holds the truth: coverage at any level L is the share
        # of rows with level_to_cover <= L (the calibration curve).
        need = pm.level_to_cover(law, xt, actual)
    elif hasattr(law, "interval"):
        lo, hi = (np.asarray(v, float).reshape(len(test)) for v in law.interval(xt, level=level,
                                                                                  kind="prediction"))
    else:  # a predictor without intervals: errors are scored, coverage is not
        lo = hi = np.full(len(test), np.nan)
    # A prediction far outside what the law was fitted on is an ill-posed fit, not a forecast (MAX_EXCURSION).
    y_fit = series.subset(split.train).y
    reasons = [excursion_reason(p, y_fit) for p in curve]  # the law's own curve, not the damped median
    wild = np.array([bool(r) for r in reasons])
    if wild.any():
        predicted, lo, hi, distance, need = (np.where(wild, np.nan, np.asarray(v, float))
                                             for v in (predicted, lo, hi, distance, need))
    if series.metric_is_proportion:
        # A proportion cannot leave [0, 1]: a law past it is clipped, and an interval past it says only
        # that the law cannot tell.
        predicted, lo, hi = (np.clip(v, 0.0, 1.0) for v in (predicted, lo, hi))
    return predicted, lo, hi, distance, need, reasons


def _scored_rows(base: dict, test: Series, scale: float, level: float, values, row_usable: list[bool],
                 reasons: list[str]) -> list[dict]:
    """One row per held-out point: the prediction against what the model scored, in the row's units."""
    predicted, lo, hi, distance, need = values
    actual, noise = test.y, test.noise_sd
    score = interval_score(lo, hi, actual, level) * scale
    rows = []
    for i in range(len(test)):
        err = predicted[i] - actual[i]
        rows.append({
            **base, "model": test.models[i], "params": test.params[i], "tokens": test.tokens[i], "x": test.x[i],
            "actual": actual[i], "noise_sd": noise[i], "predicted": predicted[i], "lo": lo[i], "hi": hi[i],
            "abs_error": abs(err) * scale, "rel_error": abs(err) / abs(actual[i]) if actual[i] != 0 else np.nan,
            "signed_error": err * scale,
            "covered": bool(lo[i] <= actual[i] <= hi[i]) if np.isfinite(lo[i]) else pd.NA,
            "interval_width": (hi[i] - lo[i]) * scale, "interval_score": score[i], "level_to_cover": need[i],
            "distance": distance[i], "usable": row_usable[i], "reason": reasons[i],
        })
    return rows


def _auto_laws(trains: list[Series], groups: str, **kw) -> list:
    """The ``auto`` strategy: every fit set gets the forecast its inner backtest supports
    (:func:`scalecheck.laws.select.fit_selected`: the candidate laws that passed it and no change, weighted by
    their inner errors)."""
    return fit_selected(trains, DEFAULT_CANDIDATES, groups, **kw)


def _verdict(series: Series) -> str:
    from ..trends import classify

    return classify(series).category


def _law_x(series: Series, law) -> np.ndarray:
    """What a law takes as x: a fitted law's form says (:func:`scalecheck.laws.law_x`, the same x it was fitted
    on: ln of a scale axis, the loss, raw x for power laws, (N, D) pairs for Chinchilla); another predictor says
    through its own ``x_dim`` and takes the series' own x."""
    if isinstance(law, GroupLawFit):
        law = law.law
    form = getattr(law, "law", None)
    if isinstance(form, Form):
        return law_x(series, form)
    if getattr(law, "x_dim", 1) == 2:
        return np.column_stack([series.params, series.tokens])
    return series.x


def summarise(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Error, bias and coverage per group (e.g. per task and form) of a prediction frame."""
    rows = []
    for key, g in frame.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        ok = g[g["usable"].astype(bool)]
        covered = ok["covered"].dropna().astype(bool)
        rows.append({
            **dict(zip(by, key, strict=True)),
            "n_predictions": len(g), "n_unusable": int((~g["usable"].astype(bool)).sum()),
            "mae": ok["abs_error"].mean() if len(ok) else np.nan,
            "median_ae": ok["abs_error"].median() if len(ok) else np.nan,
            "max_ae": ok["abs_error"].max() if len(ok) else np.nan,
            "bias": ok["signed_error"].mean() if len(ok) else np.nan,
            "mean_rel_error": ok["rel_error"].mean() if len(ok) else np.nan,
            "coverage": covered.mean() if len(covered) else np.nan,
            "mean_interval_width": ok["interval_width"].mean() if len(ok) else np.nan,
            "interval_score": ok["interval_score"].mean() if len(ok) else np.nan,
        })
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


@dataclass(frozen=True)
class BacktestOptions:
    """How a backtest fits and scores: every knob of :meth:`Backtest.fit` but what is analysed (a
    :class:`~scalecheck.observations.Selection`), in one place (as scikit-learn keeps an estimator's parameters).

    ``forms``: "auto" (the default: each task's form chosen by an inner backtest on its fit set,
    :mod:`scalecheck.laws.select`), names of registered forms, :class:`~scalecheck.laws.Form` objects, or fitting
    functions ``fit_fn(train: Series) -> Predictor`` (see the module doc), alone or in a sequence; results label
    each by its name (a function by its ``__name__``).

    ``scheme``: "expanding" (fit on the k smallest sizes, predict the rest, for every k), "leave_largest_out", or
    "holdout" (fit on the models not declared hold-out, predict those). ``holdout`` declares the targets instead
    of the testbed's ``holdout`` column: a ladder file (YAML, its ``holdout: true`` models) or model ids.
    ``level`` is the prediction interval's coverage. ``min_train``: fit points a split needs (default: one
    beyond the form's parameters, at least 3).

    ``n_boot``: 0 gives delta-method prediction intervals (the default: on simulated lawful tasks they cover at
    about the nominal rate, where a cluster bootstrap over a handful of model sizes is far wider); more draws a
    bootstrap of that many replicates per fit, from ``seed``.

    ``prediction_model``: a :class:`scalecheck.laws.prediction.PredictionModel` (default: the calibrated one) for
    the intervals. Each row also carries the interval score (Gneiting and Raftery: width plus 2/alpha times the
    miss, in the row's units), the smallest level whose interval holds the truth (``level_to_cover``, for the
    calibration curve) and the extrapolation distance (in units of the fitted x range).

    ``adapt``: adapt the prediction model to the testbed before any target is seen
    (:func:`scalecheck.laws.prediction.adapt`; the default): for each split, inner backtests on the fit sets of every series in
    the backtest (fit on fewer sizes of the fit set, predict its larger ones; the form backtested, or the
    exponential law where forms are chosen), pooled, say whether the prediction model's intervals are too narrow
    on this testbed; if so every interval is widened about its median (never narrowed; the median, the point
    forecast, does not move). Splits are adapted on what was known when they were made: under "expanding", the
    k-sizes split on the k smallest sizes of every series. Each row carries the ``spread_multiplier`` applied and
    the inner rows and tasks it rests on (0 rows: the prior unchanged, as on the first split). A fitting
    function's rows, and a prediction model other than a :class:`~scalecheck.laws.prediction.PredictionModel`,
    are never adapted.

    ``verdicts``: label each row with the reality check's verdict on the whole series
    (:func:`scalecheck.trends.classify`), so coverage can be read per verdict (it sees the held-out models too: a
    label for reading results, not a forecast).

    ``groups``: how a pooled series whose models come from several corpora (or families) is fitted
    (:mod:`scalecheck.laws.groups`): "auto" (the default) chooses between one law for all ("pooled"), one
    shape with per-group offsets ("offsets") and one law per group ("separate"): with ``form`` "auto" for each form
    by its inner backtest (:mod:`scalecheck.laws.select`), otherwise by BIC on the fit set; each row's ``grouping``
    says which was used.

    Checked when made: an unknown form, scheme or grouping, or a level outside (0, 1), is a one-line
    :class:`~scalecheck.errors.SelectionError`.
    """

    forms: FormLike | tuple[FormLike, ...] = (AUTO_FORM,)
    scheme: str = "expanding"
    level: float = 0.9
    holdout: str | Path | Iterable[str] | None = None
    n_boot: int = 0
    seed: int = 0
    min_train: int | None = None
    prediction_model: PredictionModel | None = None
    verdicts: bool = True
    groups: str = "auto"
    adapt: bool = True

    def __post_init__(self) -> None:
        forms = self.forms
        one = isinstance(forms, (str, Form)) or callable(forms)
        object.__setattr__(self, "forms", (forms,) if one else tuple(forms))
        _strategies(self.forms)  # an unknown or duplicated form fails here, before any work
        if self.scheme not in SCHEMES:
            raise SelectionError(f"unknown backtest scheme {self.scheme!r}; choose one of: {', '.join(SCHEMES)}")
        if not 0 < self.level < 1:
            raise SelectionError(f"level must be between 0 and 1, got {self.level}")
        if self.groups not in GROUPINGS:
            raise SelectionError(f"unknown grouping {self.groups!r}; choose one of: {', '.join(GROUPINGS)}")


@dataclass(frozen=True)
class Backtest:
    """Predictions of held-out models by laws fitted on smaller ones, with their errors and coverage.

    Build one with :meth:`fit` (or :func:`backtest`). :meth:`frame` has one row per prediction;
    :meth:`summary` one row per task, scope and form; :meth:`to_dict` and :meth:`write` as every analysis result.
    """

    predictions: pd.DataFrame
    forms: tuple[str, ...]
    scheme: str
    x: str
    level: float
    by: str | None = None
    settings: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, data: Testbed | Series | Iterable[Series], selection: Selection | None = None,
            options: BacktestOptions | None = None, *, progress: Progress | None = None) -> Backtest:
        """Backtest on every series of ``data`` that ``selection`` picks, as ``options`` say.

        ``selection`` (a :class:`~scalecheck.observations.Selection`; default: every task against the testbed's
        :meth:`~scalecheck.observations.Testbed.default_x`, pooled, each run's final checkpoint) applies to a
        testbed; series given directly are backtested as they are. ``options``: a :class:`BacktestOptions`
        (default: its defaults). ``progress`` is called as ``progress(done, total, what)`` after each series (see
        :mod:`scalecheck.progress`). :func:`backtest` takes the same choices as keyword shortcuts.
        """
        opts = options if options is not None else BacktestOptions()
        strategies = _strategies(opts.forms)
        series_list, x, by = _series_to_backtest(data, selection if selection is not None else Selection())
        declared = _declared_holdouts(opts.holdout, series_list)
        verdict_of = {id(s): _verdict(s) for s in series_list} if opts.verdicts else {}
        rows: list[dict] = []
        total = len(strategies) * len(series_list)
        report(progress, 0, total, "backtest")
        for i, (form, strategy) in enumerate(strategies):
            rows.extend(_form_rows(form, strategy, series_list, declared, opts, verdict_of,
                                   _Ticker(progress, i * len(series_list), total, form)))
        frame = pd.DataFrame(rows, columns=PREDICTION_COLUMNS)
        return cls(frame, tuple(label for label, _ in strategies), opts.scheme, x, opts.level, by,
                   {"n_boot": opts.n_boot, "seed": opts.seed, "n_series": len(series_list), "groups": opts.groups,
                    "holdout": None if opts.holdout is None else str(opts.holdout)})

    def frame(self) -> pd.DataFrame:
        return self.predictions.copy()

    def summary(self, by: Sequence[str] = ("task", "scope", "form")) -> pd.DataFrame:
        """Per task, scope and form: MAE, median and max error, bias (mean signed error), coverage."""
        return summarise(self.predictions, by)

    def by_form(self) -> pd.DataFrame:
        """One row per form over every task: which law extrapolates best on this testbed."""
        return summarise(self.predictions, ["form"])

    def by_k(self) -> pd.DataFrame:
        """Per form and number of sizes fitted: how error falls as the fit set grows."""
        return summarise(self.predictions, ["form", "k_sizes_fit"])

    def calibration(self, by: Sequence[str] = ("form",), levels: Sequence[float] = CALIBRATION_LEVELS
                    ) -> pd.DataFrame:
        """Coverage against nominal level: one row per group and level (50-95%), the share of truths inside
        that level's central prediction interval. A calibrated interval lies on the diagonal."""
        return calibration(self.predictions, by, levels)

    def by_verdict(self) -> pd.DataFrame:
        """Per form and reality-check verdict: do the tasks called predictable extrapolate, and do their
        intervals hold?"""
        return summarise(self.predictions, ["form", "verdict"])

    def by_distance(self, by: Sequence[str] = ("form",)) -> pd.DataFrame:
        """Error, coverage and interval score per extrapolation distance (units of the fitted x range)."""
        f = self.predictions.assign(distance_bin=distance_bins(self.predictions["distance"]))
        return summarise(f, [*by, "distance_bin"])

    def to_dict(self) -> dict:
        overall = self.by_form()
        return {"scheme": self.scheme, "x": self.x, "by": self.by, "level": self.level, "forms": list(self.forms),
                "settings": self.settings, "n_predictions": len(self.predictions),
                "by_form": overall.to_dict("records"),
                "calibration": self.calibration().to_dict("records")}

    def write(self, out_dir: str | Path) -> ReportFiles:
        """``backtest.csv`` (:meth:`frame`) and ``backtest_summary.csv`` (:meth:`summary`) in ``out_dir``."""
        return write_tables(out_dir, {"predictions": ("backtest.csv", self.frame()),
                                      "summary": ("backtest_summary.csv", self.summary())})


def distance_bins(distance: pd.Series) -> pd.Series:
    """Labels of :data:`DISTANCE_BINS`: "inside" the fitted range, then "0-0.25", ... ranges travelled."""
    labels = ["inside", "0-0.25", "0.25-0.5", "0.5-1", "1-2", ">2"]
    d = pd.to_numeric(distance, errors="coerce").astype(float)
    return pd.Series(pd.cut(d, list(DISTANCE_BINS), labels=labels, include_lowest=True, right=True),
                     index=distance.index).astype(str)


def calibration(frame: pd.DataFrame, by: Sequence[str] = ("form",),
                levels: Sequence[float] = CALIBRATION_LEVELS) -> pd.DataFrame:
    """Coverage at each nominal level from ``level_to_cover`` (see :meth:`Backtest.calibration`)."""
    ok = frame[frame["usable"].astype(bool) & frame["level_to_cover"].notna()]
    rows = []
    groups = ok.groupby(list(by), sort=True, dropna=False) if by else [((), ok)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        need = g["level_to_cover"].astype(float).to_numpy()
        for level in levels:
            rows.append({**dict(zip(by, key, strict=True)), "level": level, "n": len(need),
                         "coverage": float(np.mean(need <= level)) if len(need) else np.nan})
    return pd.DataFrame(rows, columns=[*by, "level", "n", "coverage"])


def backtest(data: Testbed | Series | Iterable[Series], forms: FormLike | Sequence[FormLike] | None = None,
             x: str | None = None, by: str | None = None, scheme: str | None = None, level: float | None = None, *,
             selection: Selection | None = None, options: BacktestOptions | None = None,
             tasks: Sequence[str] | None = None, metric: str | None = None, shots: int | None = None,
             variant: str | None = None, checkpoints: str | None = None, progress: Progress | None = None,
             **option_fields) -> Backtest:
    """Fit on smaller scales, predict larger ones: :meth:`Backtest.fit` with keyword shortcuts.

    What is analysed: a ``selection`` (:class:`~scalecheck.observations.Selection`), or its fields as keywords
    (``x``, ``by``, ``tasks``, ``metric``, ``shots``, ``variant``, ``checkpoints``: "final", the default, keeps
    each training run's last checkpoint, "all" every one); keywords given beside a selection override its fields.
    How: ``options`` (:class:`BacktestOptions`), or its fields as keywords (``forms``, ``scheme``, ``level``,
    ``holdout``, ``n_boot``, ``seed``, ``min_train``, ``prediction_model``, ``verdicts``, ``groups``, ``adapt``), which
    override the object's.
    """
    sel = Selection.of(selection, x=x, by=by, tasks=tuple(tasks) if tasks is not None else None, metric=metric,
                       shots=shots, variant=variant, checkpoints=checkpoints)
    given = {"forms": forms, "scheme": scheme, "level": level, **option_fields}
    opts = replace(options if options is not None else BacktestOptions(),
                   **{k: v for k, v in given.items() if v is not None})
    return Backtest.fit(data, sel, opts, progress=progress)


def _series_to_backtest(data: Testbed | Series | Iterable[Series], sel: Selection
                        ) -> tuple[list[Series], str, str | None]:
    """The series a backtest runs on, with its x and by: a testbed's as ``sel`` picks them (validated once), or
    the series given."""
    x, by = sel.x, sel.by
    if isinstance(data, Testbed):
        sel = sel.validate(data)
        data = sel.apply(data)
        x, by = sel.x, sel.by
        series_list = testbed_series(data, x, by=by, tasks=sel.tasks, **sel.setting())
    elif isinstance(data, Series):
        series_list = [data]
    else:
        series_list = list(data)
    if not series_list:
        raise SelectionError("no series to backtest")
    return series_list, x or series_list[0].x_name, by


def _declared_holdouts(holdout, series_list: list[Series]) -> set[str] | None:
    """The declared hold-out models (None: the testbed's own column); none of them in the data is an error."""
    declared = holdout_models(holdout) if holdout is not None else None
    if declared is not None:
        known = set().union(*(s.models for s in series_list))
        if not declared & known:
            raise SelectionError(f"none of the {len(declared)} declared hold-out models is in the data")
    return declared


@dataclass
class _Ticker:
    """Progress of one form's pass: each series counted once, when its first prediction is scored (or at the
    end, where it had no split)."""

    progress: Progress | None
    done: int
    total: int
    form: str
    seen: set = field(default_factory=set)

    def tick(self, s: Series) -> None:
        if id(s) not in self.seen:
            self.seen.add(id(s))
            self.done += 1
            report(self.progress, self.done, self.total, f"{self.form}: {s.task} ({s.scope_label})")


def _form_rows(form: str, strategy, series_list: list[Series], declared: set[str] | None, opts: BacktestOptions,
               verdict_of: dict[int, str], ticker: _Ticker) -> list[dict]:
    """Every prediction of one form: each series' splits, fitted one batch per chunk (the laws engine fits many
    series, and their bootstrap replicates, at once far faster than one at a time), then scored."""
    need = opts.min_train if opts.min_train is not None else _min_points(strategy)
    jobs = []
    for s in series_list:
        mask = None if declared is None else np.array([m in declared for m in s.models], bool)
        jobs.extend((s, sp) for sp in splits(s, opts.scheme, holdout=mask, min_train=need))
    adapted = _adaptations(jobs, strategy, opts, need)
    rows: list[dict] = []
    for start in range(0, len(jobs), _CHUNK):
        chunk = jobs[start:start + _CHUNK]
        laws = _fit_laws([s.subset(sp.train) for s, sp in chunk], strategy, opts)
        for (s, sp), law in zip(chunk, laws, strict=True):
            model, adaptation = adapted.get(_adaptation_key(opts, sp), (opts.prediction_model, NO_ADAPTATION))
            rows.extend(_prediction_rows(s, sp, form, law, opts.level, model, verdict_of.get(id(s), ""),
                                         adaptation))
            ticker.tick(s)
    for s in series_list:
        ticker.tick(s)
    return rows


def _adaptation_key(opts: BacktestOptions, split: Split):
    """Which splits share an adaptation: under "expanding", those made at the same time (k sizes fitted, each
    series on its k smallest); under the other schemes every split (one per series, all fitted at once)."""
    return split.k_sizes_fit if opts.scheme == "expanding" else None


def _adaptations(jobs: list[tuple[Series, Split]], strategy, opts: BacktestOptions, need: int
                 ) -> dict[object, tuple[PredictionModel, Adaptation]]:
    """The prediction model adapted for each group of splits (:func:`_adaptation_key`) from the inner backtests
    of their fit sets, pooled over series (:func:`scalecheck.laws.prediction.adapt`): each fit set's expanding
    splits, fitted with the form backtested (pooled) or, where forms are chosen, :data:`ADAPT_FORM`. An inner fit
    shared by several groups (the k' smallest sizes of a series, under "expanding") is fitted once."""
    if not opts.adapt or not (strategy is AUTO_FORM or isinstance(strategy, Form)):
        return {}
    prior = opts.prediction_model or DEFAULT
    if not isinstance(prior, PredictionModel):  # another interval model (ResidualOnly): used as given
        return {}
    form = ADAPT_FORM if strategy is AUTO_FORM else strategy
    groups: dict[object, list[tuple[Series, Series]]] = {}
    for s, sp in jobs:
        groups.setdefault(_adaptation_key(opts, sp), []).append((s, s.subset(sp.train)))
    inner = {key: [(s, t, isp) for s, t in members for isp in splits(t, "expanding", min_train=need)]
             for key, members in groups.items()}
    fits: dict[tuple, object] = {}
    todo = {}
    for items in inner.values():
        for s, t, isp in items:
            fit_key = (id(s), tuple(t.subset(isp.train).models))
            if fit_key not in fits and fit_key not in todo:
                todo[fit_key] = t.subset(isp.train)
    fits.update(zip(todo, fit_many(list(todo.values()), form), strict=True))
    out = {}
    for key, items in inner.items():
        cols: dict[str, list] = {c: [] for c in ("centre", "edge", "residual_var", "distance", "span", "y", "task")}
        for s, t, isp in items:
            law = fits[(id(s), tuple(t.subset(isp.train).models))]
            if not law.usable:
                continue
            test = t.subset(isp.test)
            for c, v in terms(law, law_x(test, law.law)).items():
                cols[c].append(v)
            cols["y"].append(np.asarray(test.y, float))
            cols["task"].append(np.full(len(test), s.label, object))
        if not cols["y"]:
            out[key] = (prior, NO_ADAPTATION)
            continue
        arrays = {c: np.concatenate(v) for c, v in cols.items()}
        out[key] = adapt(prior, arrays["centre"], arrays["edge"], arrays["residual_var"], arrays["distance"],
                         arrays["y"], arrays["span"], tasks=arrays["task"])
    return out


def _fit_laws(trains: list[Series], strategy, opts: BacktestOptions) -> list:
    """One law per fit set: chosen per set ("auto"), one form with its grouping, or the user's fitting function."""
    kw = {"n_boot": opts.n_boot, "seed": opts.seed, "level": opts.level}
    if strategy is AUTO_FORM:
        return _auto_laws(trains, opts.groups, **kw)
    if isinstance(strategy, Form):
        return fit_grouped(trains, strategy, opts.groups, **kw)
    return [strategy(train) for train in trains]


def _strategies(forms) -> list[tuple[str, Form | Callable[[Series], Predictor]]]:
    """(label, Form or fitting function) for each of ``forms``; names are resolved (did-you-mean on a typo)."""
    items = [forms] if isinstance(forms, (str, Form)) or callable(forms) else list(forms)
    if not items:
        raise SelectionError("no law forms to backtest")
    out = []
    for item in items:
        if item == AUTO_FORM:
            out.append((AUTO_FORM, AUTO_FORM))
        elif isinstance(item, (str, Form)):
            form = get_form(item)
            out.append((form.name, form))
        elif callable(item):
            name = getattr(item, "__name__", None) or getattr(getattr(item, "func", None), "__name__", None)
            out.append((str(name or "fit_fn"), item))
        else:
            raise TypeError(f"a backtest form is a name, a Form or a fitting function, not {type(item).__name__}")
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise SelectionError(f"backtest forms need distinct names, got {labels}")
    return out


def _min_points(strategy) -> int:
    """Fit points a split needs: one degree of freedom beyond a form's parameters (3 for a fitting function,
    unless it says otherwise with a ``min_points`` attribute)."""
    if strategy is AUTO_FORM:
        return 3
    if isinstance(strategy, Form):
        return max(strategy.k + 1, 3)
    return int(getattr(strategy, "min_points", 3))
