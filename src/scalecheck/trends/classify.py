"""Sort one series into one of six scaling behaviours as the Reality Check's readers did: by what its plot shows.

Lourie, Hu and Cho (2025) labelled each task by eye, from one scatter plot of accuracy against validation loss with
both axes scaled to the data, asking whether the points follow a law linear after a monotone transformation. The
criteria here read that plot: x and y are rescaled to [0, 1] over the data's own range, every point weighs alike,
and each criterion measures a shape in those units (a share of the visible variance, a reversal's size as a share of
the range, a rise against the scatter around it). Sampling noise, distance from chance and significance do not
decide the category: they are the statistician's caveat, in the evidence and at the end of the reason.

The criteria, in :data:`PIPELINE` order (the first that holds gives the verdict):

1. **insufficient-data**: fewer than ``MIN_MODELS`` models, a non-finite value, or every model scoring the same.
2. **non-monotonic**: two straight arms meeting at a knot (:func:`~.evidence.hinge_fit`) go opposite ways, the
   smaller arm spans ``Thresholds.reversal_range`` of the plotted range and clears the scatter around the two arms
   by :func:`null_rise_scatter` (what flat plots of as many models show in 1 draw of 20): a reversal the eye sees.
3. **trendless**: no smooth curve (the best monotone one: the exponential law or a floor-then-rise; or either arm
   of the two-arm curve) changes by ``Thresholds.trend_range`` of the plotted range while clearing its scatter by
   :func:`null_rise_scatter`: no visible trend.
4. **inverse**: the visible trend goes the wrong way (the best monotone curve falls as scale grows).
5. **breakthrough**: a floor-then-rise-then-plateau follows the points closely (it explains
   ``Thresholds.law_r2`` of the visible variance) with ``Thresholds.floor_share`` of the models on the floor, a rise done
   within ``RISE_MAX_SPAN`` of the range and ``Thresholds.plateau_share`` of the models on the plateau after it:
   flat, a jump, flat again, which an exponential in loss (bending one way only) cannot follow.
6. **noisy**: the trend is visible, but the law explains less than ``Thresholds.law_r2`` of the visible variance.
7. **predictable**: the rest: a visible rise the law follows closely.

Each criterion is a pure function of the series' read-only :class:`Reading` and a frozen :class:`Thresholds`; it
returns its :class:`Criterion` with the probability that it holds (a logistic function of its margins, in log-ratio
units, with the softness :data:`SOFTNESS` fitted on simulation). Chained in order, criterion k decides with
probability p_k x prod_{j<k}(1 - p_j): the six category probabilities (``p_predictable``, ...), mixed with
:data:`FLOOR_PROBABILITY` of the uniform. The verdict is the most probable category; where every criterion is clear
of its threshold that is the first that holds, and ``confidence`` is its probability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..laws import LawFit, fit
from ..laws.groups import fit_group_law
from ..observations import Series
from . import evidence as ev

CATEGORIES = ("predictable", "inverse", "non-monotonic", "noisy", "trendless", "breakthrough", "insufficient-data")
# The six behaviours a probability is given for (insufficient-data is a fact, not a judgement).
BEHAVIOURS = CATEGORIES[:6]

# --- constants from a principle or a simulation (none chosen with the expert labels in view) -------------------
# Fewer models cannot hold two arms of 3 (a turn) or a floor plus a rise; a 3-parameter law on 4 points has 1 dof.
MIN_MODELS = 5
# Principle: each arm of a reversal, the floor and the plateau need 3 models (two points are a line, not a trend),
# and each arm of a reversal this share of the ladder (a reversal carried by a sixth of the models is two or three
# points dipping together, which any scatter produces).
TURN_MIN_ARM_SHARE = 0.15
# Simulation (kept from the earlier classifier's, not refitted): sharp sigmoids rise within <= 0.4 of the x range,
# an exponential in loss spreads its rise over more (a median 0.55 with its own floor-then-rise fit).
RISE_MAX_SPAN = 0.4
# Principle (sampling noise), for the caveats only: a score more than this many sampling sds above chance is
# "clearly above chance", and scatter is "within sampling noise" unless its chi2 rejects at this level.
CHANCE_Z = 2.0
WITHIN_NOISE_ALPHA = 0.05
# Pooled scopes: one law for all groups (corpora, families) is rejected in favour of one law per group when the
# per-group laws fit better at this level (an F test on the exponential law) and explain at least this much more of
# the visible variance (with 100 models any two corpora differ "significantly"; a gap the eye sees is what makes the
# pooled shape a mixture). Principle, not labels: the 1e-3 guard of many tests, 5% of what the eye sees.
ALPHA_GROUPS = 1e-3
GROUPS_MIN_VISIBLE_GAIN = 0.05
GROUP_MIN_MODELS = 5
# The level a trend is called significant at in the caveat (a guard across the hundreds of series of a reality
# check); an analysis that adjusts p-values itself passes its own (``classify(alpha_trend=...)``).
ALPHA_TREND = 1e-3

# Simulation (benchmarks/classify_synthetic.py --fit-null): the 95th percentile, over flat series with Gaussian-like
# scatter, of the change a smooth curve draws through them in units of the scatter around it, by number of models:
# for the best monotone curve, and for the larger arm of the two-arm curve (each curve against its own null). With
# few points a curve through pure scatter rises several times it; a reader cannot tell such a rise from scatter, so
# a visible trend must also clear this: together the curves then show a visible trend in fewer than 1 in 10 flat
# plots. 300 draws a size (seed 1), made non-increasing in n (an isotonic fit through the simulated quantiles).
NULL_RISE_SCATTER: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "monotone": ((6, 8, 10, 12, 16, 20, 30, 40, 60, 104),
                 (2.19, 1.95, 1.95, 1.95, 1.95, 1.57, 1.49, 1.49, 1.49, 1.42)),
    "arm": ((6, 8, 10, 12, 16, 20, 30, 40, 60, 104),
            (3.98, 3.98, 3.44, 2.95, 2.9, 2.48, 2.13, 1.69, 1.57, 1.19)),
}


def null_rise_scatter(n: int, curve: str = "monotone") -> float:
    """The change (x the scatter around it) that ``curve`` ("monotone", or "arm": the larger arm of the two-arm
    curve) draws through flat series of ``n`` models in 1 draw of 20 (interpolated in ln n)."""
    ns, qs = NULL_RISE_SCATTER[curve]
    return float(np.interp(math.log(max(n, 1)), np.log(ns), qs))


# --- probabilities ------------------------------------------------------------------------------------------------
# Simulation (benchmarks/classify_synthetic.py --fit-calibration, seed 1, least log-loss; refitted after the last
# change of the criteria, 0.1 beats it by 0.002 nats, within the grid's noise): a margin of ln(value/threshold) =
# SOFTNESS gives p = 0.73 that the criterion holds...
SOFTNESS = 0.15
# ...and the sign of a visible trend: a change of a quarter of its scatter either way gives p = 0.73 of that direction.
SIGN_SOFTNESS = 0.25
# Fitted on the expert labels inside leave-one-out cross-validation (benchmarks/expert_agreement.py; the sixth number
# chosen with the labels in view): every category keeps this share of the uniform, because experts reading one plot
# differ more than simulated shapes do (on simulation alone the fit is 0).
FLOOR_PROBABILITY = 0.02


@dataclass(frozen=True)
class Thresholds:
    """The numbers chosen with the expert labels in view (the only ones: see :data:`FREE`), frozen.

    Each is a shape on the plot as drawn (axes scaled to the data), fitted to the 23 calibration labels inside
    leave-one-out cross-validation by ``benchmarks/expert_agreement.py`` over the grids in :data:`GRIDS`.
    """

    # A visible trend: a smooth curve through the points changes by at least this share of the plotted range.
    trend_range: float = 0.3
    # A law "follows closely" when it explains at least this share of the visible (unweighted) variance.
    law_r2: float = 0.6
    # A reversal's smaller arm spans at least this share of the visible range.
    reversal_range: float = 0.3
    # A breakthrough ends on a plateau holding at least this share of the models...
    plateau_share: float = 0.2
    # ...after a floor holding at least this share.
    floor_share: float = 0.15


FREE = tuple(f.name for f in fields(Thresholds))
# Every number chosen with the expert labels in view: the thresholds, and the probabilities' uniform share.
LABEL_FITTED = (*FREE, "FLOOR_PROBABILITY")
n_free_thresholds = len(LABEL_FITTED)
DEFAULT_THRESHOLDS = Thresholds()
GRIDS: dict[str, tuple[float, ...]] = {
    "trend_range": (0.25, 0.3, 0.35, 0.4),
    "law_r2": (0.4, 0.5, 0.6, 0.7),
    "reversal_range": (0.15, 0.2, 0.25, 0.3),
    "plateau_share": (0.1, 0.15, 0.2, 0.3),
    "floor_share": (0.1, 0.15, 0.2, 0.25),
}

# The evidence every verdict carries (NaN where a fit did not apply): the columns of verdicts.csv.
EVIDENCE_KEYS = (
    "n_models", "median_noise_sd", "chance", "spearman_rho", "spearman_p", "chi2_const", "chi2_exp", "chi2_red_exp",
    "exp_vs_const_p", "trend_p", "rise", "turn_x", "turn_arm_sd", "turn_arm_range", "turn_arm_scatter", "break_x",
    "floor", "floor_share", "rise_span", "plateau_share", "visible_r2_exp", "visible_r2_break", "visible_r2_smooth",
    "visible_break_gain", "visible_trend_range", "visible_rise_scatter", "rise_scatter_guard", "dispersion", "scatter_sd", "signal_to_scatter",
    "above_chance_share", "law_top_above_chance", "margin_certainty", "groups_p", "groups_visible_gain", "n_groups",
)
PROBABILITY_COLUMNS = tuple(f"p_{c.replace('-', '_')}" for c in BEHAVIOURS)


@dataclass(frozen=True)
class Criterion:
    """One criterion's finding on one series: whether it holds, the probability that it does, why, its numbers.

    ``verdict`` is the category it gives when it holds (its name unless said otherwise).
    """

    name: str
    holds: bool
    p_holds: float
    reason: str
    evidence: Mapping[str, float] = field(default_factory=dict)
    verdict: str = ""
    shape: str = ""

    @property
    def category(self) -> str:
        return self.verdict or self.name


@dataclass(frozen=True)
class Verdict:
    """The behaviour of one series, why, the probability of each behaviour, and the numbers behind it."""

    task: str
    scope: str
    category: str
    confidence: float
    reason: str
    evidence: dict[str, float]
    fit: LawFit | None = None  # the monotone law (exponential in x, or in ln x for a scale axis), weighted by noise
    shape: str = ""  # "inverted-U" or "U-shaped" for non-monotonic
    x_name: str = ""
    metric: str = ""
    law_on_log_x: bool = False  # the law was fitted against ln(x) (a scale axis, not a loss)
    notes: tuple[str, ...] = field(default_factory=tuple)
    criteria: tuple[Criterion, ...] = field(default_factory=tuple, repr=False)  # every criterion checked, in order
    criterion: str = ""  # the criterion that gave the verdict (its name in PIPELINE)
    # For a pooled scope whose groups follow visibly different laws (see groups_disagree): each group's verdict.
    group_verdicts: tuple[tuple[str, str], ...] = ()
    probabilities: Mapping[str, float] = field(default_factory=dict)  # category -> probability (six behaviours)
    caveat: str = ""  # the statistician's reading beside the plot's: sampling noise, chance, significance

    def law(self, x: np.ndarray) -> np.ndarray:
        """The fitted monotone law at ``x`` (in the series' own units), NaN if none was fitted."""
        x = np.asarray(x, float)
        if self.fit is None or not self.fit.usable:
            return np.full(x.shape, np.nan)
        return np.asarray(self.fit.predict(ev.law_axis(x, not self.law_on_log_x)), float)

    @property
    def runner_up(self) -> tuple[str, float]:
        """The second most probable behaviour and its probability (("", 0) without probabilities)."""
        ranked = sorted(self.probabilities.items(), key=lambda kv: -kv[1])
        return ranked[1] if len(ranked) > 1 else ("", 0.0)

    def summary(self) -> pd.DataFrame:
        """One row: task, scope, category, confidence, shape, the runner-up behaviour and its probability, the
        reason and the caveat (``RealityCheck.frame`` has every verdict's evidence too). ``str(verdict)`` is the
        same in a line of text."""
        second, p_second = self.runner_up
        return pd.DataFrame([{"task": self.task, "scope": self.scope, "category": self.category,
                              "confidence": float(self.confidence), "shape": self.shape, "runner_up": second,
                              "p_runner_up": float(p_second), "reason": self.reason, "caveat": self.caveat}])

    def __str__(self) -> str:
        return f"{self.task} ({self.scope}): {self.category} ({self.confidence:.2f}) - {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        d = {"task": self.task, "scope": self.scope, "category": self.category,
             "confidence": round(float(self.confidence), 4), "shape": self.shape, "x": self.x_name,
             "metric": self.metric, "reason": self.reason, "caveat": self.caveat, "notes": list(self.notes),
             "group_verdicts": dict(self.group_verdicts)}
        d.update({col: round(float(self.probabilities.get(c, math.nan)), 4) if self.probabilities else None
                  for c, col in zip(BEHAVIOURS, PROBABILITY_COLUMNS, strict=True)})
        d.update({k: _plain(v) for k, v in self.evidence.items()})
        d["law"] = self.fit.to_dict() if self.fit is not None and self.fit.usable else None
        return d


def _plain(v: float) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _sure(value: float, threshold: float, softness: float | None = None) -> float:
    """Probability that ``value >= threshold`` holds on the plot: logistic in ln(value / threshold)."""
    softness = SOFTNESS if softness is None else softness
    if math.isnan(value) or math.isnan(threshold):
        return 0.5
    if value <= 0 or threshold <= 0:
        return 1.0 if value > threshold else 0.0 if value < threshold else 0.5
    m = math.log(value / threshold) / softness
    return 1.0 / (1.0 + math.exp(-max(min(m, 50.0), -50.0)))


def _visible_r2(z: np.ndarray, fitted: np.ndarray) -> float:
    """Share of the visible (unweighted) variance a fit explains: what the eye judges on a plot scaled to the data."""
    sst = float(np.sum((z - z.mean()) ** 2))
    return 1.0 - float(np.sum((z - fitted) ** 2)) / sst if sst > 0 else float("nan")


def _fit_law(series: Series, o: ev.Oriented, seed: int,
             forms: tuple[tuple[str, int], ...] = (("exponential", 3), ("linear", 2)), weighted: bool = True,
             grouping: str = "auto") -> tuple[LawFit | None, np.ndarray, int]:
    """The monotone law in the series' own units: exponential (or linear if the exponential fails).

    Returns the fit, its prediction in z units (sorted as ``o``) and its number of parameters. The verdict's law
    (``weighted``) of a series of several corpora or families is group-aware
    (:func:`scalecheck.laws.groups.fit_group_law`, pooled/offsets/separate by BIC): where BIC picks offsets or a
    law per group, the prediction is each point's own group's law and the parameters count the groups', and the
    fit returned is the shared shape (offsets: the groups' average law) or the pooled law (separate), the curve a
    figure of all groups draws. The eye's unweighted curve stays pooled: the verdict reads the pooled plot.
    """
    if weighted and grouping != "pooled" and len(set(series.groups)) > 1:
        try:
            with np.errstate(all="ignore"):
                gl = fit_group_law(series, forms[0][0], grouping, seed=seed, loo=False)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            gl = None
        if gl is not None and gl.mode != "pooled" and gl.usable:
            pred = np.asarray(gl.fitted(series), float)[o.order]
            if np.all(np.isfinite(pred)):
                return gl.law, o.sign * pred, gl.n_params
    xl = ev.law_axis(np.asarray(series.x, float)[o.order], series.x_is_loss)
    y = np.asarray(series.y, float)[o.order]
    sigma = o.s if weighted else None
    for form, k in forms:
        try:
            # Degenerate curvatures overflow inside the fit's covariance; the fit reports them as unusable, so the
            # warnings would only reach the console.
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                law = fit(xl, y, form, sigma=sigma, seed=seed, loo=False)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        if law.usable:
            pred = np.asarray(law.predict(xl), float)
            if np.all(np.isfinite(pred)):
                return law, o.sign * pred, k
    return None, np.full(len(y), np.nan), 3


@dataclass(frozen=True)
class Curve:
    """A smooth curve through the plot (axes scaled to [0, 1]): its values, parameters and what the eye reads."""

    fitted: np.ndarray
    k: int

    def scatter(self, Z: np.ndarray) -> float:
        """rms distance of the points from the curve, per degree of freedom (in shares of the visible range)."""
        dof = max(len(Z) - self.k, 1)
        return float(np.sqrt(np.sum((Z - self.fitted) ** 2) / dof))

    @property
    def rise(self) -> float:
        """The change the curve draws between the second smallest and the second largest model (principle: a trend
        no single model carries; an exponential bent through one outlying end point is no visible trend)."""
        i = 1 if len(self.fitted) >= 6 else 0
        return float(self.fitted[-1 - i] - self.fitted[i])


@dataclass(frozen=True)
class Reading:
    """What the criteria read off one series, computed once and read-only.

    ``U`` and ``Z`` are the plot's own units: scale and "better" both growing, each rescaled to [0, 1] over the
    data's range. ``law`` is the noise-weighted exponential (the verdict's law, for figures and predictions);
    the other curves are unweighted, as the eye weighs every point alike.
    """

    series: Series
    o: ev.Oriented
    U: np.ndarray
    Z: np.ndarray
    law: LawFit | None
    zhat: np.ndarray  # the weighted law in z units (sorted as o)
    k_law: int
    law_vis: Curve | None  # the unweighted exponential in Z units
    ramp_up: ev.RampFit | None  # floor-then-rise(-then-plateau), unweighted, in Z units
    ramp_down: ev.RampFit | None  # the same for a fall (fitted to 1 - Z)
    hinge: ev.HingeFit | None  # two straight arms, unweighted, in Z units
    monotone: Curve  # the smooth monotone curve that fits best (law or ramp)
    trends: tuple[tuple[float, float, float], ...]  # (share of the range, x the scatter, its null) of each change
    values: Mapping[str, float]  # the evidence (EVIDENCE_KEYS)

    @property
    def n(self) -> int:
        return len(self.Z)

    def __getitem__(self, key: str) -> float:
        return self.values[key]


def read(series: Series, seed: int = 0) -> Reading:
    """Orient and rescale a series, fit every curve the criteria read, and gather the evidence (once)."""
    n = len(series)
    o = ev.orient(series)
    u, z = o.u, o.z
    U = (u - u[0]) / (u[-1] - u[0])
    lo, span = float(z.min()), float(np.ptp(z))
    Z = (z - lo) / span
    e = {k: float("nan") for k in EVIDENCE_KEYS}
    e["n_models"] = float(n)
    sd_point = float(np.median(o.s))
    e["median_noise_sd"], e["chance"] = sd_point, series.chance
    law, zhat, k_law = _read_weighted(series, o, seed, e)
    # What the eye sees: unweighted curves in the plot's units.
    law_v, zv, k_v = _fit_law(series, o, seed, weighted=False)
    law_vis = Curve((zv - lo) / span, k_v) if law_v is not None else None
    ones = np.ones(n)
    ramp_up, ramp_down = ev.ramp_fit(U, Z, ones), ev.ramp_fit(U, 1.0 - Z, ones)
    curves = [c for c in (law_vis,
                          Curve(ramp_up.fitted, ramp_up.n_params + 1) if ramp_up is not None else None,
                          Curve(1.0 - ramp_down.fitted, ramp_down.n_params + 1) if ramp_down is not None else None)
              if c is not None]
    if not curves:  # fewer than three distinct x: a straight line is all a plot can show
        slope = np.polyfit(U, Z, 1)
        curves = [Curve(np.polyval(slope, U), 2)]
    monotone = min(curves, key=lambda c: c.scatter(Z))
    hinge = ev.hinge_fit(U, Z, max(ev.MIN_ARM_POINTS, math.ceil(TURN_MIN_ARM_SHARE * n)))
    e["visible_r2_exp"] = _visible_r2(Z, law_vis.fitted) if law_vis is not None else 0.0
    e["visible_r2_smooth"] = max(_visible_r2(Z, c.fitted) for c in curves)
    cands = _read_visible_trend(Z, monotone, hinge, e)
    _read_scatter(o, Z, span, monotone, law, zhat, e)
    if ramp_up is not None:
        _read_breakthrough(series, o, u, U, Z, lo, span, ramp_up, e)
    if hinge is not None:
        _read_turn(series, u, Z, span, sd_point, hinge, e)
    return Reading(series, o, U, Z, law, zhat, k_law, law_vis, ramp_up, ramp_down, hinge, monotone, tuple(cands),
                   MappingProxyType(e))


def _read_weighted(series: Series, o: ev.Oriented, seed: int, e: dict) -> tuple[LawFit | None, np.ndarray, int]:
    """The noise-weighted statistics (into ``e``): rank correlation, the constant, the weighted law (the
    verdict's law, returned with its fitted z and parameter count) and the ramp, and the trend's p-value."""
    u, z, w, n = o.u, o.z, o.w, len(series)
    rho, p_rho = ev.spearman(u, z)
    e["spearman_rho"], e["spearman_p"] = rho, p_rho
    _, chi2_const = ev.constant_fit(z, w)
    e["chi2_const"] = chi2_const
    law, zhat, k_law = _fit_law(series, o, seed)
    p_law = 1.0
    if law is not None:
        chi2_law = ev.chi2_of(z, zhat, w)
        e["chi2_exp"] = chi2_law
        e["chi2_red_exp"] = chi2_law / (n - k_law) if n > k_law else float("nan")
        p_law = ev.nested_p(chi2_const, 1, chi2_law, k_law, n)
        e["exp_vs_const_p"] = p_law
        e["rise"] = float(zhat[-1] - zhat[0])
    ramp_w = ev.ramp_fit(u, z, w)
    p_ramp = ev.nested_p(chi2_const, 1, ramp_w.chi2, ramp_w.n_params + 1, n) if ramp_w is not None else 1.0
    e["trend_p"] = min(p_law, p_rho, p_ramp)
    return law, zhat, k_law


def _read_visible_trend(Z: np.ndarray, monotone: Curve, hinge, e: dict) -> list[tuple[float, float, float]]:
    """The visible trend: the largest change a smooth curve draws (the monotone curve's rise, or either straight arm
    of the two-arm curve), as a share of the plotted range and against the scatter around that curve."""
    n = len(Z)
    cands = [(abs(monotone.rise), abs(monotone.rise) / max(monotone.scatter(Z), 1e-12), null_rise_scatter(n))]
    if hinge is not None:
        h_sc = max(Curve(hinge.fitted, 4).scatter(Z), 1e-12)
        arm_guard = null_rise_scatter(n, "arm")
        cands += [(abs(hinge.left), abs(hinge.left) / h_sc, arm_guard),
                  (abs(hinge.right), abs(hinge.right) / h_sc, arm_guard)]
    shown = max(cands, key=lambda c: c[0] * c[1] / c[2])
    e["visible_trend_range"], e["visible_rise_scatter"], e["rise_scatter_guard"] = shown
    return cands


def _read_scatter(o: ev.Oriented, Z: np.ndarray, span: float, monotone: Curve, law, zhat, e: dict) -> None:
    """The scatter around the best monotone curve, against sampling noise (the caveat), and the share above
    chance."""
    n, z = len(Z), o.z
    resid = Z - monotone.fitted
    e["scatter_sd"] = float(np.sqrt(np.mean(resid**2))) * span
    e["signal_to_scatter"] = e["visible_rise_scatter"]
    # How the scatter compares with sampling noise (the caveat): chi2/dof of the best curve, in z units.
    if o.noise_source != "estimated":
        e["dispersion"] = float(np.sum(o.w * (resid * span) ** 2) / max(n - monotone.k, 1))
    if np.isfinite(o.chance):
        above = z - o.chance > CHANCE_Z * o.s
        e["above_chance_share"] = float(np.mean(above))
        if law is not None:
            e["law_top_above_chance"] = float(np.max(zhat) - o.chance)


def _read_breakthrough(series: Series, o: ev.Oriented, u, U, Z, lo: float, span: float, ramp_up, e: dict) -> None:
    """Breakthrough shape: the unweighted floor-then-rise-then-plateau."""
    e["floor_share"] = ramp_up.floor_share
    e["rise_span"] = (min(ramp_up.u1, 1.0) - ramp_up.u0)
    e["plateau_share"] = float(np.mean(U > ramp_up.u1))
    e["visible_r2_break"] = _visible_r2(Z, ramp_up.fitted)
    e["visible_break_gain"] = e["visible_r2_break"] - e["visible_r2_exp"]
    u0 = u[0] + ramp_up.u0 * (u[-1] - u[0])
    e["break_x"] = float(-u0 if series.x_is_loss else math.exp(u0))
    e["floor"] = o.sign * (lo + span * ramp_up.floor)


def _read_turn(series: Series, u, Z, span: float, sd_point: float, hinge, e: dict) -> None:
    """Reversal: two straight arms."""
    arm = min(abs(hinge.left), abs(hinge.right)) if hinge.reverses else 0.0
    e["turn_arm_range"] = arm
    e["turn_arm_scatter"] = arm / max(Curve(hinge.fitted, 4).scatter(Z), 1e-12)
    e["turn_arm_sd"] = arm * span / sd_point
    knot_u = u[0] + hinge.knot * (u[-1] - u[0])
    e["turn_x"] = float(-knot_u if series.x_is_loss else math.exp(knot_u))


# --- the criteria: pure functions of (Reading, Thresholds) -> Criterion ------------------------------------------

def criterion_insufficient(series: Series) -> Criterion:
    """1. insufficient-data: too few models, values missing, or nothing varies (on the series itself)."""
    n = len(series)
    y, x = np.asarray(series.y, float), np.asarray(series.x, float)
    why = ""
    if n < MIN_MODELS:
        why = f"only {n} models with a score (at least {MIN_MODELS} needed)"
    elif not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))) or (not series.x_is_loss and np.any(x <= 0)):
        why = "some scores or x values are missing or not finite"
    elif np.ptp(y) == 0:
        why = f"every model scores the same ({y[0]:.3g})"
    elif np.ptp(x) == 0:
        why = f"every model has the same {series.x_name}"
    return Criterion("insufficient-data", bool(why), 1.0 if why else 0.0, why)


def criterion_non_monotonic(r: Reading, th: Thresholds) -> Criterion:
    """2. non-monotonic: two straight arms going opposite ways, the smaller one large on the plot."""
    h = r.hinge
    if h is None or not h.reverses:
        return Criterion("non-monotonic", False, 0.0, "no reversal: a straight-armed turn goes one way")
    arm, arm_scatter = r["turn_arm_range"], r["turn_arm_scatter"]
    guard = null_rise_scatter(r.n, "arm")
    p = min(_sure(arm, th.reversal_range), _sure(arm_scatter, guard))
    holds = arm >= th.reversal_range and arm_scatter >= guard
    shape = "inverted-U" if h.left > 0 else "U-shaped"
    where = "better then worse" if shape == "inverted-U" else "worse then better"
    reason = (f"{shape}: {where} as scale grows, turning near {r.series.x_name} = {r['turn_x']:.3g}; the smaller "
              f"arm spans {arm:.0%} of the plotted range and {arm_scatter:.1f}x the scatter around the two arms")
    return Criterion("non-monotonic", bool(holds), p, reason, shape=shape)


def criterion_trendless(r: Reading, th: Thresholds) -> Criterion:
    """3. trendless: no smooth curve draws a change of ``trend_range`` of the plotted range that also clears the
    scatter around it (by :func:`null_rise_scatter`: what flat plots of as many models show in 1 of 20)."""
    p_trend = max(min(_sure(size, th.trend_range), _sure(ratio, guard)) for size, ratio, guard in r.trends)
    holds = not any(size >= th.trend_range and ratio >= guard for size, ratio, guard in r.trends)
    size, ratio, guard = r["visible_trend_range"], r["visible_rise_scatter"], r["rise_scatter_guard"]
    reason = (f"no visible trend: the largest change a smooth curve draws spans {size:.0%} of the plotted range and "
              f"{ratio:.1f}x the scatter around it (a visible trend: {th.trend_range:.0%} and {guard:.1f}x)")
    return Criterion("trendless", bool(holds), 1.0 - p_trend, reason)


def criterion_inverse(r: Reading, th: Thresholds) -> Criterion:
    """4. inverse: the visible trend goes the wrong way."""
    signed = r.monotone.rise / max(r.monotone.scatter(r.Z), 1e-12)
    p = 1.0 / (1.0 + math.exp(-max(min(-signed / SIGN_SOFTNESS, 50.0), -50.0)))
    reason = (f"worse as scale grows: the smooth curve falls by {abs(r.monotone.rise):.0%} of the plotted range, "
              f"{abs(signed):.1f}x the scatter around it")
    return Criterion("inverse", bool(r.monotone.rise < 0), p, reason)


def criterion_breakthrough(r: Reading, th: Thresholds) -> Criterion:
    """5. breakthrough: flat, a sharp jump, flat again, followed closely by the floor-then-rise."""
    if r.ramp_up is None:
        return Criterion("breakthrough", False, 0.0, "no floor-then-rise fits")
    floor, span, plateau, r2 = r["floor_share"], r["rise_span"], r["plateau_share"], r["visible_r2_break"]
    p = min(_sure(floor, th.floor_share), _sure(RISE_MAX_SPAN, max(span, 1e-9)), _sure(plateau, th.plateau_share),
            _sure(r2, th.law_r2))
    holds = floor >= th.floor_share and span <= RISE_MAX_SPAN and plateau >= th.plateau_share and r2 >= th.law_r2
    reason = (f"flat for {floor:.0%} of the models, then a sharp rise (within {span:.0%} of the range) after "
              f"{r.series.x_name} = {r['break_x']:.3g}, then flat again for {plateau:.0%} of the models, which no "
              f"exponential follows (the floor-then-rise explains {r2:.0%} of the visible variance, the exponential "
              f"{r['visible_r2_exp']:.0%})")
    return Criterion("breakthrough", bool(holds), p, reason)


def criterion_noisy(r: Reading, th: Thresholds) -> Criterion:
    """6. noisy: a visible trend the law does not follow closely on the plot."""
    r2 = r["visible_r2_exp"]
    reason = (f"a visible trend ({r['visible_rise_scatter']:.1f}x the scatter), but the law explains only {r2:.0%} "
              "of the visible variance: the scatter around it is large on the plot")
    return Criterion("noisy", bool(r2 < th.law_r2), 1.0 - _sure(r2, th.law_r2), reason)


def criterion_predictable(r: Reading, th: Thresholds) -> Criterion:
    """7. predictable: the rest, a visible rise the law follows closely (holds whenever it is reached)."""
    form = r.law.form if r.law is not None else "law"
    reason = (f"improves steadily: the {form} law explains {r['visible_r2_exp']:.0%} of the visible variance and "
              f"the rise is {r['visible_rise_scatter']:.1f}x the scatter around it")
    return Criterion("predictable", True, 1.0, reason)


# The criteria after insufficient-data, in the order they are applied: the first that holds gives the verdict.
PIPELINE: tuple[Callable[[Reading, Thresholds], Criterion], ...] = (
    criterion_non_monotonic, criterion_trendless, criterion_inverse, criterion_breakthrough, criterion_noisy,
    criterion_predictable)


def chain_probabilities(checked: tuple[Criterion, ...]) -> dict[str, float]:
    """The six category probabilities of criteria checked in order: p_k x prod_{j<k}(1 - p_j), floored."""
    probs = dict.fromkeys(BEHAVIOURS, 0.0)
    rest = 1.0
    for c in checked:
        probs[c.category] += rest * c.p_holds
        rest *= 1.0 - c.p_holds
    probs["predictable"] += rest  # the last criterion holds always; kept for rounding
    total = sum(probs.values())
    return {k: (1 - FLOOR_PROBABILITY) * v / total + FLOOR_PROBABILITY / len(BEHAVIOURS) for k, v in probs.items()}


def caveat(r: Reading, category: str, alpha_trend: float = ALPHA_TREND) -> str:
    """The statistician's reading beside the plot's: whether sampling noise could explain the picture, how far the
    scores sit from chance, and whether the trend is significant."""
    s = r.series
    n_ex = np.asarray(s.n_examples, float)
    size = (f"{np.nanmedian(n_ex):.0f} examples" if np.isfinite(n_ex).any() else "the reported standard errors")
    disp, p = r["dispersion"], r["trend_p"]
    parts = []
    if r.o.noise_source == "estimated":
        parts.append("no sampling noise is known (estimated from the scatter), so noise and signal cannot be told "
                     "apart")
    elif category in ("noisy", "trendless", "non-monotonic") and np.isfinite(disp):
        dof = max(r.n - r.monotone.k, 1)
        if stats.chi2.sf(disp * dof, dof) >= WITHIN_NOISE_ALPHA:
            parts.append(f"the scatter is within sampling noise for {size}: more examples would decide")
        else:
            parts.append(f"the scatter is {disp:.1f}x the sampling variance for {size}: the models differ beyond "
                         "sampling noise")
    if category in ("trendless",) and p < alpha_trend:
        parts.append(f"a drift too small to see is significant (p = {p:.2g})")
    elif category in ("predictable", "inverse", "noisy", "breakthrough") and p >= alpha_trend:
        parts.append(f"the trend is not significant at {alpha_trend:g} (p = {p:.2g}): more models or examples "
                     "would decide")
    elif category == "non-monotonic" and np.isfinite(r["turn_arm_sd"]) and r["turn_arm_sd"] < 3:
        parts.append(f"the smaller arm is only {r['turn_arm_sd']:.1f} sampling sds: more examples would decide")
    share = r["above_chance_share"]
    if np.isfinite(share) and share < 0.5:
        parts.append(f"only {share:.0%} of the models score clearly above chance (by {CHANCE_Z:g} sampling sds)")
    elif np.isfinite(share) and category == "trendless":
        parts.append(f"{share:.0%} of the models score clearly above chance (by {CHANCE_Z:g} sampling sds)")
    return "; ".join(parts)


def classify(series: Series, *, seed: int = 0, thresholds: Thresholds | Mapping[str, float] | None = None,
             alpha_trend: float = ALPHA_TREND) -> Verdict:
    """Classify one series into one of :data:`CATEGORIES` (see the module docstring for the criteria).

    Runs :func:`criterion_insufficient`, then reads the series once (:func:`read`) and checks every criterion of
    :data:`PIPELINE`; the verdict is the most probable category of the chain, with its probability as
    ``confidence``; ``Verdict.criteria`` keeps every criterion checked. ``thresholds`` overrides the free numbers
    (a :class:`Thresholds`, or a mapping of its field names). ``alpha_trend`` is the level at which the caveat calls
    a trend significant (an analysis that adjusts p-values over many series passes its own).
    """
    th = _thresholds(thresholds)
    base = dict(task=series.task, scope=series.scope_label, x_name=series.x_name, metric=series.metric,
                law_on_log_x=not series.x_is_loss)
    first = criterion_insufficient(series)
    if first.holds:
        e = {k: float("nan") for k in EVIDENCE_KEYS}
        e["n_models"] = float(len(series))
        return Verdict(category="insufficient-data", confidence=1.0, reason=first.reason, evidence=e, **base,
                       criteria=(first,), criterion=first.name)
    r = read(series, seed)
    checked = tuple(c(r, th) for c in PIPELINE)
    probs = chain_probabilities(checked)
    category = max(BEHAVIOURS, key=lambda c: (probs[c], -BEHAVIOURS.index(c)))
    deciding = next(c for c in checked if c.category == category and (c.holds or c.name != "predictable"))
    hard = next(c for c in checked if c.holds)
    e = dict(r.values)
    e["margin_certainty"] = probs[category]
    reason = deciding.reason
    runner, p_runner = sorted(((c, p) for c, p in probs.items() if c != category), key=lambda kv: -kv[1])[0]
    if p_runner >= 0.25:
        other = next((c for c in checked if c.category == runner), None)
        reason = (f"{category} ({probs[category]:.2f}), or {runner} ({p_runner:.2f}): {deciding.reason}"
                  + (f"; or else {other.reason}" if other is not None else ""))
    note = caveat(r, category, alpha_trend)
    if note:
        reason = f"{reason}. Caveat: {note}"
    shape = next((c.shape for c in checked if c.name == "non-monotonic"), "") if category == "non-monotonic" else ""
    notes = (f"noise sd {r.o.noise_source}",) + (() if hard.category == category else
                                                  (f"first criterion to hold: {hard.name}",))
    return Verdict(category=category, confidence=float(probs[category]), reason=reason, evidence=e, fit=r.law,
                   shape=shape, notes=notes, criteria=(first, *checked), criterion=deciding.name,
                   probabilities=MappingProxyType(probs), caveat=note, **base)


def _thresholds(given: Thresholds | Mapping[str, float] | None) -> Thresholds:
    if given is None:
        return DEFAULT_THRESHOLDS
    if isinstance(given, Thresholds):
        return given
    unknown = set(given) - set(FREE)
    if unknown:
        raise ValueError(f"only the free thresholds ({', '.join(FREE)}) can be overridden, not {sorted(unknown)}")
    return replace(DEFAULT_THRESHOLDS, **{k: float(v) for k, v in given.items()})


def groups_disagree(series: Series, *, seed: int = 0) -> Criterion:
    """Whether the groups of a pooled series (its ``groups``: corpus or family) follow visibly different laws.

    Fits the exponential law once to all points and once per group (each with >= ``GROUP_MIN_MODELS`` models), and
    tests one law for all against one per group (``ev.nested_p``: an F test once the scatter exceeds sampling noise).
    Holds when that test rejects at ``ALPHA_GROUPS`` and the per-group laws explain ``GROUPS_MIN_VISIBLE_GAIN`` more
    of the visible variance. Evidence: ``groups_p``, ``groups_visible_gain``, ``n_groups``.
    """
    names = sorted(set(series.groups))
    counts = {g: sum(1 for h in series.groups if h == g) for g in names}
    kept = [g for g in names if counts[g] >= GROUP_MIN_MODELS]
    nothing = dict(groups_p=float("nan"), groups_visible_gain=float("nan"), n_groups=float(len(kept)))
    if len(kept) < 2 or criterion_insufficient(series).holds:
        return Criterion("groups-disagree", False, 0.0, "fewer than two groups with enough models", nothing)
    mask = np.isin(np.asarray(series.groups, object), kept)
    pooled = series.subset(mask)
    o = ev.orient(pooled)
    law, zhat, k = _fit_law(pooled, o, seed, grouping="pooled")  # the one law the test sets against
    if law is None:
        return Criterion("groups-disagree", False, 0.0, "no law fits the pooled series", nothing)
    groups_sorted = np.asarray(pooled.groups, object)[o.order]
    zsplit = np.full(len(o.z), np.nan)
    k_split = 0
    for g in kept:
        sub = pooled.subset(np.asarray(pooled.groups, object) == g)
        og = ev.orient(sub)
        lg, zg, kg = _fit_law(sub, og, seed)
        if lg is None:
            return Criterion("groups-disagree", False, 0.0, f"no law fits group {g}", nothing)
        zsplit[groups_sorted == g] = zg  # both sorted by u (stable), so the group's points line up
        k_split += kg
    chi2_one, chi2_split = ev.chi2_of(o.z, zhat, o.w), ev.chi2_of(o.z, zsplit, o.w)
    p = ev.nested_p(chi2_one, k, chi2_split, k_split, len(o.z))
    gain = _visible_r2(o.z, zsplit) - _visible_r2(o.z, zhat)
    found = dict(groups_p=p, groups_visible_gain=gain, n_groups=float(len(kept)))
    holds = bool(p < ALPHA_GROUPS and gain >= GROUPS_MIN_VISIBLE_GAIN)
    cert = _sure(ALPHA_GROUPS, max(p, 1e-300), 1.0) * _sure(gain, GROUPS_MIN_VISIBLE_GAIN)
    reason = (f"the {len(kept)} groups follow different laws: one law per group fits better (p = {p:.2g}) and "
              f"explains {gain:.0%} more of the visible variance, so the pooled shape is a mixture"
              if holds else
              f"one law serves all {len(kept)} groups (per-group laws: p = {p:.2g}, {gain:+.0%} of the visible variance)")
    return Criterion("groups-disagree", holds, cert, reason, found)


# Every constant by name (for reports and READMEs): the free thresholds (their defaults), then the rest.
THRESHOLDS: dict[str, float] = {**asdict(DEFAULT_THRESHOLDS), **{
    name: float(value) for name, value in list(globals().items())
    if name.isupper() and isinstance(value, (int, float)) and not isinstance(value, bool)}}
