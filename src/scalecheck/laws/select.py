"""Choosing a task's law form by an inner backtest on its fit set, never by in-sample fit.

A form that fits the smaller models best in-sample is often the one that bends to their noise and runs away past
them (an exponential steepened to three sizes). What matters is how a form extrapolates, so each candidate is
scored the way the outer backtest scores it, on the fit set alone:

* the fit set's sizes are ranked (several token budgets of one size are one size, as in
  :mod:`scalecheck.backtest.windows`); for each of up to :data:`INNER_ORIGINS` origins the candidate is fitted on
  the sizes below the origin and predicts the sizes from it to the largest of the fit set;
* its inner error is the mean absolute error of those predictions (y's own scale); a prediction that is
  unusable or leaves the fitted range by more than :data:`~scalecheck.laws.result.MAX_EXCURSION` spreads counts
  as a failure, and a candidate that fails any inner prediction is not chosen;
* the candidate with the lowest inner error wins (ties: the earlier in ``candidates``); with no inner backtest
  possible (too few sizes) or none passing, the first candidate (the default form) is used.

**No change** is a candidate too (:data:`NO_CHANGE`, after the laws, so a law wins a tie): each point predicted
to score what the fit set's largest size scored in its group (corpus or family; the largest size overall for a
group with none). Where no law beats it on the fit set's own inner backtest, the forecast is that level, with a
prediction interval from the spread of its inner-backtest errors (Student-t about their root mean square,
:class:`scalecheck.laws.prediction.NoChangeModel`):
a law is used only where the fit set gives evidence that it extrapolates better than assuming no change.

The winner is refitted on the whole fit set, with the groups handled as :func:`scalecheck.laws.groups.fit_grouped`
does. :data:`DEFAULT_CANDIDATES` are the forms for scores (accuracy-like metrics); a loss metric against a loss
adds ``loss_to_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..observations import Series
from .api import law_x
from .forms import get_form
from .groups import GroupLawFit, fit_grouped
from .prediction import NO_CHANGE as NO_CHANGE_MODEL
from .result import MAX_EXCURSION, excursion

DEFAULT_CANDIDATES = ("exponential", "direct_compute", "loglog", "broken_power", "linear")
NO_CHANGE = "no_change"
INNER_ORIGINS = 2
_SIZE_RTOL = 0.05  # as scalecheck.backtest.windows: parameter counts within 5% are one size


@dataclass(frozen=True)
class FormChoice:
    """Which form an inner backtest chose for one series, and every candidate's inner error."""

    form: str
    inner_mae: dict[str, float]
    n_inner: int  # inner predictions per candidate (0: no inner backtest was possible)

    def describe(self) -> str:
        if not self.n_inner:
            return f"{self.form} (default: too few sizes for an inner backtest)"
        scores = ", ".join(f"{k} {v:.3g}" for k, v in sorted(self.inner_mae.items(), key=lambda kv: kv[1]))
        return f"{self.form} (inner backtest MAE: {scores})"


@dataclass(frozen=True, eq=False)
class NoChangeFit:
    """The no-change forecast chosen by an inner backtest: each group's level at its largest fitted size.

    ``levels``: group -> mean score of the group's largest size in the fit set; ``overall``: the same over every
    group (for a group the fit set lacks); ``sd``: the scale of its prediction interval (:func:`no_change_sd`).
    """

    levels: dict[str, float]
    overall: float
    sd: float
    choice: FormChoice | None = None
    mode: str = "separate"
    form: str = NO_CHANGE
    usable: bool = True
    reason: str = ""
    extra: dict = field(default_factory=dict)

    def predict_groups(self, groups) -> np.ndarray:
        return np.array([self.levels.get(str(g), self.overall) for g in groups], float)

    def interval(self, groups, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        return NO_CHANGE_MODEL.interval(self.predict_groups(groups), self.sd, level)  # laws.prediction

    def level_to_cover(self, groups, y) -> np.ndarray:
        return NO_CHANGE_MODEL.level_to_cover(self.predict_groups(groups), self.sd, y)


def no_change_sd(series: Series, inner_errors) -> float:
    """The sd of the no-change forecast's interval: the root mean square of its inner-backtest errors; without two
    of them, the scatter of the fit set's scores (no trend: scatter is noise) widened for the level's own error,
    ``sd(y) * sqrt(1 + 1/m)`` with m the models at the largest size."""
    e = np.asarray(inner_errors, float)
    if len(e) >= 2:
        return float(np.sqrt(np.mean(e**2)))
    y = np.asarray(series.y, float)
    if len(y) < 2:
        return math.nan
    ranks = _ranks(series)
    m = int(np.sum(ranks == ranks.max()))
    return float(np.std(y, ddof=1) * math.sqrt(1 + 1 / max(m, 1)))


def no_change_levels(series: Series) -> tuple[dict[str, float], float]:
    """Per group, the mean score of its largest size; and the mean of the largest size overall."""
    ranks = _ranks(series)
    groups = np.asarray(series.groups, object)
    y = np.asarray(series.y, float)
    top = ranks.max()
    overall = float(np.mean(y[ranks == top]))
    levels = {}
    for g in sorted(set(groups.tolist())):
        m = groups == g
        levels[str(g)] = float(np.mean(y[m & (ranks == ranks[m].max())]))
    return levels, overall


def _no_change_predict(train: Series, test: Series) -> np.ndarray:
    levels, overall = no_change_levels(train)
    return np.array([levels.get(str(g), overall) for g in test.groups], float)


def candidates_for(series: Series, candidates: Sequence[str] = DEFAULT_CANDIDATES) -> tuple[str, ...]:
    """The candidate forms for ``series``: the score forms, plus loss_to_loss for a loss against a loss."""
    out = list(candidates)
    if series.x_is_loss and not series.metric_is_proportion and "loss_to_loss" not in out:
        out.append("loss_to_loss")
    return tuple(out)


def _ranks(series: Series) -> np.ndarray:
    v = np.asarray(series.params, float)
    if not np.isfinite(v).all():
        v = np.asarray(series.flops, float)
    if not np.isfinite(v).all():
        return np.zeros(len(series), int)
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(v.size, int)
    rank, anchor = 0, v[order[0]] if v.size else 0.0
    for i in order:
        if v[i] > anchor * (1 + _SIZE_RTOL):
            rank, anchor = rank + 1, v[i]
        ranks[i] = rank
    return ranks


def inner_splits(series: Series, min_sizes: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit, predict) masks of the inner backtest: fit below an origin, predict from it to the largest size."""
    ranks = _ranks(series)
    top = int(ranks.max()) if ranks.size else 0
    out = []
    for origin in range(top, max(top - INNER_ORIGINS, 0), -1):
        train, test = ranks < origin, ranks >= origin
        if len(np.unique(ranks[train])) >= min_sizes and test.any():
            out.append((train, test))
    return out


def fit_selected(series_list: Sequence[Series], candidates: Sequence[str] = DEFAULT_CANDIDATES,
                 grouping: str = "auto", *, no_change: bool = True, **kw) -> list[GroupLawFit | NoChangeFit]:
    """For each series, choose its form by an inner backtest on the series (its fit set), then fit it.

    Returns the chosen form's :class:`GroupLawFit` with ``choice`` (a :class:`FormChoice`) filled in. Keyword
    arguments go to the final fits (``n_boot``, ``seed``, ``level``); the inner fits are point fits.
    """
    series_list = list(series_list)
    cands = [candidates_for(s, candidates) for s in series_list]
    every = sorted({c for cs in cands for c in cs}, key=lambda c: min(cs.index(c) for cs in cands if c in cs))
    splits = [inner_splits(s) for s in series_list]
    # Inner errors: per series, per candidate, the list of absolute errors (inf for a failed prediction).
    errs: list[dict[str, list[float]]] = [{c: [] for c in cs} for cs in cands]
    for form in every:
        jobs = [(i, tr, te) for i, sp in enumerate(splits) if form in cands[i] for tr, te in sp]
        if not jobs:
            continue
        fits = fit_grouped([series_list[i].subset(tr) for i, tr, _ in jobs], form, grouping, loo=False, n_boot=0)
        for (i, tr, te), f in zip(jobs, fits, strict=True):
            s = series_list[i]
            test = s.subset(te)
            y_fit = s.y[tr]
            if not f.usable:
                errs[i][form].extend([math.inf] * len(test))
                continue
            pred = f.predict(law_x(test, get_form(form)), test.groups)
            bad = ~np.isfinite(pred) | (excursion(pred, y_fit) > MAX_EXCURSION)
            if s.metric_is_proportion:
                pred = np.clip(pred, 0.0, 1.0)
            e = np.abs(pred - test.y)
            errs[i][form].extend(np.where(bad, math.inf, e).tolist())
    nc_errs: list[list[float]] = [[] for _ in series_list]
    if no_change:
        for i, sp in enumerate(splits):
            s = series_list[i]
            for tr, te in sp:
                test = s.subset(te)
                nc_errs[i].extend(np.abs(_no_change_predict(s.subset(tr), test) - test.y).tolist())
                errs[i].setdefault(NO_CHANGE, []).extend(nc_errs[i][-len(test):])
        cands = [(*cs, NO_CHANGE) for cs in cands]
    choices: list[FormChoice] = []
    for i, cs in enumerate(cands):
        n_inner = int(sum(int(te.sum()) for _, te in splits[i]))
        mae = {c: (float(np.mean(errs[i][c])) if errs[i].get(c) else math.nan) for c in cs}
        ok = {c: v for c, v in mae.items() if np.isfinite(v)}
        best = min(ok, key=lambda c: (ok[c], cs.index(c))) if ok else cs[0]
        choices.append(FormChoice(best, mae, n_inner))
    out: list[GroupLawFit | NoChangeFit | None] = [None] * len(series_list)
    for i, ch in enumerate(choices):
        if ch.form == NO_CHANGE:
            levels, overall = no_change_levels(series_list[i])
            out[i] = NoChangeFit(levels, overall, no_change_sd(series_list[i], nc_errs[i]), ch)
    for form in every:
        idx = [i for i, ch in enumerate(choices) if ch.form == form]
        if not idx:
            continue
        for i, f in zip(idx, fit_grouped([series_list[i] for i in idx], form, grouping, **kw), strict=True):
            out[i] = replace(f, choice=choices[i])
    return out  # type: ignore[return-value]



def no_change_fit(series: Series, reason: str = "") -> NoChangeFit:
    """The no-change forecast of ``series`` (its fit set), its interval sd from its own inner backtest."""
    errs: list[float] = []
    for tr, te in inner_splits(series):
        test = series.subset(te)
        errs.extend(np.abs(_no_change_predict(series.subset(tr), test) - test.y).tolist())
    levels, overall = no_change_levels(series)
    e = np.asarray(errs, float)
    sd = no_change_sd(series, e)
    choice = FormChoice(NO_CHANGE, {NO_CHANGE: float(np.mean(e)) if len(e) else math.nan}, len(e))
    return NoChangeFit(levels, overall, sd, choice, extra={"reason": reason} if reason else {})
