"""How far to trust an extrapolation, estimated before the target is seen: inner backtests on the fit set.

By default (:func:`reliability` with no form) the estimate is of the forecast ``scalecheck backtest`` makes by
default (``auto``, :mod:`scalecheck.laws.select`): the candidate laws that pass the fit set's inner backtest and no
change, each weighted by the inverse of its mean squared inner error. The inner backtest fits below each of the
fit set's two largest sizes (each origin keeping at least three sizes below it) and predicts the sizes from the
origin up; there the combined forecast is scored against the no-change forecast (each group's level at its largest
size below the origin: what a user would guess without a law), and from that:

- ``estimated_skill``: 1 - MAE_combined / MAE_no_change over the inner backtest (1: perfect, 0: no better than
  no change, negative: worse). The weights are fitted on the same inner errors, so it is mildly optimistic;
- ``held`` of ``run``: inner origins where the forecast's error was no larger than no change's;
- ``held_to``: the farthest it held, as the ratio of the target's size to the largest fitted size (``axis``
  "size", in parameters: with several token budgets per size a smaller model can have more compute);
- ``reading``: one plain sentence, e.g. "held in 2 of 2 inner backtests; trust to about 3.1x the fitted size".

With a form (``reliability(series, "exponential")``) it is that law alone, refitted on the k smallest sizes for
every k from 2 on, the median of its inner skills (ratios then of compute: FLOPs, else parameters).

The inner backtests extrapolate from fewer sizes over shorter ranges than the real question, so the estimate is a
ranking more than a forecast of the skill itself: ``benchmarks/extrapolation_skill.py`` reports the rank
correlation between estimated and realised skill on every testbed's hold-out. The reality check's
``verdicts.csv`` and the ladder prediction carry this track record.

**Where the targets are known** (a backtest, a prediction: their sizes, not their scores), the estimate of the
combined forecast is :func:`expected_skill` instead (:func:`estimated_skill` with ``test``; the backtest's frame
carries it): the skill against no change the forecast expects of itself at those targets, from its own predictive
distribution. Why: realised skill against no change is mostly decided by whether the change the forecast predicts
past the data is large against its own uncertainty. A forecast predicting a change small against it scores about
0 whatever its track record (the target's noise decides), one predicting a large change near 1 when the change
comes; and a track record from one or two inner origins is itself noisy. On the validation question of
``benchmarks/extrapolation_skill.py --validate`` (each fit set's largest size predicted from its smaller ones,
the hold-out unseen), Spearman with the realised skill: OLMo 0.80 against the track record's 0.36, Pythia 0.23
against 0.01, Sloth 0.05 against 0.23 (lower), Gadre 0.34 (its validation fit sets are too small for any inner
backtest); see that benchmark's docstring for what else was tried. It has no free number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ..observations import Series
from ..observations.sizes import size_ranks
from .api import fit_many, law_x
from .forms import Form, get_form


@dataclass(frozen=True)
class Reliability:
    """The fit set's own evidence on how far its law extrapolates (see the module docstring)."""

    task: str
    scope: str
    form: str
    estimated_skill: float  # median over inner backtests of 1 - MAE_law / MAE_no_change (NaN: none was run)
    held: int  # inner backtests where the law did no worse than no change
    run: int  # inner backtests run
    held_to: float  # target compute / largest fitted compute, the farthest an inner backtest held (NaN: none)
    reached: float  # the farthest any inner backtest reached (the same ratio)
    mae_law: float  # over the inner predictions, in the metric's units
    mae_no_change: float
    axis: str = "compute"  # what held_to and reached are ratios of ("compute", or "size" in parameters)

    @property
    def reading(self) -> str:
        """One plain sentence for a user reading a verdict or a prediction."""
        if self.run == 0:
            return "too few sizes for an inner backtest: no track record to judge the law by"
        head = f"held in {self.held} of {self.run} inner backtest{'s' if self.run != 1 else ''}"
        if self.held == 0:
            return f"{head}; the law did worse than no change every time: do not trust it past the data"
        return f"{head}; trust to about {_ratio(self.held_to)} the fitted {self.axis}"

    def frame_row(self) -> dict:
        """One flat row (for verdicts.csv and backtest tables): the fields and the reading."""
        return {**asdict(self), "reading": self.reading}

    def to_dict(self) -> dict:
        from .result import json_safe

        return json_safe(self.frame_row())


def _ratio(r: float) -> str:
    if not np.isfinite(r):
        return "an unknown multiple of"
    return f"{r:.1f}x" if r < 10 else f"{r:.0f}x"


def held_text(r: Reliability) -> str:
    """The clause a verdict's reason carries about the law's track record on this series: how far it has held in
    backtests on its own data (e.g. "the law has held in 3 of 4 backtests on these models, out to 2.1x their
    compute")."""
    if r.run == 0:
        return "too few sizes to backtest the law on these models"
    if r.held == 0:
        return f"the law did worse than no change in all {r.run} backtests on these models"
    return (f"the law has held in {r.held} of {r.run} backtests on these models, out to {_ratio(r.held_to)} their "
            f"{r.axis}")


def _compute(series: Series) -> np.ndarray:
    """What "compute" means for the x ratio: FLOPs where every point has them, else parameters."""
    f = np.asarray(series.flops, float)
    if np.all(np.isfinite(f) & (f > 0)):
        return f
    return np.asarray(series.params, float)


def _size_ranks(series: Series) -> np.ndarray:
    p = np.asarray(series.params, float)
    return size_ranks(p if np.all(np.isfinite(p) & (p > 0)) else np.asarray(series.flops, float))


def reliability(series: Series, form: str | Form | None = None, *, min_sizes: int = 2,
                choice=None) -> Reliability:
    """Inner backtests on ``series`` (the fit set alone): see the module docstring.

    ``form`` None (the default): of the forecast ``scalecheck backtest`` makes by default (``auto``: the
    candidate laws that pass the inner backtest and no change, combined; :mod:`scalecheck.laws.select`), from
    its inner backtest (``choice``: its :class:`~scalecheck.laws.select.FormChoice` when already run). A form:
    that law alone, refitted on the k smallest sizes for every k from ``min_sizes`` on.
    """
    if form is None:
        return _of_choice(series, choice)
    law = get_form(form)
    ranks = _size_ranks(series)
    n_sizes = int(ranks.max()) + 1 if len(ranks) else 0
    need = max(law.k + 1, 3)
    compute = _compute(series)
    trains, tests = [], []
    for k in range(min_sizes, n_sizes):
        train, test = ranks < k, ranks >= k
        if train.sum() >= need and test.any():
            trains.append(train)
            tests.append(test)
    fits = fit_many([series.subset(t) for t in trains], law, loo=False) if trains else []
    held = run = 0
    held_to = reached = float("nan")
    err_law, err_nc, skills = [], [], []
    prop = series.metric_is_proportion
    for train, test, fitted in zip(trains, tests, fits, strict=True):
        if not fitted.usable:
            continue
        tgt = series.subset(test)
        with np.errstate(all="ignore"):
            p = np.asarray(fitted.predict(law_x(tgt, law)), float).reshape(len(tgt))
        if prop:
            p = np.clip(p, 0.0, 1.0)
        if not np.all(np.isfinite(p)):
            continue
        top = ranks[train].max()
        nc = float(np.mean(series.y[train & (ranks == top)]))
        e_law, e_nc = np.abs(p - tgt.y), np.abs(nc - tgt.y)
        err_law.append(e_law)
        err_nc.append(e_nc)
        m_nc = e_nc.mean()
        skills.append(1.0 - e_law.mean() / m_nc if m_nc > 0 else (0.0 if e_law.mean() == 0 else -np.inf))
        run += 1
        ratio = float(np.nanmax(compute[test]) / np.nanmax(compute[train]))
        reached = ratio if not np.isfinite(reached) else max(reached, ratio)
        if e_law.mean() <= e_nc.mean():
            held += 1
            held_to = ratio if not np.isfinite(held_to) else max(held_to, ratio)
    if run:
        mae_law, mae_nc = float(np.mean(np.concatenate(err_law))), float(np.mean(np.concatenate(err_nc)))
        skill = float(np.median(skills))
    else:
        mae_law = mae_nc = skill = float("nan")
    return Reliability(task=series.task, scope=series.scope_label, form=law.name, estimated_skill=float(skill),
                       held=held, run=run, held_to=held_to, reached=reached, mae_law=mae_law,
                       mae_no_change=mae_nc)


def _of_choice(series: Series, choice=None) -> Reliability:
    from .select import choose_forms

    if choice is None:
        choice = choose_forms([series])[0]
    track = choice.track
    held = sum(1 for law, nc, _ in track if law <= nc)
    held_to = max((r for law, nc, r in track if law <= nc), default=float("nan"))
    reached = max((r for _, _, r in track), default=float("nan"))
    mae_law = float(np.mean([t[0] for t in track])) if track else float("nan")
    mae_nc = float(np.mean([t[1] for t in track])) if track else float("nan")
    return Reliability(task=series.task, scope=series.scope_label, form="auto", estimated_skill=choice.combined_skill,
                       held=held, run=len(track), held_to=held_to, reached=reached, mae_law=mae_law,
                       mae_no_change=mae_nc, axis="size")


def expected_skill(predicted, lo, hi, no_change, level: float = 0.9) -> float:
    """The skill against no change a forecast expects of itself at its targets, before they are seen:
    ``1 - E|Y - p| / E|Y - nc|`` over the targets, Y drawn from the forecast's own predictive distribution (taken
    as normal, centred on the point forecast ``p`` with the scale of its central ``level`` interval ``lo``-``hi``)
    and ``nc`` the no-change forecast. A forecast that predicts a change small against its own uncertainty expects
    a skill near 0 (whatever it does, the target's noise decides); one that predicts a change large against it
    expects a skill near 1. Targets with any value not finite are left out; NaN when none is left."""
    p, lo, hi, nc = (np.asarray(v, float).ravel() for v in (predicted, lo, hi, no_change))
    ok = np.isfinite(p) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(nc)
    if not ok.any():
        return float("nan")
    p, nc = p[ok], nc[ok]
    sd = np.maximum((hi[ok] - lo[ok]) / (2 * stats.norm.ppf(0.5 + level / 2)), 1e-12)
    mu = np.abs(p - nc)
    e_point = sd * np.sqrt(2 / np.pi)  # E|Y - p| for Y ~ N(p, sd)
    e_nc = e_point * np.exp(-mu**2 / (2 * sd**2)) + mu * (1 - 2 * stats.norm.cdf(-mu / sd))  # folded normal
    return float(1.0 - e_point.sum() / e_nc.sum())


def estimated_skill(law, test: Series | None = None, level: float = 0.9, model=None, rows=None) -> float:
    """The estimated skill against no change of a fitted forecast, from its fit set alone.

    With the targets ``test`` (their x and groups; their scores are not read) and a forecast that carries its
    no-change member (the combined forecast of :func:`scalecheck.laws.select.fit_selected`): its
    :func:`expected_skill` there. Otherwise the forecast's inner track record (``law.choice``): NaN for a law
    fitted without an inner backtest. ``model``: the prediction model the forecast's intervals use (default: the
    calibrated one; the backtest passes the one adapted to its testbed). ``rows``: the forecast's (point, lo, hi) at
    ``test`` when the caller has them already (clipped as here), so they are not computed twice."""
    from .select import CombinedFit, NoChangeFit

    if test is not None and len(test) and isinstance(law, (CombinedFit, NoChangeFit)) and law.usable:
        nc = law if isinstance(law, NoChangeFit) else next((m for m in law.members if isinstance(m, NoChangeFit)),
                                                           None)
        if nc is not None:
            if rows is None:
                r = law.prediction_rows(test, level, model)
                rows = r["predicted"], r["lo"], r["hi"]
                if test.metric_is_proportion:
                    rows = tuple(np.clip(v, 0.0, 1.0) for v in rows)
            p, lo, hi = rows
            return expected_skill(p, lo, hi, nc.predict_groups(test.groups), level)
    choice = getattr(law, "choice", None)
    return float(choice.combined_skill) if choice is not None and getattr(choice, "track", ()) else float("nan")


def reading_of(law, skill: float | None = None) -> str:
    """The plain reading of a fitted forecast's inner track record (e.g. "held in 2 of 2 inner backtests; trust to
    about 3.1x the fitted size"), and with ``skill`` (its :func:`estimated_skill` at the targets) what it expects
    there ("; expects a skill of 0.42 against no change at these targets"); empty for a law fitted without an
    inner backtest."""
    choice = getattr(law, "choice", None)
    if choice is None or not getattr(choice, "track", ()):
        return ""
    track = choice.track
    held = sum(1 for a, b, _ in track if a <= b)
    r = Reliability(task="", scope="", form="auto", estimated_skill=choice.combined_skill, held=held, run=len(track),
                    held_to=max((x for a, b, x in track if a <= b), default=float("nan")),
                    reached=max(x for _, _, x in track), mae_law=float("nan"), mae_no_change=float("nan"),
                    axis="size")
    if skill is None or not np.isfinite(skill):
        return r.reading
    return f"{r.reading}; expects a skill of {skill:.2f} against no change at these targets"
