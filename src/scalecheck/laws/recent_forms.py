"""Newer law forms from the literature, registered through the laws seam (:func:`register_form`).

* ``direct_compute``: accuracy above chance fitted directly to scale (Krajewski et al., "Scaling laws for
  downstream task performance", ICLR 2026, arXiv 2512.08894): ``-log(acc') = A * C^-alpha`` with
  ``acc' = (acc - chance) / (1 - chance)``. On the law's axis (ln C for a scale axis, see
  :func:`scalecheck.laws.law_x`) that is ``acc = chance + (1 - chance) * exp(-exp(a + c * x))`` with
  ``a = ln A``, ``c = -alpha``. The chance level is the series' own (:meth:`Form.specialise`), 0 where unknown.
* ``loglog``: the log(-log) form of PassUntil (Hu et al., "Predicting emergent abilities with infinite resolution
  evaluation", ICLR 2024): ``log(-log y) = a + c * x``, i.e. ``y = exp(-exp(a + c * x))`` on the raw score (no
  chance correction), for pass rates that rise from (near) zero.
* ``broken_power``: a smoothly broken power law (Caballero et al., "Broken neural scaling laws", ICLR 2023) with
  one break: ``y = a + b * x^-c0 * (1 + (x / d)^(1/f))^(-c1 * f)``, here with ``c0 = 0`` and ``f = 1``
  (flat before the break, a power law of exponent c after it): ``y = a + b * (1 + x / d)^-c``. Four parameters,
  the most a fit set of four or five sizes can carry; the full form has six.
* ``loss_to_loss``: a shifted power law between two losses (Brandfonbrener et al., "Loss-to-loss prediction",
  TMLR 2025): ``L_task = E + K * (L_train - E0)^kappa``, fitted on log residuals, for series whose x is a loss
  and whose metric is a task loss.

Each is checked by :func:`scalecheck.laws.check_form` (tests/laws/test_recent_forms.py) and recovered from its
own synthetic data.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .forms import Form, LogitLinear, masked_mean, masked_minmax, register_form


def _gompertz(u: np.ndarray) -> np.ndarray:
    """exp(-exp(u)) without overflow: 0 far right, 1 far left."""
    return np.exp(-np.exp(np.clip(u, -745.0, 709.0)))


@dataclass(frozen=True)
class LogLog(LogitLinear):
    """``y = exp(-exp(a + c*x))``: log(-log y) linear in x (PassUntil, Hu et al. 2024). ``logit_linear`` with
    another link: the same search over ``c*span`` and the point ``x_mid`` where ``a + c*x = 0``."""

    name: str = "loglog"
    formula: str = "log(-log y) = a + c * x"
    chance: float = 0.0  # the floor the score rises from (the direct law's chance level; 0 here)

    def _floor(self) -> float:
        return float(self.chance) if math.isfinite(self.chance) else 0.0

    def inverse_link(self, u: np.ndarray) -> np.ndarray:
        ch = self._floor()
        return ch + (1.0 - ch) * _gompertz(u)


@dataclass(frozen=True)
class DirectCompute(LogLog):
    """Accuracy above chance, directly in scale (Krajewski et al. 2026): ``-log(acc') = A * C^-alpha``, i.e.
    ``acc = chance + (1 - chance) * exp(-exp(a + c*x))`` on the law's axis (x = ln C: a = ln A, c = -alpha).
    ``chance`` is the series' (set by :meth:`specialise` when a series is fitted)."""

    name: str = "direct_compute"
    formula: str = "-log((y - chance) / (1 - chance)) = exp(a + c * x)   [A * C^-alpha on ln C]"

    def specialise(self, series) -> Form:
        ch = float(getattr(series, "chance", math.nan))
        ch = ch if math.isfinite(ch) and 0.0 <= ch < 1.0 else 0.0
        return self if ch == self.chance else dataclasses.replace(self, chance=ch)


@dataclass(frozen=True)
class BrokenPower(Form):
    """``y = a + b * (1 + x/d)^-c``: one smooth break at d, flat before it, a power law of exponent c after
    (Caballero et al. 2023, with their c0 = 0 and f = 1). For fixed (c, d), a and b are linear; b's sign is free,
    so the score may rise or fall past the break."""

    name: str = "broken_power"
    param_names: tuple[str, ...] = ("a", "b", "c", "d")
    formula: str = "y = a + b * (1 + x / d)^-c"
    positive: tuple[bool, ...] = (False, False, True, True)
    linear_nonneg: tuple[bool, ...] = (False, False)
    x_positive: bool = True
    theta_names: tuple[str, ...] = ("c", "log_d")
    zoom_points: int = 5

    C_MIN, C_MAX = 0.02, 3.0

    def predict_params(self, params, x):
        a, b, c, d = (params[..., i:i + 1] for i in range(4))
        with np.errstate(all="ignore"):
            return a + b * np.exp(-c * np.log1p(x / d))

    def context(self, x, y, w):
        lx = np.log(np.where(w > 0, x, 1.0))
        lo, hi = masked_minmax(lx, w)
        return {"lxmin": lo, "lspan": np.maximum(hi - lo, 1e-12), "lxg": masked_mean(lx, w)}

    def grid_axes(self, ctx):
        return [np.geomspace(self.C_MIN, self.C_MAX, 16), np.linspace(-2.0, 1.5, 22)]

    def theta_limits(self):
        return np.array([self.C_MIN, -3.0]), np.array([self.C_MAX, 2.0])

    def _d(self, theta, ctx):
        # log d in units of the data's log range from its start: -2 puts the break two ranges before the data.
        return ctx["lxmin"][:, None] + theta[..., 1] * ctx["lspan"][:, None]

    def design(self, theta, x, ctx):
        ld = self._d(theta, ctx)
        lx = np.log(np.where(x > 0, x, 1.0))
        u = np.exp(lx[:, None, :] - ld[..., None])
        col = np.exp(-theta[..., 0][..., None] * np.log1p(u))
        return None, [1.0, col]

    def assemble(self, theta, beta, ctx):
        ld = self._d(theta[:, None, :], ctx)[:, 0]
        return np.stack([beta[:, 0], beta[:, 1], theta[:, 0], np.exp(ld)], axis=-1)

    def bounds(self, x, y):
        lx = np.log(x)
        lo, span = float(np.min(lx)), max(float(np.ptp(lx)), 1e-12)
        return (np.array([-np.inf, -np.inf, self.C_MIN, math.exp(lo - 3 * span)]),
                np.array([np.inf, np.inf, self.C_MAX, math.exp(lo + 2 * span)]))


@dataclass(frozen=True)
class LossToLoss(Form):
    """``L_task = E + K * (L_train - E0)^kappa`` (Brandfonbrener et al. 2025): a shifted power law between two
    losses; E, K >= 0, 0 <= E0 < min(x); fitted on log residuals (as every loss law here)."""

    name: str = "loss_to_loss"
    param_names: tuple[str, ...] = ("E", "K", "E0", "kappa")
    formula: str = "y = E + K * (x - E0)^kappa"
    log_residuals: bool = True
    positive: tuple[bool, ...] = (True, True, False, True)
    linear_nonneg: tuple[bool, ...] = (True, True)
    # x is a loss, taken as it is (a form "in x": on a scale axis it would take ln N, not N).
    theta_names: tuple[str, ...] = ("E0/min(x)", "kappa")
    zoom_points: int = 5

    SHIFT_MAX, KAPPA_MIN, KAPPA_MAX = 0.95, 0.1, 6.0

    def predict_params(self, params, x):
        E, K, E0, kappa = (params[..., i:i + 1] for i in range(4))
        with np.errstate(all="ignore"):
            return E + K * np.power(np.maximum(x - E0, 1e-300), kappa)

    def context(self, x, y, w):
        lo, hi = masked_minmax(np.where(w > 0, x, np.nan), w)
        return {"xmin": lo, "xmax": hi}

    def grid_axes(self, ctx):
        return [np.linspace(0.0, self.SHIFT_MAX, 20), np.geomspace(self.KAPPA_MIN, self.KAPPA_MAX, 20)]

    def theta_limits(self):
        return np.array([0.0, self.KAPPA_MIN]), np.array([self.SHIFT_MAX, self.KAPPA_MAX])

    def design(self, theta, x, ctx):
        e0 = theta[..., 0] * ctx["xmin"][:, None]
        # Scaled by the largest (x - E0), so that K's column is O(1) whatever the units.
        top = ctx["xmax"][:, None] - e0
        u = (x[:, None, :] - e0[..., None]) / top[..., None]
        col = np.power(np.maximum(u, 1e-300), theta[..., 1][..., None])
        return None, [1.0, col]

    def assemble(self, theta, beta, ctx):
        e0 = theta[:, 0] * ctx["xmin"]
        top = ctx["xmax"] - e0
        kappa = theta[:, 1]
        return np.stack([beta[:, 0], beta[:, 1] / np.power(top, kappa), e0, kappa], axis=-1)

    def bounds(self, x, y):
        return (np.array([0.0, 0.0, 0.0, self.KAPPA_MIN]),
                np.array([np.inf, np.inf, self.SHIFT_MAX * float(np.min(x)), self.KAPPA_MAX]))


RECENT_FORMS = (DirectCompute(), LogLog(), BrokenPower(), LossToLoss())
for _form in RECENT_FORMS:
    register_form(_form)
del _form
