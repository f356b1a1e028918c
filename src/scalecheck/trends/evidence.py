"""The shape tests behind a verdict: orientation, monotone (isotonic) fits, turns, floor-then-rise breaks.

Everything here works on an *oriented* series: ``u`` grows with scale (``-loss`` for a validation loss, the
natural log of a scale axis) and ``z`` grows as the metric gets better (``-y`` where lower is better). This module
is the one place that orientation is decided (:func:`law_axis`, :func:`scale_axis`, :func:`better_sign`); the
classifier's law, the sensitivity analysis' trend sign and the figures' axes all use it. All fits
are weighted by the inverse sampling variance ``w = 1/s**2``, so every ``chi2`` is in units of sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import isotonic_regression

from ..observations import Series
from ..observations.series import law_axis  # noqa: F401  (one definition; re-exported for the criteria)

# A reported stderr of exactly 0 (or a binomial sd at p=0 with huge n) would make one point infinitely
# trusted; 1e-4 is below any accuracy resolution a benchmark of <= 10^6 examples can report.
MIN_NOISE_SD = 1e-4
# A monotone arm (of a turn) or a floor needs at least this many models: two points are a line, not a trend.
MIN_ARM_POINTS = 3


@dataclass(frozen=True)
class Oriented:
    """A series turned so that scale grows with ``u`` and better is up in ``z`` (sorted by ``u``)."""

    u: np.ndarray
    z: np.ndarray
    s: np.ndarray
    chance: float  # in z units; NaN when unknown
    order: np.ndarray  # indices into the series' points, small model first
    sign: float  # z = sign * y
    noise_source: str  # "reported", "binomial", "mixed" or "estimated"

    @property
    def w(self) -> np.ndarray:
        return 1.0 / self.s**2


def scale_axis(x, x_is_loss: bool) -> np.ndarray:
    """u, growing with scale: minus the loss, or the natural log of a scale axis (the same base as the law's)."""
    xl = law_axis(x, x_is_loss)
    return -xl if x_is_loss else xl


def better_sign(higher_is_better: bool) -> float:
    """z = sign * y grows as the metric gets better."""
    return 1.0 if higher_is_better else -1.0


def scale_grows_right(x_is_loss: bool) -> bool:
    """Whether plotting x as it is puts larger models to the right (no: a loss falls as scale grows)."""
    return not x_is_loss


def orient(series: Series) -> Oriented:
    """Orient a series (see the module docstring) and settle each point's sampling sd."""
    u = scale_axis(series.x, series.x_is_loss)
    sign = better_sign(series.higher_is_better)
    z = sign * np.asarray(series.y, float)
    sd = np.asarray(series.noise_sd, float)
    reported = ~np.isnan(np.asarray(series.stderr, float))
    order = np.argsort(u, kind="mergesort")
    u, z, sd, reported = u[order], z[order], sd[order], reported[order]
    if np.all(np.isnan(sd)):
        # No stderr and no n_examples (or a metric that is not a proportion): estimate the noise from the
        # scatter of neighbouring points (differences cancel any smooth trend), so fits stay weighted sensibly;
        # such a series cannot be called noisy, because the yardstick comes from its own scatter.
        sd = np.full(len(z), neighbour_sd(z))
        source = "estimated"
    else:
        sd = np.where(np.isnan(sd), np.nanmedian(sd), sd)
        source = "reported" if reported.all() else ("binomial" if not reported.any() else "mixed")
    chance = sign * series.chance if np.isfinite(series.chance) else float("nan")
    return Oriented(u, z, np.maximum(sd, MIN_NOISE_SD), float(chance), order, sign, source)


def neighbour_sd(z: np.ndarray) -> float:
    """Robust sd of points around a smooth trend: MAD of successive differences / sqrt(2)."""
    d = np.diff(np.asarray(z, float))
    if len(d) == 0:
        return MIN_NOISE_SD
    mad = stats.median_abs_deviation(d, scale="normal")  # MAD x 1.4826: the sd of a normal
    return float(max(mad / np.sqrt(2), MIN_NOISE_SD))


def chi2_of(z: np.ndarray, fitted: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * (z - fitted) ** 2))


def constant_fit(z: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and its chi2: the no-trend model."""
    m = float(np.sum(w * z) / np.sum(w))
    return m, chi2_of(z, np.full(len(z), m), w)


@dataclass(frozen=True)
class MonotoneFit:
    """An isotonic (or umbrella) fit: the best fit under an order constraint alone, no functional form."""

    fitted: np.ndarray
    chi2: float
    n_blocks: int  # distinct levels: the fit's effective number of parameters
    mode: int = -1  # umbrella only: index of the last point of the turn's block
    shape: str = ""  # "increasing", "decreasing", "inverted-U" or "U-shaped"


def isotonic_fit(z: np.ndarray, w: np.ndarray, increasing: bool = True) -> MonotoneFit:
    r = isotonic_regression(z, weights=w, increasing=increasing)
    return MonotoneFit(r.x, chi2_of(z, r.x, w), len(r.blocks) - 1, shape="increasing" if increasing else "decreasing")


def umbrella_fit(z: np.ndarray, w: np.ndarray, peak: bool = True, min_arm: int = MIN_ARM_POINTS) -> MonotoneFit | None:
    """Best single-turn fit: non-decreasing then non-increasing (``peak``) or the reverse, both arms
    having at least ``min_arm`` points. ``None`` when the series is too short for two arms."""
    n = len(z)
    best = None
    for m in range(min_arm - 1, n - min_arm):
        left = isotonic_regression(z[: m + 1], weights=w[: m + 1], increasing=peak)
        right = isotonic_regression(z[m + 1:], weights=w[m + 1:], increasing=not peak)
        fitted = np.concatenate([left.x, right.x])
        c = chi2_of(z, fitted, w)
        if best is None or c < best[0]:
            best = (c, fitted, m, len(left.blocks) + len(right.blocks) - 2)
    if best is None:
        return None
    c, fitted, m, k = best
    # The turn is where the fitted curve reaches its extreme (the first point of that level).
    ext = int(np.argmax(fitted) if peak else np.argmin(fitted))
    return MonotoneFit(fitted, c, k, mode=ext, shape="inverted-U" if peak else "U-shaped")


@dataclass(frozen=True)
class RampFit:
    """Flat at ``floor`` up to ``u0``, a straight rise to ``u1`` (``inf``: no plateau), flat after.

    The breakthrough model: a floor for the small models, then a sharp rise.
    """

    floor: float
    floor_se: float
    rise: float  # fitted gain from the floor to the largest model
    u0: float
    u1: float
    chi2: float
    fitted: np.ndarray
    floor_share: float  # share of models at or before the break
    n_params: int  # 3 for a hinge (floor, slope, break), 4 with a plateau


MAX_BREAK_CANDIDATES = 40


def _thin(values: np.ndarray, k: int) -> np.ndarray:
    """At most k evenly spaced (by rank) members of a sorted array, keeping both ends."""
    if len(values) <= k:
        return values
    return values[np.unique(np.linspace(0, len(values) - 1, k).round().astype(int))]


def ramp_fit(u: np.ndarray, z: np.ndarray, w: np.ndarray, min_floor: int = MIN_ARM_POINTS - 1,
             min_rise: int = 2) -> RampFit | None:
    """Least-squares floor-then-rise over every break (and plateau start) between observed points.

    For each candidate (u0, u1) the shape g = clip((u-u0)/(u1-u0), 0, 1) (or max(u-u0, 0) for no plateau)
    is fixed and z = floor + k*g is linear, so all candidates are solved at once in closed form.
    """
    n = len(u)
    uu = np.unique(u)
    if n < min_floor + min_rise or len(uu) < 3:
        return None
    mids = (uu[:-1] + uu[1:]) / 2
    below = np.searchsorted(u, mids, side="right")  # points at or before each midpoint
    starts = mids[(below >= min_floor) & (n - below >= min_rise)]
    if len(starts) == 0:
        return None
    # Every pair of candidates costs O(n) memory, so long series (thousands of checkpoints) would need
    # O(n^3); thin the candidates to evenly spaced ones, which still places the break within ~1/40 of the points.
    starts, ends = _thin(starts, MAX_BREAK_CANDIDATES), _thin(mids, MAX_BREAK_CANDIDATES)
    # A pure step (the rise done between two neighbouring models) is the sharpest breakthrough: its end sits just
    # past its start, so no model is fitted half-way up a jump.
    step = 1e-9 * max(float(np.ptp(u)), 1e-300)
    pairs = ([(a, np.inf) for a in starts] + [(a, a + step) for a in starts]
             + [(a, b) for a in starts for b in ends if b > a])
    u0 = np.array([p[0] for p in pairs])[:, None]
    u1 = np.array([p[1] for p in pairs])[:, None]
    span = np.where(np.isinf(u1), 1.0, u1 - u0)
    g = np.where(np.isinf(u1), np.maximum(u[None, :] - u0, 0.0), np.clip((u[None, :] - u0) / span, 0.0, 1.0))
    sw, sz, szz = w.sum(), (w * z).sum(), (w * z * z).sum()
    sg, sgg, sgz = (g * w).sum(1), (g * g * w).sum(1), (g * w * z).sum(1)
    det = sw * sgg - sg**2
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (sw * sgz - sg * sz) / det
        f = (sz - k * sg) / sw
    chi2 = szz - 2 * f * sz - 2 * k * sgz + f * f * sw + 2 * f * k * sg + k * k * sgg
    chi2 = np.where((k > 0) & (det > 0) & np.isfinite(chi2), chi2, np.inf)
    i = int(np.argmin(chi2))
    if not np.isfinite(chi2[i]):
        return None
    fitted = f[i] + k[i] * g[i]
    on_floor = g[i] == 0
    # The floor's standard error: the weighted mean of the points on it.
    floor_se = float(1 / np.sqrt(w[on_floor].sum())) if on_floor.any() else float("inf")
    return RampFit(floor=float(f[i]), floor_se=floor_se, rise=float(fitted[-1] - f[i]), u0=float(u0[i, 0]),
                   u1=float(u1[i, 0]), chi2=float(max(chi2[i], 0.0)), fitted=fitted,
                   floor_share=float(on_floor.mean()), n_params=3 if np.isinf(u1[i, 0]) else 4)


def spearman(u: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """Spearman's rank correlation of z with scale and its two-sided p-value (1 where undefined)."""
    if len(u) < 3 or np.ptp(z) == 0 or np.ptp(u) == 0:
        return 0.0, 1.0
    r = stats.spearmanr(u, z)
    rho, p = float(r.statistic), float(r.pvalue)
    return (rho if np.isfinite(rho) else 0.0), (p if np.isfinite(p) else 1.0)


def nested_p(chi2_small: float, k_small: float, chi2_big: float, k_big: float, n: int) -> float:
    """p-value that the bigger model's gain over the smaller one is noise.

    A chi-square test on the drop in chi2 while the bigger model fits within sampling noise; once its scatter
    exceeds sampling noise (chi2_red > 1) the drop is judged against that scatter instead (an F test), so an
    overdispersed series needs a proportionally larger gain.
    """
    dk = max(k_big - k_small, 1.0)
    dof = n - k_big
    gain = max(chi2_small - chi2_big, 0.0)
    if dof <= 0:
        return 1.0
    red = chi2_big / dof
    if red <= 1:
        return float(stats.chi2.sf(gain, dk))
    return float(stats.f.sf((gain / dk) / red, dk, dof))


def overdispersion(chi2: float, n: int, k: float) -> float:
    """chi2 per degree of freedom, at least 1: how many times the sampling variance the scatter is."""
    dof = n - k
    return float(max(chi2 / dof, 1.0)) if dof > 0 else 1.0


@dataclass(frozen=True)
class HingeFit:
    """Two straight arms meeting at ``knot``: the smooth single-turn shape an eye fits to a reversal.

    Unlike the umbrella (isotonic) fit, two straight arms cannot chase noise, so the size of each arm is what a
    reader would draw through the points. ``left`` and ``right`` are the arms' changes (knot minus first end, last
    end minus knot), in the units of ``z``.
    """

    knot: float
    left: float
    right: float
    fitted: np.ndarray
    rss: float

    @property
    def reverses(self) -> bool:
        return self.left * self.right < 0


def hinge_fit(u: np.ndarray, z: np.ndarray, min_arm: int = MIN_ARM_POINTS) -> HingeFit | None:
    """Unweighted least-squares continuous two-arm line over every knot between models that leaves each arm at
    least ``min_arm`` models (thinned to :data:`MAX_BREAK_CANDIDATES`); ``None`` when the series is too short."""
    n = len(u)
    uu = np.unique(u)
    if n < 2 * min_arm or len(uu) < 4:
        return None
    mids = (uu[:-1] + uu[1:]) / 2
    below = np.searchsorted(u, mids, side="right")
    knots = _thin(mids[(below >= min_arm) & (n - below >= min_arm)], MAX_BREAK_CANDIDATES)
    best = None
    for k in knots:
        X = np.column_stack([np.ones(n), np.minimum(u - k, 0.0), np.maximum(u - k, 0.0)])
        coef, *_ = np.linalg.lstsq(X, z, rcond=None)
        fitted = X @ coef
        rss = float(np.sum((z - fitted) ** 2))
        if best is None or rss < best.rss:
            best = HingeFit(float(k), float(coef[1] * (k - u[0])), float(coef[2] * (u[-1] - k)), fitted, rss)
    return best
