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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError
from ..laws import Form, LawFit, Predictor, get_form, law_x
from ..laws.groups import GROUPINGS, GroupLawFit, fit_grouped, shifted
from ..laws.prediction import DEFAULT, interval_score
from ..laws.prediction import distance as prediction_distance
from ..laws.result import excursion_reason
from ..laws.select import DEFAULT_CANDIDATES, NoChangeFit, fit_selected, no_change_fit
from ..observations import Selection, Series, Testbed
from ..progress import Progress, report
from ..tables import write_tables
from .windows import SCHEMES, Split, holdout_models, splits

log = logging.getLogger(__name__)  # decisions made silently: tasks left out

# What a backtest can be asked to fit: a registered form's name, a Form, or fit_fn(train series) -> Predictor.
FormLike = str | Form | Callable[[Series], Predictor]

# Columns of Backtest.frame(), one row per (series, split, form, held-out model).
PREDICTION_COLUMNS = [
    "task", "metric", "scope", "x_name", "form", "scheme", "k_sizes_fit", "n_fit", "model", "params", "tokens",
    "x", "actual", "noise_sd", "predicted", "lo", "hi", "abs_error", "rel_error", "signed_error", "covered",
    "interval_width", "interval_score", "level_to_cover", "distance", "verdict", "units", "usable", "reason",
    "grouping", "fitted_form",
]

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
                     verdict: str = "") -> list[dict]:
    """Score ``law`` (fitted on ``split.train``) on the held-out points of ``split``."""
    test = series.subset(split.test)
    scale, units = units_of(series)
    grouping = law.mode if isinstance(law, (GroupLawFit, NoChangeFit)) else "pooled"
    fitted_form = law.form if isinstance(law, (GroupLawFit, NoChangeFit)) else form
    base = {"grouping": grouping, "fitted_form": fitted_form, "verdict": verdict, "task": series.task, "metric": series.metric, "scope": _scope_label(series), "x_name": series.x_name,
            "form": form, "scheme": split.scheme, "k_sizes_fit": split.k_sizes_fit, "n_fit": split.n_train,
            "units": units}
    actual = test.y
    noise = test.noise_sd
    usable = bool(getattr(law, "usable", True))
    reasons = ["" if usable else str(getattr(law, "reason", ""))] * len(test)
    distance = need = np.full(len(test), np.nan)
    if usable and isinstance(law, NoChangeFit):
        # No law beat "no change" on the fit set's inner backtest: each group's level at its largest fitted size.
        predicted = law.predict_groups(test.groups)
        lo, hi = law.interval(test.groups, level)
        need = law.level_to_cover(test.groups, actual)
        reasons = [""] * len(test)
        if series.metric_is_proportion:
            predicted, lo, hi = (np.clip(v, 0.0, 1.0) for v in (predicted, lo, hi))
    elif usable:
        xt = _law_x(test, law)
        if isinstance(law, GroupLawFit):
            predicted, lo, hi, distance, need, curve = _group_predictions(law, test, xt, level, model)
        else:
            predicted = curve = np.asarray(law.predict(xt), float).reshape(len(test))
        # The law's prediction interval holds what a held-out model's measured score carries beyond the curve:
        # sampling noise, model-to-model scatter and the extrapolation term (scalecheck.laws.prediction).
        if isinstance(law, GroupLawFit):
            pass
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
        reasons = [excursion_reason(p, y_fit) for p in curve]
        wild = np.array([bool(r) for r in reasons])
        if wild.any():
            predicted, lo, hi, distance, need = (np.where(wild, np.nan, np.asarray(v, float))
                                                 for v in (predicted, lo, hi, distance, need))
        if series.metric_is_proportion:
            # A proportion cannot leave [0, 1]: a law past it is clipped, and an interval past it says only
            # that the law cannot tell.
            predicted, lo, hi = (np.clip(v, 0.0, 1.0) for v in (predicted, lo, hi))
    else:
        predicted = lo = hi = distance = need = np.full(len(test), np.nan)
    score = interval_score(lo, hi, actual, level) * scale
    row_usable = [usable and not r for r in reasons]
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
    """The ``auto`` strategy: a fit set in which the reality check finds no trend (verdict "trendless": no
    significant rise or fall at its calibrated level) gets the no-change forecast, since no law is supported
    there; every other fit set gets the form its inner backtest chooses (:func:`scalecheck.laws.select.fit_selected`,
    where no change is a candidate too)."""
    from ..trends import classify

    flat = [classify(t).category == "trendless" for t in trains]
    out: list = [None] * len(trains)
    rest = [i for i, f in enumerate(flat) if not f]
    for i, f in enumerate(flat):
        if f:
            out[i] = no_change_fit(trains[i], "the fit set shows no trend")
    if rest:
        for i, law in zip(rest, fit_selected([trains[i] for i in rest], DEFAULT_CANDIDATES, groups, **kw),
                          strict=True):
            out[i] = law
    return out


def _group_predictions(law: GroupLawFit, test: Series, xt: np.ndarray, level: float, model=None):
    """Point, interval, distance and level-to-cover of each held-out point from its own group's law (and shift)."""
    n = len(test)
    predicted, lo, hi, distance, need, curve = (np.full(n, np.nan) for _ in range(6))
    pm = model or DEFAULT
    groups = np.asarray(test.groups, object)
    for g in sorted(set(groups.tolist())):
        idx = np.flatnonzero(groups == g)
        part, shift = law.part(g)
        if not part.usable:
            continue
        xg = xt[idx]
        curve[idx] = shifted(part.law, part.predict(xg), shift)
        predicted[idx] = shifted(part.law, part.quantile(xg, 0.5, model=model), shift)  # the median
        a, b = part.interval(xg, level=level, kind="prediction", model=model)
        lo[idx], hi[idx] = shifted(part.law, a, shift), shifted(part.law, b, shift)
        distance[idx] = prediction_distance(part, xg)
        # The truth moved back by the group's shift is what the shared law's interval must hold.
        need[idx] = pm.level_to_cover(part, xg, shifted(part.law, test.y[idx], -shift))
    return predicted, lo, hi, distance, need, curve


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
    def fit(cls, data: Testbed | Series | Iterable[Series], forms: FormLike | Sequence[FormLike] = ("auto",),
            x: str | None = None, by: str | None = None, scheme: str = "expanding", level: float = 0.9, *,
            tasks: Sequence[str] | None = None, metric: str | None = None, shots: int | None = None,
            variant: str | None = None, holdout: str | Path | Iterable[str] | None = None, n_boot: int = 0,
            seed: int = 0, min_train: int | None = None, checkpoints: str | None = None,
            selection: Selection | None = None, progress: Progress | None = None, prediction_model=None,
            verdicts: bool = True, groups: str = "auto") -> Backtest:
        """Backtest ``forms`` on every series of ``data``.

        ``forms``: "auto" (the default: each task's form chosen by an inner backtest on its fit set,
        :mod:`scalecheck.laws.select`), names of registered forms, :class:`~scalecheck.laws.Form` objects, or fitting functions
        ``fit_fn(train: Series) -> Predictor`` (see the module doc), alone or in a sequence; results label each by
        its name (a function by its ``__name__``).

        ``scheme``: "expanding" (fit on the k smallest sizes, predict the rest, for every k),
        "leave_largest_out", or "holdout" (fit on the models not declared hold-out, predict those).
        ``holdout`` declares the targets instead of the testbed's ``holdout`` column: a ladder file (YAML,
        its ``holdout: true`` models) or model ids. ``level`` is the prediction interval's coverage.
        ``n_boot``: 0 gives delta-method prediction intervals (the default: on simulated lawful tasks they
        cover at about the nominal rate, where a cluster bootstrap over a handful of model sizes is far wider);
        more draws a bootstrap of that many replicates per fit.
        ``checkpoints``: "final" (the default) keeps each training run's last checkpoint (a model is a run, not a
        point of its training curve), "all" every checkpoint. ``x`` defaults to the testbed's
        :meth:`~scalecheck.observations.Testbed.default_x`. ``selection`` (a
        :class:`~scalecheck.observations.Selection`) gives x, by, tasks, metric, shots, variant and checkpoints at
        once; keywords given beside it override its fields. ``progress`` is called as ``progress(done, total,
        what)`` after each series (see :mod:`scalecheck.progress`).
        ``prediction_model``: a :class:`scalecheck.laws.prediction.PredictionModel` (default: the calibrated
        one) for the intervals. Each row also carries the interval score (Gneiting and Raftery: width plus
        2/alpha times the miss, in the row's units), the smallest level whose interval holds the truth
        (``level_to_cover``, for the calibration curve) and the extrapolation distance (in units of the fitted x
        range). ``verdicts``: label each row with the reality check's verdict on the whole series
        (:func:`scalecheck.trends.classify`), so coverage can be read per verdict (it sees the held-out models
        too: a label for reading results, not a forecast).
        ``groups``: how a pooled series whose models come from several corpora (or families) is fitted
        (:mod:`scalecheck.laws.groups`): "auto" (the default) chooses by BIC on the fit set between one law for
        all ("pooled"), one shape with per-group offsets ("offsets") and one law per group ("separate"); each
        row's ``grouping`` says which was used.
        """
        strategies = _strategies(forms)
        forms = tuple(label for label, _ in strategies)
        if scheme not in SCHEMES:
            raise SelectionError(f"unknown backtest scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")
        if not 0 < level < 1:
            raise SelectionError(f"level must be between 0 and 1, got {level}")
        if groups not in GROUPINGS:
            raise SelectionError(f"unknown grouping {groups!r}; choose one of: {', '.join(GROUPINGS)}")
        sel = Selection.of(selection, x=x, by=by, tasks=tuple(tasks) if tasks is not None else None, metric=metric,
                           shots=shots, variant=variant, checkpoints=checkpoints)
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
        x = x or series_list[0].x_name
        declared = holdout_models(holdout) if holdout is not None else None
        if declared is not None:
            known = set().union(*(s.models for s in series_list))
            if not declared & known:
                raise SelectionError(f"none of the {len(declared)} declared hold-out models is in the data")
        verdict_of = {id(s): _verdict(s) for s in series_list} if verdicts else {}
        rows: list[dict] = []
        total, n_done = len(forms) * len(series_list), 0
        report(progress, 0, total, "backtest")
        for form, strategy in strategies:
            need = min_train if min_train is not None else _min_points(strategy)
            jobs = []
            for s in series_list:
                mask = None if declared is None else np.array([m in declared for m in s.models], bool)
                jobs.extend((s, sp) for sp in splits(s, scheme, holdout=mask, min_train=need))
            # One batch per form and chunk: the laws engine fits many series (and their bootstrap
            # replicates) at once far faster than one at a time.
            done = set()
            for start in range(0, len(jobs), _CHUNK):
                chunk = jobs[start:start + _CHUNK]
                trains = [s.subset(sp.train) for s, sp in chunk]
                if strategy is AUTO_FORM:
                    laws = _auto_laws(trains, groups, n_boot=n_boot, seed=seed, level=level)
                elif isinstance(strategy, Form):
                    laws = fit_grouped(trains, strategy, groups, n_boot=n_boot, seed=seed, level=level)
                else:
                    laws = [strategy(train) for train in trains]
                for (s, sp), law in zip(chunk, laws, strict=True):
                    rows.extend(_prediction_rows(s, sp, form, law, level, prediction_model,
                                                 verdict_of.get(id(s), "")))
                    if id(s) not in done:
                        done.add(id(s))
                        n_done += 1
                        report(progress, n_done, total, f"{form}: {s.task} ({s.scope_label})")
            for s in series_list:
                if id(s) not in done:
                    n_done += 1
                    report(progress, n_done, total, f"{form}: {s.task} ({s.scope_label})")
        frame = pd.DataFrame(rows, columns=PREDICTION_COLUMNS)
        return cls(frame, forms, scheme, x, level, by, {"n_boot": n_boot, "seed": seed, "n_series": len(series_list),
                                                        "groups": groups,
                                                        "holdout": None if holdout is None else str(holdout)})

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

    def write(self, out_dir: str | Path) -> dict[str, Path]:
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


def backtest(data: Testbed | Series | Iterable[Series], forms: FormLike | Sequence[FormLike] = ("auto",),
             x: str | None = None, by: str | None = None, scheme: str = "expanding", level: float = 0.9,
             **kwargs) -> Backtest:
    """Fit on smaller scales, predict larger ones; see :meth:`Backtest.fit`."""
    return Backtest.fit(data, forms, x, by, scheme, level, **kwargs)


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
