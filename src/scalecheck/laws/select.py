"""A task's forecast from an inner backtest on its fit set, never from in-sample fit.

A form that fits the smaller models best in-sample is often the one that bends to their noise and runs away past
them (an exponential steepened to three sizes). What matters is how a form extrapolates, so each candidate is
scored the way the outer backtest scores it, on the fit set alone:

* the fit set's sizes are ranked (several token budgets of one size are one size, as in
  :mod:`scalecheck.backtest.windows`); for each of up to :data:`INNER_ORIGINS` origins the candidate is fitted on
  the sizes below the origin and predicts the sizes from it to the largest of the fit set;
* its inner errors are those predictions' (y's own scale); a prediction that is unusable or leaves the fitted
  range by more than :data:`~scalecheck.laws.result.MAX_EXCURSION` spreads counts as a failure, and a candidate
  that fails any inner prediction does not pass.

**No change** is scored alongside (:data:`NO_CHANGE`): each point predicted to score what the fit set's largest
size scored in its group (corpus or family; the largest size overall for a group with none); its prediction
interval comes from the spread of its inner-backtest errors (Student-t about their root mean square,
:class:`scalecheck.laws.prediction.NoChangeModel`).

**The forecast** (:func:`fit_selected`, ``combine=True``, the default of ``auto``) is not the inner winner but a
combination (:class:`CombinedFit`): every candidate that passed, refitted on the whole fit set with its groups
handled as its inner backtest chose, and no change, each weighted by the inverse of its mean
squared inner error (Bates and Granger 1969; equal weights where no inner backtest is possible), its predictive
distribution the members' pooled with those weights. Why: with two inner origins the winner is a noisy pick, and
a wrong pick costs far more than a weight spread over near-equals; a law with little inner support is weighted
down rather than trusted or ignored, and no change takes the weight where the laws do not beat it. Chosen on the
validation question inside each fit set (``benchmarks/extrapolation_skill.py --validate``: the fit set's largest
size predicted from the smaller ones, the hold-out unseen), where it had the lowest MAE of the rules tried on
Gadre, OLMo and Pythia; see that benchmark's docstring. ``combine=False`` keeps the single winner (lowest inner
MAE, a law winning a tie with no change). The inner winner is recorded either way (``FormChoice.form``).

**Groups.** On a series with several groups (corpora, families) and grouping ``auto``, each form is backtested
inside the fit set three ways (:mod:`scalecheck.laws.groups`: one law for all, one shape with per-group offsets,
one law per group) and keeps the way with the lowest mean squared inner error (``FormChoice.groupings``): how a
form extrapolates a group's larger sizes decides, not how it fits them, as for the form itself. Where no inner
backtest is possible, BIC on the fit set chooses, as ``fit_grouped`` does. Chosen on ``--validate`` (MAE lower on
the OLMo ladder, Pythia and Sloth, Gadre's unchanged) before the hold-outs were run.

:data:`DEFAULT_CANDIDATES` are the forms for scores (accuracy-like metrics); a loss metric against a loss adds
``loss_to_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from ..observations import Series
from ..observations.sizes import size_ranks
from .api import law_x
from .forms import get_form
from .groups import MODES, GroupLawFit, fit_grouped, fit_groupings
from .prediction import NO_CHANGE as NO_CHANGE_MODEL
from .result import MAX_EXCURSION, excursion

DEFAULT_CANDIDATES = ("exponential", "direct_compute", "loglog", "broken_power", "linear")
NO_CHANGE = "no_change"
INNER_ORIGINS = 2


@dataclass(frozen=True)
class FormChoice:
    """Which form an inner backtest chose for one series, and every candidate's inner error."""

    form: str
    inner_mae: dict[str, float]
    n_inner: int  # inner predictions per candidate (0: no inner backtest was possible)
    inner_mse: dict[str, float] = field(default_factory=dict)  # mean squared inner error (the combination's weights)
    # Per inner origin: (the combined forecast's MAE, no change's MAE, target size / largest fitted size).
    track: tuple[tuple[float, float, float], ...] = ()
    # Per form, the grouping its inner backtest chose (grouping "auto" on a series with several groups).
    groupings: dict[str, str] = field(default_factory=dict)

    @property
    def combined_skill(self) -> float:
        """1 - MAE / no change's MAE of the combined forecast over the inner backtest (NaN without one)."""
        if not self.track:
            return math.nan
        law = float(np.mean([t[0] for t in self.track]))
        nc = float(np.mean([t[1] for t in self.track]))
        return 1.0 - law / nc if nc > 0 else (0.0 if law == 0 else -math.inf)

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

    def prediction_rows(self, test: Series, level: float, model=None) -> dict[str, np.ndarray]:
        """As :meth:`scalecheck.laws.groups.GroupLawFit.prediction_rows` (no distance: the level has no x)."""
        lo, hi = self.interval(test.groups, level)
        return {"predicted": self.predict_groups(test.groups), "lo": lo, "hi": hi,
                "distance": np.full(len(test), np.nan), "level_to_cover": self.level_to_cover(test.groups, test.y)}


@dataclass(frozen=True, eq=False)
class CombinedFit:
    """A weighted pool of several forecasts of one series: the laws that passed the inner backtest, and no change.

    ``weights`` (aligned with ``members``) are the inverse of each member's mean squared inner-backtest error
    (Bates and Granger 1969; equal without an inner backtest). Per held-out point, the members' predictive
    distributions are pooled with these weights (a mixture; a member whose law is not finite there or leaves the
    fitted range by more than :data:`~scalecheck.laws.result.MAX_EXCURSION` spreads is left out at that point, the
    others' weights renormalised): its median is the point forecast, its central quantiles the interval, and the
    level to cover is read from it. See :func:`fit_selected` for why a combination rather than the winner.
    """

    members: tuple
    weights: tuple
    choice: FormChoice
    y_fit: np.ndarray
    mode: str = "combined"
    reason: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def form(self) -> str:
        return "combined(" + ", ".join(m.form for m in self.members if m.usable) + ")"

    def describe(self) -> str:
        total = sum(w for m, w in zip(self.members, self.weights, strict=True) if m.usable)
        return "weighted mean of " + ", ".join(f"{m.form} {w / total:.0%}" for m, w in
                                              zip(self.members, self.weights, strict=True) if m.usable)

    @property
    def usable(self) -> bool:
        return any(m.usable for m in self.members)

    def prediction_rows(self, test: Series, level: float, model=None) -> dict[str, np.ndarray]:
        keys = ("predicted", "lo", "hi", "distance", "level_to_cover")
        stacks: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        for m in self.members:
            if not m.usable:
                continue
            r = m.prediction_rows(test, level, model)
            # The excursion rule judges a law's own curve (its point forecast is the damped predictive median).
            p = np.asarray(r.get("curve", r["predicted"]), float)
            with np.errstate(all="ignore"):
                bad = ~np.isfinite(p) | (excursion(p, self.y_fit) > MAX_EXCURSION)
            for k in keys:
                v = np.asarray(r[k], float).copy()
                if test.metric_is_proportion and k in ("predicted", "lo", "hi"):
                    v = np.clip(v, 0.0, 1.0)
                v[bad] = np.nan
                stacks[k].append(v)
        n = len(test)
        if not stacks["predicted"]:
            return {k: np.full(n, np.nan) for k in keys}
        w = np.array([wt for m, wt in zip(self.members, self.weights, strict=True) if m.usable], float)
        M = {k: np.vstack(v) for k, v in stacks.items()}
        ww = np.where(np.isfinite(M["predicted"]), w[:, None], 0.0)
        tot = ww.sum(axis=0)
        with np.errstate(all="ignore"):
            ww = ww / np.where(tot > 0, tot, np.nan)
            distance = np.nansum(np.nan_to_num(M["distance"]) * ww, axis=0)
            out = {"distance": np.where(np.isfinite(M["distance"]).any(axis=0), distance, np.nan)}
            # The members' predictive distributions pooled (a mixture with the same weights), each member's taken
            # as normal with the centre and width of its interval at ``level``: between-member disagreement widens
            # the interval, as it should.
            z = stats.norm.ppf(0.5 + level / 2)
            c = (M["lo"] + M["hi"]) / 2
            sd = np.maximum((M["hi"] - M["lo"]) / (2 * z), 1e-9)
            ok = np.isfinite(c) & np.isfinite(sd) & (ww > 0)
            c, sd, wk = np.where(ok, c, 0.0), np.where(ok, sd, 1.0), np.where(ok, ww, 0.0)
            wk = wk / np.where(wk.sum(axis=0) > 0, wk.sum(axis=0), np.nan)

            def cdf(y):
                return np.sum(wk * stats.norm.cdf((y[None, :] - c) / sd), axis=0)

            lo_b, hi_b = np.min(c - 8 * sd, axis=0), np.max(c + 8 * sd, axis=0)
            ends = []
            for p in ((1 - level) / 2, (1 + level) / 2, 0.5):
                a, b = lo_b.copy(), hi_b.copy()
                for _ in range(60):
                    mid = (a + b) / 2
                    below = cdf(mid) < p
                    a, b = np.where(below, mid, a), np.where(below, b, mid)
                ends.append((a + b) / 2)
            good = ok.any(axis=0) & (tot > 0)
            out["lo"], out["hi"], median = (np.where(good, e, np.nan) for e in ends)
            out["level_to_cover"] = np.where(good, np.abs(2 * cdf(np.asarray(test.y, float)) - 1), np.nan)
            # The point forecast is the pooled distribution's median, so every interval holds it (as a single
            # law's is: scalecheck.laws.prediction); the members' weighted mean can fall outside a lopsided mixture's.
            out["predicted"] = np.where(tot > 0, median, np.nan)
        return out


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
    return size_ranks(v)


def _depths(series: Series, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point, how many sizes of its own group are larger (0: the group's largest) and how many are smaller."""
    groups = np.asarray(series.groups, object)
    depth, below = np.empty(len(ranks), int), np.empty(len(ranks), int)
    for g in set(groups.tolist()):
        m = groups == g
        r = np.unique(ranks[m], return_inverse=True)[1].reshape(-1)  # the series' size ranks renumbered in the group
        depth[m], below[m] = r.max() - r, r
    return depth, below


def inner_splits(series: Series, min_sizes: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit, predict) masks of the inner backtest: fit below an origin, predict from it to the largest size.

    With several groups (corpora, families) the origins are each group's own: the first holds out every group's
    largest size, the second its two largest, a group taking part only while it keeps a smaller size in the fit.
    That is the question a forecast of a group's larger models asks (a family's next size from its smaller ones);
    origins on the pooled sizes would hold out only the groups that reach the largest sizes overall. Where every
    group has the same sizes the two are the same splits.
    """
    ranks = _ranks(series)
    if not ranks.size:
        return []
    depth, below = _depths(series, ranks)
    out = []
    for j in range(INNER_ORIGINS):
        test = (depth <= j) & (below + depth > j)  # the group's j + 1 largest sizes, if it has a smaller one
        train = ~test
        if len(np.unique(ranks[train])) >= min_sizes and test.any():
            out.append((train, test))
    return out


def fit_selected(series_list: Sequence[Series], candidates: Sequence[str] = DEFAULT_CANDIDATES,
                 grouping: str = "auto", *, no_change: bool = True, combine: bool = True,
                 **kw) -> list[GroupLawFit | NoChangeFit | CombinedFit]:
    """For each series, run the inner backtest on the series (its fit set) and fit what it passes.

    ``combine`` (the default): a :class:`CombinedFit`, the mean of every candidate law that passed the inner
    backtest (no failed inner prediction; every usable law when no inner backtest is possible) and of no change,
    each weighted by the inverse of its mean squared inner error.
    Otherwise the single winner (lowest inner error, no change included): its :class:`GroupLawFit`, or a
    :class:`NoChangeFit`. ``choice`` (a :class:`FormChoice`) records the inner errors either way. Keyword
    arguments go to the final fits (``n_boot``, ``seed``, ``level``); the inner fits are point fits.
    """
    series_list = list(series_list)
    choices, nc_errs = _choose(series_list, candidates, grouping, no_change)
    if combine:
        return _combined(series_list, choices, nc_errs, grouping, kw)
    every = sorted({c.form for c in choices} - {NO_CHANGE})
    out: list[GroupLawFit | NoChangeFit | None] = [None] * len(series_list)
    for i, ch in enumerate(choices):
        if ch.form == NO_CHANGE:
            levels, overall = no_change_levels(series_list[i])
            out[i] = NoChangeFit(levels, overall, no_change_sd(series_list[i], nc_errs[i]), ch)
    for form in every:
        idx = [i for i, ch in enumerate(choices) if ch.form == form]
        for i, f in _fit_chosen(series_list, idx, form, choices, grouping, kw):
            out[i] = replace(f, choice=choices[i])
    return out  # type: ignore[return-value]


def _fit_chosen(series_list: list[Series], idx: list[int], form: str, choices: list[FormChoice], grouping: str,
                kw: dict) -> list[tuple[int, GroupLawFit]]:
    """``form`` refitted on the whole of each fit set ``idx`` names, with the grouping its inner backtest chose (the
    requested one where it chose none), series of one grouping in one batch."""
    by: dict[str, list[int]] = {}
    for i in idx:
        by.setdefault(choices[i].groupings.get(form, grouping), []).append(i)
    out = []
    for mode, members in by.items():
        out.extend(zip(members, fit_grouped([series_list[i] for i in members], form, mode, **kw), strict=True))
    return out


def _combined(series_list: list[Series], choices: list[FormChoice], nc_errs, grouping: str,
              kw: dict) -> list[CombinedFit]:
    """The combined forecasts of :func:`fit_selected` (``combine``)."""
    members: list[list] = [[] for _ in series_list]
    passed = [[c for c, v in ch.inner_mae.items() if c != NO_CHANGE and (np.isfinite(v) or not ch.n_inner)]
              for ch in choices]
    every = sorted({c for p in passed for c in p})
    for form in every:
        idx = [i for i, p in enumerate(passed) if form in p]
        for i, f in _fit_chosen(series_list, idx, form, choices, grouping, kw):
            members[i].append(f)
    out = []
    for i, s in enumerate(series_list):
        levels, overall = no_change_levels(s)
        nc = NoChangeFit(levels, overall, no_change_sd(s, nc_errs[i]), choices[i])
        laws = sorted(members[i], key=lambda f: DEFAULT_CANDIDATES.index(f.form) if f.form in DEFAULT_CANDIDATES
                      else len(DEFAULT_CANDIDATES))
        ms = (*laws, nc)
        mse = [choices[i].inner_mse.get(m.form, math.nan) for m in ms]
        weights = (tuple(1.0 / v for v in mse) if all(np.isfinite(v) and v > 0 for v in mse)
                   else (1.0,) * len(ms))
        out.append(CombinedFit(ms, weights, choices[i], np.asarray(s.y, float)))
    return out


def choose_forms(series_list: Sequence[Series], candidates: Sequence[str] = DEFAULT_CANDIDATES,
                 grouping: str = "auto", *, no_change: bool = True) -> list[FormChoice]:
    """Each series' :class:`FormChoice` from the inner backtest on it (what :func:`fit_selected` fits)."""
    return _choose(list(series_list), candidates, grouping, no_change)[0]


def _choose(series_list: list[Series], candidates: Sequence[str], grouping: str,
            no_change: bool) -> tuple[list[FormChoice], list[list[float]]]:
    cands = [candidates_for(s, candidates) for s in series_list]
    every = sorted({c for cs in cands for c in cs}, key=lambda c: min(cs.index(c) for cs in cands if c in cs))
    splits = [inner_splits(s) for s in series_list]
    # Inner errors: per series, per candidate, the list of absolute errors (inf for a failed prediction).
    errs: list[dict[str, list[float]]] = [{c: [] for c in cs} for cs in cands]
    signed: list[dict[str, list[float]]] = [{c: [] for c in cs} for cs in cands]  # prediction - truth
    # With grouping "auto", a series with several groups has each form's grouping chosen by the same inner
    # backtest (pooled, offsets or separate: how it extrapolates, not how it fits, as for the form itself).
    groupings: list[dict[str, str]] = [{} for _ in series_list]
    for form in every:
        jobs = [(i, tr, te) for i, sp in enumerate(splits) if form in cands[i] for tr, te in sp]
        if not jobs:
            continue
        trains = [series_list[i].subset(tr) for i, tr, _ in jobs]
        fits = (fit_groupings(trains, form, loo=False, n_boot=0) if grouping == "auto" else
                [{grouping: f} for f in fit_grouped(trains, form, grouping, loo=False, n_boot=0)])
        # Per series and grouping, the inner errors (absolute and signed; inf for a failed prediction).
        e_abs: list[dict[str, list[float]]] = [{} for _ in series_list]
        e_sig: list[dict[str, list[float]]] = [{} for _ in series_list]
        for (i, tr, te), by_mode in zip(jobs, fits, strict=True):
            s = series_list[i]
            test = s.subset(te)
            for mode, f in by_mode.items():
                a, g = e_abs[i].setdefault(mode, []), e_sig[i].setdefault(mode, [])
                if not f.usable:
                    a.extend([math.inf] * len(test))
                    g.extend([math.inf] * len(test))
                    continue
                pred = f.predict(law_x(test, get_form(form)), test.groups)
                bad = ~np.isfinite(pred) | (excursion(pred, s.y[tr]) > MAX_EXCURSION)
                if s.metric_is_proportion:
                    pred = np.clip(pred, 0.0, 1.0)
                e = pred - test.y
                a.extend(np.where(bad, math.inf, np.abs(e)).tolist())
                g.extend(np.where(bad, math.inf, e).tolist())
        for i, tried in enumerate(e_abs):
            if not tried:
                continue
            mse = {m: float(np.mean(np.square(v))) for m, v in tried.items()}
            best = min(tried, key=lambda m: (mse[m], MODES.index(m)))
            errs[i][form].extend(tried[best])
            signed[i][form].extend(e_sig[i][best])
            if len(tried) > 1:
                groupings[i][form] = best
    nc_errs: list[list[float]] = [[] for _ in series_list]
    if no_change:
        for i, sp in enumerate(splits):
            s = series_list[i]
            for tr, te in sp:
                test = s.subset(te)
                e = _no_change_predict(s.subset(tr), test) - test.y
                nc_errs[i].extend(np.abs(e).tolist())
                errs[i].setdefault(NO_CHANGE, []).extend(np.abs(e).tolist())
                signed[i].setdefault(NO_CHANGE, []).extend(e.tolist())
        cands = [(*cs, NO_CHANGE) for cs in cands]
    choices: list[FormChoice] = []
    for i, cs in enumerate(cands):
        n_inner = int(sum(int(te.sum()) for _, te in splits[i]))
        mae = {c: (float(np.mean(errs[i][c])) if errs[i].get(c) else math.nan) for c in cs}
        mse = {c: (float(np.mean(np.square(errs[i][c]))) if errs[i].get(c) else math.nan) for c in cs}
        ok = {c: v for c, v in mae.items() if np.isfinite(v)}
        best = min(ok, key=lambda c: (ok[c], cs.index(c))) if ok else cs[0]
        track = _track_record(series_list[i], splits[i], signed[i], mse) if no_change and n_inner else ()
        choices.append(FormChoice(best, mae, n_inner, mse, track, groupings[i]))
    return choices, nc_errs


def _track_record(series: Series, splits, signed: dict[str, list[float]], mse: dict[str, float]
                  ) -> tuple[tuple[float, float, float], ...]:
    """Per inner origin, how the combined forecast (the passing laws and no change, weighted by inverse inner MSE,
    as :class:`CombinedFit`) did: (its MAE, no change's MAE, the farthest target's size over the largest fitted
    size, in parameters)."""
    keep = [c for c, v in signed.items() if len(v) and np.all(np.isfinite(v)) and np.isfinite(mse.get(c, math.nan))]
    if NO_CHANGE not in keep:
        return ()
    w = np.array([1.0 / mse[c] if mse[c] > 0 else math.nan for c in keep])
    if not np.all(np.isfinite(w)):
        w = np.ones(len(keep))
    E = np.array([signed[c] for c in keep], float)
    comb = np.abs(w @ E / w.sum())
    nc = np.abs(E[keep.index(NO_CHANGE)])
    # The ratio on the axis the sizes are ranked by (parameters; FLOPs without them): with several token budgets
    # per size a smaller model may have more compute than a larger one.
    compute = np.asarray(series.params, float)
    if not np.all(np.isfinite(compute) & (compute > 0)):
        compute = np.asarray(series.flops, float)
    groups = np.asarray(series.groups, object)
    out, at = [], 0
    for tr, te in splits:
        m = int(te.sum())
        # Each target against its own group's largest fitted size (inner_splits keeps one in every group it tests).
        ratio = float(max(np.nanmax(compute[te & (groups == g)]) / np.nanmax(compute[tr & (groups == g)])
                          for g in set(groups[te].tolist())))
        out.append((float(comb[at:at + m].mean()), float(nc[at:at + m].mean()), ratio))
        at += m
    return tuple(out)


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
