"""Prediction intervals: where a *new model's measured score* will fall, not where the law's curve lies.

A confidence interval (``LawFit.interval(kind="confidence")``) is the uncertainty of the fitted curve: the
bootstrap or the delta method, from the fit alone. A prediction interval is for a new model's score, and on real
ladders the fit alone does not know how far it can be trusted: models scatter beyond their sampling noise, the law
is misspecified, and both matter more the farther one extrapolates. So the prediction interval is a *calibrated
variance model*: a normal interval about the law's point prediction whose variance, on the fitting scale, is the
sum of two terms (:class:`PredictionTerms`), built from what the fit knows, with coefficients
(:class:`PredictionModel`) calibrated on rolling-origin (expanding-window) backtests of real testbeds:

- ``residual``: ``b * s^2``, where ``s`` is the fit's residual sd (sampling noise plus model-to-model scatter;
  ``sampling`` and ``scatter`` split it for reading). ``b`` is near 2: ``s`` comes from few degrees of freedom,
  and a new size scatters more about a curve than the sizes the curve was fitted to.
- ``extrapolation``: ``(k_change * |g(x) - g(edge)| + k_distance * d * s)^2``: the change the law predicts beyond
  its data (``edge`` is x clamped to the fitted range) and the distance ``d`` travelled past that range (in units
  of the fitted range; log x for forms in log x) in residual sds. ``k_change`` is held at or above
  1/z(0.95) = 0.608: there the 90% interval always reaches back to the law's value at the edge of its data ("no
  further change"), so a law that runs away past its data cannot exclude a model that stops where the data stop.
  Calibrated freely it sat exactly on that edge on every set of testbeds, so the bound is the rule.

The curve's own delta-method variance is reported (``confidence``) but does not enter: with two to five sizes
fitted it is either tiny (many models of few sizes counted as independent) or enormous (one degree of freedom),
and fitted with a weight of its own its weight went to ~0. The distance term carries the curve's growing
uncertainty instead. For the same reason the quantile is normal, not Student-t: the coefficients are calibrated
at the fits' real degrees of freedom.

Measured (``python benchmarks/interval_calibration.py``: expanding-window backtests of the tasks the reality check
calls predictable, 90% level, each testbed scored with coefficients calibrated on the other two only, by the lowest
mean interval score relative to the residual-only interval's): coverage 0.855 on Gadre et al. (residual-only
0.677), 0.947 on the OLMo ladder (0.884) and 0.913 on Pythia (0.950); mean interval score 40.3 against 97.7, 24.7
against 32.4 and 44.5 against 48.0 points; the OLMo ladder's 13B targets through the two-step chain 8/8 covered,
mean width 41.9 points. The residual-only interval (scalecheck's first: the curve's variance plus the residual
variance, t with the fit's dof; ``RESIDUAL_ONLY``) misses more as more sizes are fitted, because its curve term
shrinks and the misspecification does not.

Tried on the same backtests and not kept: the change alone (without the distance term Pythia's interval score
triples), the curve's variance as a term (weight ~0), Student-t quantiles (Gadre 0.78, Pythia 0.97), an excess
scatter term (its weight moved from 0.04 to 1.2 between calibration sets), a "step-back" term (the law refitted
without its farthest size, its error on that size: calibrated weight ~0.003), a cluster bootstrap over 2-4 sizes
(far too wide), and the previous single-coefficient model (``kappa * (change + d * s)`` added to the residual-only
variance: Gadre 0.72, OLMo 0.96, Pythia 0.95 with a worse score). A conformal correction per testbed would need a
backtest of the user's own testbed.

What an interval assumes: the new model belongs to the ladder (same data, recipe and evaluation), the testbeds
the coefficients were calibrated on are like the user's, and the metric is on the scale it was fitted on. The
level is a frequency over such backtests, not a guarantee for one task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# Calibrated on all three testbeds together (benchmarks/interval_calibration.py, "calibrated_all"); each testbed's
# own figures there use coefficients calibrated on the other two only. The paper-style loss laws (step 1 of the
# two-step chain) get the same coefficients: no loss-law backtest calibrated their own.
RESIDUAL = 1.885
CHANGE = 0.6081  # the bound 1/z(0.95) = 0.6079, rounded up
DISTANCE = 6.232


@dataclass(frozen=True)
class PredictionTerms:
    """What a prediction's variance is built from at each x (fitting scale), and the terms it sums to.

    The raw quantities (``residual_var``, ``change``, ``distance``) do not depend on the
    model's coefficients, so a calibration can score many coefficients from one set of fits
    (:meth:`PredictionModel.variance`)."""

    centre: np.ndarray
    confidence: np.ndarray  # the curve's delta-method variance: reported, not part of the total
    sampling: np.ndarray  # the known sampling part of the residual variance
    scatter: np.ndarray  # the model-to-model excess: residual variance minus sampling
    change: np.ndarray  # |g(x) - g(edge)|: what the law predicts beyond its data
    distance: np.ndarray  # d: distance from the fitted range in units of that range (0 inside it)
    residual: np.ndarray  # b * s^2
    extrapolation: np.ndarray  # (k_change * change + k_distance * d * s)^2

    @property
    def residual_var(self) -> np.ndarray:
        return self.sampling + self.scatter

    @property
    def total(self) -> np.ndarray:
        return self.residual + self.extrapolation


@dataclass(frozen=True)
class PredictionModel:
    """The coefficients of the prediction variance (see the module docstring).

    ``calibrated_on`` names the testbeds the coefficients were calibrated on, for the record."""

    residual: float = RESIDUAL
    change: float = CHANGE
    distance: float = DISTANCE
    calibrated_on: tuple[str, ...] = ("gadre2024", "olmo-ladder", "pythia")

    def variance(self, residual_var, change, distance) -> tuple[np.ndarray, np.ndarray]:
        """(residual, extrapolation) variance terms from the raw quantities (arrays or scalars)."""
        s2 = np.asarray(residual_var, float)
        s = np.sqrt(np.maximum(s2, 0.0))
        change = np.where(np.isfinite(change), change, np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            extra = (self.change * change + self.distance * np.asarray(distance, float) * s) ** 2
        return self.residual * s2, extra

    def terms(self, law, xa: np.ndarray) -> PredictionTerms:
        """The prediction's variance terms at ``xa`` for a usable :class:`~scalecheck.laws.LawFit`."""
        from .fitting import to_fit_scale

        form = law.law
        xa = np.asarray(xa, float)
        m = len(xa)
        with np.errstate(all="ignore"):
            centre = to_fit_scale(form, form.predict_params(law.param_vector, xa))
        conf = law.fit_scale_variance(xa)
        noise2 = float(law.noise_scale) ** 2 if np.isfinite(law.noise_scale) else 0.0
        sampling = min(_sampling_variance(law), noise2)
        d, edge = _distance(form, np.asarray(law.x, float), xa)
        with np.errstate(all="ignore"):
            change = np.abs(centre - to_fit_scale(form, form.predict_params(law.param_vector, edge)))
        change = np.where(np.isfinite(change), change, np.inf)
        residual, extra = self.variance(np.full(m, noise2), change, d)
        return PredictionTerms(centre=centre, confidence=conf, sampling=np.full(m, sampling),
                               scatter=np.full(m, noise2 - sampling), change=change, distance=d,
                               residual=residual, extrapolation=extra)

    def interval(self, law, xa: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Prediction interval at ``level`` on the fitting scale."""
        t = self.terms(law, xa)
        half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(np.maximum(t.total, 0.0))
        return t.centre - half, t.centre + half

    def point_sd(self, law, xa: np.ndarray) -> np.ndarray:
        """sd of a new model's score about the law's point prediction (fitting scale)."""
        return np.sqrt(np.maximum(self.terms(law, xa).total, 0.0))

    def level_to_cover(self, law, xa: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The smallest central level whose prediction interval holds ``y`` (y's own scale): coverage at any level
        L is the share of rows with ``level_to_cover <= L`` (the calibration curve)."""
        from .fitting import to_fit_scale

        t = self.terms(law, xa)
        with np.errstate(all="ignore"):
            z = np.abs(to_fit_scale(law.law, np.asarray(y, float)) - t.centre) / np.sqrt(t.total)
        return 2 * stats.norm.cdf(z) - 1


DEFAULT = PredictionModel()


@dataclass(frozen=True)
class ResidualOnly:
    """scalecheck's first prediction interval, kept for benchmarks to compare against: the curve's delta-method
    variance plus the residual variance, Student-t with the fit's degrees of freedom."""

    calibrated_on: tuple[str, ...] = ()

    def interval(self, law, xa: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        return law._delta_interval(np.asarray(xa, float), level, "prediction")

    def point_sd(self, law, xa: np.ndarray) -> np.ndarray:
        xa = np.asarray(xa, float)
        return np.sqrt(law.fit_scale_variance(xa) + float(law.noise_scale) ** 2)

    def level_to_cover(self, law, xa: np.ndarray, y: np.ndarray) -> np.ndarray:
        from .fitting import to_fit_scale

        xa = np.asarray(xa, float)
        with np.errstate(all="ignore"):
            centre = to_fit_scale(law.law, law.law.predict_params(law.param_vector, xa))
            z = np.abs(to_fit_scale(law.law, np.asarray(y, float)) - centre) / self.point_sd(law, xa)
        return 2 * stats.t.cdf(z, max(int(law.quality.dof), 1)) - 1


RESIDUAL_ONLY = ResidualOnly()


def _sampling_variance(law) -> float:
    """Mean known sampling variance of the fitted points on the fitting scale (0 when unknown)."""
    if law.sigma is None:
        return 0.0
    s = np.asarray(law.sigma, float)
    if law.law.log_residuals:
        s = s / np.maximum(np.abs(np.asarray(law.y, float)), 1e-300)
    s = s[np.isfinite(s)]
    return float(np.mean(s**2)) if s.size else 0.0


def distance(law, xa: np.ndarray) -> np.ndarray:
    """How far each x lies past the law's fitted range, in units of that range (0 inside it)."""
    return _distance(law.law, np.asarray(law.x, float), np.asarray(xa, float))[0]


def _distance(form, x_fit: np.ndarray, xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d, edge): the distance of each x from the fitted range in units of that range (the largest over the
    coordinates of a 2-D x; on log x for forms in log x) and x clamped to the range."""
    if form.x_dim == 2:
        fit2, xa2 = np.atleast_2d(x_fit), np.atleast_2d(xa)
    else:
        fit2, xa2 = x_fit.reshape(-1, 1), xa.reshape(-1, 1)
    lo, hi = fit2.min(axis=0), fit2.max(axis=0)
    edge = np.clip(xa2, lo, hi)
    if form.x_positive:
        with np.errstate(all="ignore"):
            u, ulo, uhi = np.log(xa2), np.log(lo), np.log(hi)
    else:
        u, ulo, uhi = xa2, lo, hi
    span = np.where(uhi - ulo > 0, uhi - ulo, np.inf)
    d = np.max(np.maximum(np.maximum(ulo - u, u - uhi), 0.0) / span, axis=1)
    d = np.where(np.isfinite(d), d, 0.0)
    return d, edge.reshape(xa.shape) if form.x_dim == 1 else edge


def interval_score(lo, hi, y, level: float) -> np.ndarray:
    """Gneiting and Raftery's (2007) interval score of central intervals at ``level``: the width plus
    ``2 / alpha`` times the distance by which y falls outside. Lower is better; a wider interval is never
    rewarded for its coverage alone. NaN where the interval is not finite."""
    lo, hi, y = (np.asarray(v, float) for v in (lo, hi, y))
    a = 1.0 - level
    with np.errstate(invalid="ignore"):
        s = (hi - lo) + (2.0 / a) * np.maximum(lo - y, 0.0) + (2.0 / a) * np.maximum(y - hi, 0.0)
    return np.where(np.isfinite(lo) & np.isfinite(hi), s, np.nan)
