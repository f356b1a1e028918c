"""LawFit: one fitted law, with everything needed to judge it and to predict from it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import numpy as np
from scipy import stats

from .fitting import from_fit_scale, to_fit_scale
from .forms import Form, get_form
from .quality import Quality

if TYPE_CHECKING:
    import pandas as pd


@runtime_checkable
class Predictor(Protocol):
    """Anything that predicts a y for each x: a law, a chain of laws, a baseline."""

    def predict(self, x) -> np.ndarray: ...


def json_safe(v):
    """JSON-safe: arrays to lists, non-finite floats to None."""
    if isinstance(v, np.ndarray):
        return [json_safe(e) for e in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [json_safe(e) for e in v]
    if isinstance(v, dict):
        return {str(k): json_safe(e) for k, e in v.items()}
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def jacobian(form: Form, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d g(f(x)) / d params on the fitting scale (central differences), shape (n, k)."""
    k = len(params)
    h = 1e-6 * np.maximum(np.abs(params), 1e-4)
    P = np.repeat(params[None], 2 * k, axis=0)
    idx = np.arange(k)
    P[2 * idx, idx] += h
    P[2 * idx + 1, idx] -= h
    xb = x[None]
    with np.errstate(all="ignore"):
        G = to_fit_scale(form, form.predict_params(P, xb))
        return ((G[0::2] - G[1::2]) / (2 * h[:, None])).T


# How far a prediction may leave what the law was fitted on: at most this many times the spread of the fitted y
# beyond its range. A law that, one extrapolation away, predicts ten times more change than it saw across its
# whole fit set (an exponential steepened to interpolate three sizes exactly, predicting -9e43 for a score of 3.4)
# is an ill-posed fit, not a forecast; it is reported as unusable with this reason, never averaged into an error.
MAX_EXCURSION = 10.0


def excursion(prediction, y_fit) -> np.ndarray:
    """How far each prediction lies outside the range of ``y_fit``, in units of its spread (0 inside; inf for a
    non-finite prediction)."""
    y = np.asarray(y_fit, float)
    y = y[np.isfinite(y)]
    pred = np.asarray(prediction, float)
    if y.size == 0:
        return np.full(pred.shape, np.nan)
    lo, hi = float(y.min()), float(y.max())
    spread = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1e-300))
    with np.errstate(all="ignore"):
        out = np.maximum(np.maximum(lo - pred, pred - hi), 0.0) / spread
    return np.where(np.isfinite(pred), out, np.inf)


def excursion_reason(prediction: float, y_fit) -> str:
    """Why a prediction is not usable (empty when it stays within :data:`MAX_EXCURSION`)."""
    e = float(excursion(np.array([prediction]), y_fit)[0])
    if not e > MAX_EXCURSION:
        return ""
    y = np.asarray(y_fit, float)
    return (f"the law's prediction {prediction:.4g} lies {e:.3g} times the fitted scores' spread outside their "
            f"range [{np.nanmin(y):.4g}, {np.nanmax(y):.4g}] (limit {MAX_EXCURSION:g}): an ill-posed extrapolation")


@dataclass(frozen=True, eq=False)  # arrays inside: identity, not elementwise, equality
class LawFit:
    """A law fitted to one series.

    ``residuals`` are ``y - fitted`` on y's own scale; ``sigma`` is the per-point sampling sd the fit was weighted
    by (None when unweighted). ``boot_params`` holds one row of parameters per bootstrap replicate (NaN rows for
    replicates too degenerate to fit); ``param_intervals`` are their percentile intervals at ``level``, after
    widening the replicates' deviations from the estimate by ``boot_inflation`` (a small-sample correction: the
    bootstrap's spread is that of a fit with n, not n - k, degrees of freedom, and a normal, not Student-t, tail).

    Intervals on predictions (:meth:`interval`) come from the bootstrap when there is one; without it
    (``n_boot=0``) they fall back to the delta method: the covariance ``(J' W J)^-1`` (scaled by the reduced
    chi-squared, at least 1, when sampling sd is known, else by the residual variance) propagated through the
    Jacobian of the prediction, with Student-t quantiles. Both are computed on the fitting scale (log for loss laws).

    ``law`` is the :class:`~scalecheck.laws.Form` object that was fitted (as a statsmodels result keeps its
    model), so a form that was never registered predicts, reports and serialises like a built-in one; ``form``
    is its name.
    """

    law: Form
    param_names: tuple[str, ...]
    params: dict[str, float]
    usable: bool
    reason: str
    n: int
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    residuals: np.ndarray
    loss: str
    seed: int
    level: float
    quality: Quality
    boot_params: np.ndarray | None = None
    param_intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    huber_delta: float | None = None
    cov: np.ndarray | None = None  # delta-method covariance of the parameters
    noise_scale: float = float("nan")  # residual sd on the fitting scale, for prediction intervals
    boot_inflation: float = 1.0  # small-sample widening of bootstrap deviations (see api.boot_inflation)
    clusters: np.ndarray | None = None

    # --- construction of unusable results ---------------------------------------------------------------------
    @classmethod
    def unusable(cls, form: str | Form, reason: str, x, y, sigma=None, loss: str = "ls", seed: int = 0,
                 level: float = 0.9) -> LawFit:
        f = get_form(form)
        x = np.asarray(x, dtype=float) if _arraylike(x) else np.array([], dtype=float)
        y = np.asarray(y, dtype=float) if _arraylike(y) else np.array([], dtype=float)
        return cls(law=f, param_names=f.param_names, params={p: float("nan") for p in f.param_names},
                   usable=False, reason=reason, n=int(len(y)), x=x, y=y,
                   sigma=None if sigma is None or not _arraylike(sigma) else np.asarray(sigma, dtype=float),
                   residuals=np.full(len(y), np.nan), loss=loss, seed=seed, level=level, quality=Quality())

    # --- prediction -----------------------------------------------------------------------------------------
    @property
    def form(self) -> str:
        """The fitted form's name."""
        return self.law.name

    @property
    def param_vector(self) -> np.ndarray:
        return np.array([self.params[p] for p in self.param_names], dtype=float)

    def _x(self, x) -> tuple[np.ndarray, tuple[int, ...]]:
        x = np.asarray(x, dtype=float)
        if self.law.x_dim == 2:
            x2 = np.atleast_2d(x)
            return x2, x2.shape[:-1]
        return np.atleast_1d(x).ravel(), x.shape

    def predict(self, x) -> np.ndarray:
        xa, shape = self._x(x)
        if not self.usable:
            return np.full(shape, np.nan)
        with np.errstate(all="ignore"):
            return self.law.predict_params(self.param_vector, xa).reshape(shape)

    def interval(self, x, level: float | None = None, kind: str = "confidence",
                 model=None) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise interval for the law's curve (``confidence``: the bootstrap when there is one, else the delta
        method) or for a new model's score (``prediction``: the central interval of the calibrated predictive
        distribution of :mod:`scalecheck.laws.prediction`, whose ``PredictionModel`` ``model`` overrides the
        default; the bootstrap does not enter)."""
        if kind not in ("confidence", "prediction"):
            raise ValueError(f"kind must be 'confidence' or 'prediction', not {kind!r}")
        level = self.level if level is None else float(level)
        xa, shape = self._x(x)
        if not self.usable:
            return np.full(shape, np.nan), np.full(shape, np.nan)
        if kind == "prediction":
            lo, hi = _prediction_model(model).interval(self, xa, level)
        else:
            g = self.fit_scale_draws(xa, kind)
            if g is not None:
                a = (1 - level) / 2
                lo, hi = np.nanquantile(g, [a, 1 - a], axis=0)
            else:
                lo, hi = self._delta_interval(xa, level, kind)
        return from_fit_scale(self.law, lo).reshape(shape), from_fit_scale(self.law, hi).reshape(shape)

    def quantile(self, x, p, model=None) -> np.ndarray:
        """Quantile ``p`` of a new model's score at each x: the predictive distribution of
        :mod:`scalecheck.laws.prediction` (``model`` overrides its calibrated numbers). ``p`` = 0.5 is its median,
        which lies between the law's point prediction and its value at the edge of the data."""
        xa, shape = self._x(x)
        if not self.usable:
            return np.full(shape, np.nan)
        q = _prediction_model(model).predictive(self, xa).quantile(np.broadcast_to(np.asarray(p, float), len(xa)))
        return from_fit_scale(self.law, q).reshape(shape)

    def fit_scale_draws(self, xa: np.ndarray, kind: str = "confidence", rng: np.random.Generator | None = None,
                        model=None) -> np.ndarray | None:
        """Draws of the prediction at ``xa`` on the fitting scale (n_draws, m), or None without a bootstrap.
        ``confidence``: the bootstrap's curves. ``prediction``: as many draws of a new model's score, normal about
        the point prediction with the predictive distribution's spread about it (:meth:`PredictionModel.point_sd`)."""
        bp = self.boot_params
        if bp is None:
            return None
        bp = bp[np.all(np.isfinite(bp), axis=1)]
        if len(bp) < 2:
            return None
        with np.errstate(all="ignore"):
            centre = to_fit_scale(self.law, self.law.predict_params(self.param_vector, xa))
            if kind == "prediction":
                rng = rng if rng is not None else np.random.default_rng([self.seed, 1])
                # Normal about the law with the predictive distribution's spread about it: the two-step chain
                # draws its loss from here, and a loss law (calibrated on no loss backtest) is not damped.
                sd = _prediction_model(model).point_sd(self, xa)
                return centre + rng.normal(0.0, 1.0, size=(len(bp), len(centre))) * sd
            g = to_fit_scale(self.law, self.law.predict_params(bp, xa[None]))
            if self.boot_inflation != 1.0:
                g = centre + self.boot_inflation * (g - centre)
        return g

    def _delta_interval(self, xa, level, kind):
        law = self.law
        pred = to_fit_scale(law, self.predict(xa).reshape(len(xa)))
        var = self.fit_scale_variance(xa)
        if kind == "prediction":
            var = var + self.noise_scale**2
        dof = max(self.quality.dof, 1)
        q = stats.t.ppf(0.5 + level / 2, dof)
        sd = np.sqrt(np.maximum(var, 0.0))
        return pred - q * sd, pred + q * sd

    def fit_scale_variance(self, xa: np.ndarray) -> np.ndarray:
        """Delta-method variance of the prediction on the fitting scale (NaN without a covariance)."""
        if self.cov is None:
            return np.full(len(xa), np.nan)
        J = jacobian(self.law, self.param_vector, xa)
        return np.einsum("ni,ij,nj->n", J, self.cov, J)

    # --- reporting ------------------------------------------------------------------------------------------
    @property
    def n_boot(self) -> int:
        return 0 if self.boot_params is None else int(len(self.boot_params))

    def param_se(self) -> dict[str, float]:
        """Standard errors: the bootstrap sd when there is a bootstrap, else the delta method."""
        if self.boot_params is not None and self.n_boot >= 2:
            sd = np.nanstd(self.boot_params, axis=0, ddof=1) * self.boot_inflation
        elif self.cov is not None:
            sd = np.sqrt(np.maximum(np.diag(self.cov), 0.0))
        else:
            sd = np.full(len(self.param_names), np.nan)
        return dict(zip(self.param_names, map(float, sd), strict=True))

    # Columns of summary(): one row per parameter, beside the fit it belongs to.
    SUMMARY_COLUMNS: ClassVar[tuple[str, ...]] = ("form", "param", "estimate", "std_err", "lo", "hi", "level", "interval_from", "n", "dof",
                       "r2", "rmse", "loo_rmse", "chi2_red", "aic", "bic", "usable", "reason")

    def summary(self) -> pd.DataFrame:
        """One row per parameter: its estimate, standard error and interval at the fit's ``level`` (from the
        bootstrap where there is one, else the delta method: ``interval_from``), beside the fit's form, size and
        quality (the same on every row). ``str(fit)`` is the same as text."""
        import pandas as pd

        q = self.quality
        fit_cols = {"level": self.level, "interval_from": "bootstrap" if self.n_boot else "delta method",
                    "n": self.n, "dof": q.dof if self.usable else np.nan,
                    "r2": q.r2 if self.usable else np.nan, "rmse": q.rmse if self.usable else np.nan,
                    "loo_rmse": q.loo_rmse if self.usable else np.nan,
                    "chi2_red": q.chi2_red if self.usable else np.nan, "aic": q.aic if self.usable else np.nan,
                    "bic": q.bic if self.usable else np.nan, "usable": bool(self.usable), "reason": self.reason}
        se = self.param_se() if self.usable else {}
        ci = (self.param_intervals or self._delta_param_intervals()) if self.usable else {}
        nan = float("nan")
        rows = [{"form": self.form, "param": p, "estimate": float(self.params.get(p, nan)) if self.usable else nan,
                 "std_err": se.get(p, nan), "lo": ci.get(p, (nan, nan))[0], "hi": ci.get(p, (nan, nan))[1],
                 **fit_cols} for p in self.param_names]
        return pd.DataFrame(rows, columns=list(self.SUMMARY_COLUMNS))

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        """The fit as text: the law, the loss, the quality and a table of the parameters."""
        law = self.law
        width = 78
        lines = ["=" * width, f"Law: {law.name:<20} {law.formula}"]
        loss = "least squares" if self.loss == "ls" else f"Huber (delta={self.huber_delta:g})"
        scale = "log residuals" if law.log_residuals else "residuals"
        weights = "weighted by sampling sd" if self.sigma is not None else "unweighted"
        lines.append(f"Loss: {loss} on {scale}, {weights}")
        if not self.usable:
            lines += [f"UNUSABLE: {self.reason}", f"n = {self.n}", "=" * width]
            return "\n".join(lines)
        q = self.quality

        def fmt(v, spec=".4g"):
            return "nan" if v is None or not math.isfinite(v) else format(v, spec)

        lines.append(f"n = {self.n:<6d} dof = {q.dof:<5d} R^2 = {fmt(q.r2)}   RMSE = {fmt(q.rmse)}   "
                     f"LOO RMSE = {fmt(q.loo_rmse)}")
        lines.append(f"chi2 = {fmt(q.chi2)}   chi2_red = {fmt(q.chi2_red)}   AIC = {fmt(q.aic)}   "
                     f"BIC = {fmt(q.bic)}")
        lines.append("-" * width)
        pct = f"{100 * self.level:g}%"
        src = f"bootstrap, {self.n_boot} draws" if self.n_boot else "delta method"
        lines.append(f"{'param':<10}{'estimate':>14}{'std err':>14}{pct + ' lo':>14}{pct + ' hi':>14}   ({src})")
        se = self.param_se()
        ci = self.param_intervals or self._delta_param_intervals()
        for p in self.param_names:
            lo, hi = ci.get(p, (float("nan"), float("nan")))
            lines.append(f"{p:<10}{fmt(self.params[p], '>14.6g')}{fmt(se[p], '>14.4g')}"
                         f"{fmt(lo, '>14.6g')}{fmt(hi, '>14.6g')}")
        lines.append("=" * width)
        return "\n".join(lines)

    def _delta_param_intervals(self) -> dict[str, tuple[float, float]]:
        if self.cov is None:
            return {}
        q = stats.t.ppf(0.5 + self.level / 2, max(self.quality.dof, 1))
        sd = np.sqrt(np.maximum(np.diag(self.cov), 0.0))
        v = self.param_vector
        return {p: (float(v[i] - q * sd[i]), float(v[i] + q * sd[i])) for i, p in enumerate(self.param_names)}

    def to_dict(self) -> dict:
        return json_safe({
            "form": self.form, "formula": self.law.formula, "param_names": list(self.param_names),
            "params": self.params, "param_se": self.param_se(),
            "param_intervals": {k: list(v) for k, v in (self.param_intervals or {}).items()},
            "usable": self.usable, "reason": self.reason, "n": self.n, "x": self.x, "y": self.y,
            "sigma": self.sigma, "residuals": self.residuals, "loss": self.loss, "huber_delta": self.huber_delta,
            "seed": self.seed, "level": self.level, "n_boot": self.n_boot, "quality": self.quality.to_dict(),
        })


def _prediction_model(model):
    from .prediction import DEFAULT

    return DEFAULT if model is None else model


def _arraylike(v) -> bool:
    try:
        np.asarray(v, dtype=float)
        return True
    except (TypeError, ValueError):
        return False
