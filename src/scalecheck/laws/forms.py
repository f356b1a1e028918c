"""Functional forms of scaling laws, written for variable projection.

Each form splits its parameters into a *nonlinear* part ``theta`` (searched on a grid, then refined) and a
*linear* part ``beta`` that, for fixed ``theta``, enters the prediction linearly::

    f(x) = offset(theta, x) + design(theta, x) @ beta

so that for every grid point the best ``beta`` is a closed-form (weighted, possibly nonnegative) least-squares
solve. ``theta`` lives in a data-scaled coordinate (e.g. ``t = c * span(x)``) so that one grid serves every
series; :meth:`Form.assemble` maps ``(theta, beta)`` back to the named parameters of the published formula.

Each form is one class whose settings (name, parameter names, formula, constraints, grid names) are its
field defaults, so ``Exponential()`` is the exponential law; :func:`register_form` adds a form to
:data:`FORMS` (the names ``fit(..., "exponential")`` and the CLI resolve), and
:func:`scalecheck.laws.check_form` tests a new form against the contract the fitting engine relies on.

All array methods are batched: ``x`` is ``(B, n)`` (``(B, n, 2)`` for Chinchilla), ``theta`` is ``(B, G, p)``
(``G`` grid points per row) and the context ``ctx`` holds per-row scales computed once from the observed data
(so bootstrap replicates of one series share their grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit  # the logistic function, stable in both tails without clipping

from ..errors import SelectionError, did_you_mean

Ctx = dict[str, np.ndarray]


class UnknownFormError(SelectionError, KeyError):
    """A law form name that is not registered (a KeyError too: it is a failed lookup in :data:`FORMS`)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _signed_logspace(lo: float, hi: float, n: int, zero: bool = True) -> np.ndarray:
    """``-hi..-lo, [0], lo..hi`` log-spaced: exponents whose sign is unknown and whose size spans decades."""
    pos = np.geomspace(lo, hi, n)
    parts = [-pos[::-1], [0.0], pos] if zero else [-pos[::-1], pos]
    return np.concatenate(parts)


def _masked_minmax(v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    live = w > 0
    lo = np.where(live, v, np.inf).min(axis=-1)
    hi = np.where(live, v, -np.inf).max(axis=-1)
    return lo, hi


def _masked_mean(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    live = (w > 0).astype(float)
    return (v * live).sum(axis=-1) / np.maximum(live.sum(axis=-1), 1.0)


# The grid helpers, for forms written in other modules (scalecheck.laws.recent_forms).
signed_logspace, masked_minmax, masked_mean = _signed_logspace, _masked_minmax, _masked_mean


@dataclass(frozen=True)
class Form:
    """A scaling-law form. Subclasses fill in the structure and give their settings as field defaults; the
    fitting engine is generic. ``dataclasses.replace(form, name=...)`` makes a variant (a result keeps the
    form object itself, so an unregistered variant predicts and reports like a registered one)."""

    name: str
    param_names: tuple[str, ...]
    formula: str
    x_dim: int = 1
    log_residuals: bool = False  # loss laws: residuals are log(y) - log(f)
    positive: tuple[bool, ...] = ()  # parameters that must stay > 0 (optimised on a log scale when polished)
    linear_nonneg: tuple[bool, ...] = ()  # linear coefficients constrained >= 0 (solved by active-set enumeration)
    x_positive: bool = False  # x must be > 0 (it enters through a log or a power)
    monotone: bool = True  # predict is monotone in x for every parameter value (1-D forms)
    theta_names: tuple[str, ...] = ()  # the grid coordinates, for messages
    zoom_points: int = 9  # points per axis in each zoom step of the grid refinement

    @property
    def k(self) -> int:
        return len(self.param_names)

    @property
    def p(self) -> int:
        return len(self.theta_names)

    @property
    def m(self) -> int:
        return len(self.linear_nonneg)

    # --- to be provided by each form ---------------------------------------------------------------------------
    def predict_params(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Prediction for parameter rows ``params`` (..., k) at ``x`` (..., n) -> (..., n)."""
        raise NotImplementedError

    def context(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Ctx:
        """Per-row scales of the observed data (w > 0 marks the points that exist)."""
        lo, hi = _masked_minmax(x, w)
        return {"xmin": lo, "xmax": hi, "span": np.maximum(hi - lo, 1e-12), "x0": _masked_mean(x, w)}

    def grid_axes(self, ctx: Ctx) -> list[np.ndarray]:
        """One 1-D axis of ``theta`` values per nonlinear coordinate (shared by all rows)."""
        return []

    def theta_limits(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the grid coordinate, the same for every row."""
        return np.full(self.p, -np.inf), np.full(self.p, np.inf)

    def theta_bounds(self, ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
        """Per-row bounds (B, p) of the grid coordinate (data-tied where a form needs it)."""
        lo, hi = self.theta_limits()
        B = next(iter(ctx.values())).shape[0]
        return np.broadcast_to(lo, (B, self.p)), np.broadcast_to(hi, (B, self.p))

    def design(self, theta: np.ndarray, x: np.ndarray, ctx: Ctx) -> tuple[np.ndarray | None, list]:
        """``offset`` (B, G, n) or None, and the m columns of the design matrix, each broadcastable to
        (B, G, n) (a constant column may be the scalar 1.0), for grid points ``theta`` (B, G, p)."""
        raise NotImplementedError

    def assemble(self, theta: np.ndarray, beta: np.ndarray, ctx: Ctx) -> np.ndarray:
        """Named parameters (B, k) from the grid coordinate (B, p) and linear coefficients (B, m)."""
        raise NotImplementedError

    def bounds(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the named parameters, tied to the data (used by the final polish)."""
        return np.full(self.k, -np.inf), np.full(self.k, np.inf)

    def specialise(self, series) -> Form:
        """The form as it applies to ``series`` (e.g. with the series' chance level filled in): itself unless a
        form takes something from the series besides its points."""
        return self

    # --- generic --------------------------------------------------------------------------------------------
    def predict(self, params, x) -> np.ndarray:
        """Predict at ``x`` from a parameter vector or a dict of named parameters."""
        if isinstance(params, dict):
            params = [params[n] for n in self.param_names]
        params = np.asarray(params, dtype=float)
        return self.predict_params(params, np.asarray(x, dtype=float))

    def describe(self) -> str:
        return f"{self.name}: {self.formula}"


# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Linear(Form):
    """``y = a + b*x``: fully linear, solved exactly."""

    name: str = "linear"
    param_names: tuple[str, ...] = ("a", "b")
    formula: str = "y = a + b * x"
    positive: tuple[bool, ...] = (False, False)
    linear_nonneg: tuple[bool, ...] = (False, False)

    def predict_params(self, params, x):
        a, b = params[..., 0:1], params[..., 1:2]
        return a + b * x

    def design(self, theta, x, ctx):
        xc = (x - ctx["x0"][:, None])[:, None, :]
        return None, [1.0, xc]

    def assemble(self, theta, beta, ctx):
        b = beta[:, 1]
        return np.stack([beta[:, 0] - b * ctx["x0"], b], axis=-1)


@dataclass(frozen=True)
class Exponential(Form):
    """``y = a*exp(c*x) + b`` (Gadre et al. 2024). For fixed c, (a, b) are linear.

    The grid coordinate is ``t = c*span(x)``. The basis ``(exp(c(x - r)) - 1)/c``, with r the end of the data
    where the exponential is largest, is bounded by span(x) and 1/|c| (no overflow however steep) and stays well
    conditioned as c -> 0, where the law tends to a straight line (a and b then grow large with opposite signs).
    Steep laws (|t| in the hundreds: a spike on the end point) are allowed because least squares may want them;
    leave-one-out error is what exposes them. |c*r| is capped so that a stays finite.
    """

    name: str = "exponential"
    param_names: tuple[str, ...] = ("a", "b", "c")
    formula: str = "y = a * exp(c * x) + b"
    positive: tuple[bool, ...] = (False, False, False)
    linear_nonneg: tuple[bool, ...] = (False, False)
    theta_names: tuple[str, ...] = ("c*span",)

    T_MAX = 700.0
    EXP_CAP = 600.0  # |c| * |r| <= 600: a = beta * exp(-c r) / c neither overflows nor underflows

    def predict_params(self, params, x):
        a, b, c = params[..., 0:1], params[..., 1:2], params[..., 2:3]
        # exp(log|a| + c x): a may be astronomically large where exp(c x) is astronomically small.
        with np.errstate(divide="ignore"):
            la = np.log(np.abs(a))
        return np.sign(a) * np.exp(np.clip(la + c * x, -745.0, 709.0)) + b

    def grid_axes(self, ctx):
        return [_signed_logspace(1e-3, self.T_MAX, 36)]

    def theta_bounds(self, ctx):
        span = ctx["span"]
        with np.errstate(divide="ignore"):
            neg = np.minimum(self.T_MAX, self.EXP_CAP * span / np.abs(ctx["xmin"]))
            pos = np.minimum(self.T_MAX, self.EXP_CAP * span / np.abs(ctx["xmax"]))
        return -neg[:, None], pos[:, None]

    def _ref(self, c, ctx, shape_dims: int):
        xmin, xmax = ctx["xmin"], ctx["xmax"]
        for _ in range(shape_dims):
            xmin, xmax = xmin[:, None], xmax[:, None]
        return np.where(c < 0, xmin, xmax)

    def design(self, theta, x, ctx):
        c = theta[..., 0] / ctx["span"][:, None]  # (B, G)
        # c = 0 exactly is the straight line; a tiny c gives it to machine precision without a branch.
        c = np.where(c == 0, 1e-12 / ctx["span"][:, None], c)
        # The column is expm1(c (x - r)), i.e. c times the basis above: scaling a column changes neither the
        # fit nor the SSE, only the coefficient (assemble undoes it), and it saves a pass over (B, G, n).
        u = c[..., None] * x[:, None, :]
        u -= (c * self._ref(c, ctx, 1))[..., None]
        np.expm1(u, out=u)
        return None, [u, 1.0]

    def assemble(self, theta, beta, ctx):
        t = theta[:, 0]
        t = np.where(np.abs(t) < 1e-9, np.where(t < 0, -1e-9, 1e-9), t)
        c = t / ctx["span"]
        r = self._ref(c, ctx, 0)
        a = beta[:, 0] * np.exp(-c * r)
        b = beta[:, 1] - beta[:, 0]
        return np.stack([a, b, c], axis=-1)

    def bounds(self, x, y):
        ctx = self.context(x[None], y[None], np.ones((1, len(y))))
        lo, hi = self.theta_bounds(ctx)
        span = ctx["span"][0]
        return np.array([-np.inf, -np.inf, lo[0, 0] / span]), np.array([np.inf, np.inf, hi[0, 0] / span])


@dataclass(frozen=True)
class Sigmoid(Form):
    """``y = a / (1 + exp(-k*(x - x0))) + b`` (OLMo ladder step 2): floor and ceiling are b and a+b.

    k > 0 identifies the law (a sign flip of k is a relabelling of floor and ceiling); a is free in sign, so the
    metric may rise or fall with x.
    """

    name: str = "sigmoid"
    param_names: tuple[str, ...] = ("a", "k", "x0", "b")
    formula: str = "y = a / (1 + exp(-k * (x - x0))) + b"
    positive: tuple[bool, ...] = (False, True, False, False)
    linear_nonneg: tuple[bool, ...] = (False, False)
    theta_names: tuple[str, ...] = ("k*span", "x0")
    zoom_points: int = 5

    T_MIN, T_MAX = 0.05, 60.0

    def predict_params(self, params, x):
        a, k, x0, b = (params[..., i:i + 1] for i in range(4))
        return a * expit(k * (x - x0)) + b

    def grid_axes(self, ctx):
        return [np.geomspace(self.T_MIN, self.T_MAX, 24), np.linspace(-1.0, 2.0, 25)]

    def theta_limits(self):
        return np.array([self.T_MIN, -1.5]), np.array([self.T_MAX, 2.5])

    def _centre(self, theta, ctx):
        k = theta[..., 0] / ctx["span"][:, None]
        x0 = ctx["xmin"][:, None] + theta[..., 1] * ctx["span"][:, None]
        return k, x0

    def design(self, theta, x, ctx):
        k, x0 = self._centre(theta, ctx)
        s = expit(k[..., None] * (x[:, None, :] - x0[..., None]))
        return None, [s, 1.0]

    def assemble(self, theta, beta, ctx):
        k, x0 = self._centre(theta[:, None, :], ctx)
        return np.stack([beta[:, 0], k[:, 0], x0[:, 0], beta[:, 1]], axis=-1)

    def bounds(self, x, y):
        lo, hi = float(np.min(x)), float(np.max(x))
        span = max(hi - lo, 1e-12)
        return (np.array([-np.inf, self.T_MIN / span, lo - 1.5 * span, -np.inf]),
                np.array([np.inf, self.T_MAX / span, lo + 2.5 * span, np.inf]))


@dataclass(frozen=True)
class SigmoidLogCompute(Form):
    """``y = b + (1 - b) / (1 + exp(-k*(log10(x) - m)))``: a metric rising from a floor b to 1 with log-compute.

    With k < 0 the same curve falls from 1 to b (an error rate). For fixed (k, m), b is linear.
    """

    name: str = "sigmoid_logcompute"
    param_names: tuple[str, ...] = ("b", "k", "m")
    formula: str = "y = b + (1 - b) / (1 + exp(-k * (log10(x) - m)))"
    positive: tuple[bool, ...] = (False, False, False)
    linear_nonneg: tuple[bool, ...] = (False,)
    x_positive: bool = True
    theta_names: tuple[str, ...] = ("k*span", "m")
    zoom_points: int = 5

    T_MIN, T_MAX = 0.05, 60.0

    def predict_params(self, params, x):
        b, k, m = params[..., 0:1], params[..., 1:2], params[..., 2:3]
        s = expit(k * (np.log10(x) - m))
        return b + (1 - b) * s

    def context(self, x, y, w):
        return super().context(np.log10(np.where(w > 0, x, 1.0)), y, w)

    def grid_axes(self, ctx):
        return [_signed_logspace(self.T_MIN, self.T_MAX, 16, zero=False), np.linspace(-1.0, 2.0, 25)]

    def theta_limits(self):
        return np.array([-self.T_MAX, -1.5]), np.array([self.T_MAX, 2.5])

    def _centre(self, theta, ctx):
        k = theta[..., 0] / ctx["span"][:, None]
        m = ctx["xmin"][:, None] + theta[..., 1] * ctx["span"][:, None]
        return k, m

    def design(self, theta, x, ctx):
        k, m = self._centre(theta, ctx)
        lx = np.log10(np.where(x > 0, x, 1.0))
        s = expit(k[..., None] * (lx[:, None, :] - m[..., None]))
        return s, [1 - s]

    def assemble(self, theta, beta, ctx):
        k, m = self._centre(theta[:, None, :], ctx)
        return np.stack([beta[:, 0], k[:, 0], m[:, 0]], axis=-1)

    def bounds(self, x, y):
        lx = np.log10(x)
        lo, hi = float(np.min(lx)), float(np.max(lx))
        span = max(hi - lo, 1e-12)
        return (np.array([-np.inf, -self.T_MAX / span, lo - 1.5 * span]),
                np.array([np.inf, self.T_MAX / span, lo + 2.5 * span]))


@dataclass(frozen=True)
class LogitLinear(Form):
    """``y = 1 / (1 + exp(-(a + c*x)))``: logit(y) linear in x. No linear part: both coordinates are searched.

    The base of every "link(y) linear in x" form (``loglog``, ``direct_compute``): a subclass changes only
    :meth:`inverse_link`, and shares the search over ``c*span`` and ``x_mid`` (the point where ``a + c*x = 0``)."""

    name: str = "logit_linear"
    param_names: tuple[str, ...] = ("a", "c")
    formula: str = "logit(y) = a + c * x"
    positive: tuple[bool, ...] = (False, False)
    linear_nonneg: tuple[bool, ...] = ()
    theta_names: tuple[str, ...] = ("c*span", "x_mid")
    zoom_points: int = 5

    T_MAX = 60.0

    def inverse_link(self, u: np.ndarray) -> np.ndarray:
        """y from the linear predictor ``u = a + c*x``."""
        return expit(u)

    def predict_params(self, params, x):
        a, c = params[..., 0:1], params[..., 1:2]
        return self.inverse_link(a + c * x)

    def grid_axes(self, ctx):
        return [_signed_logspace(0.05, self.T_MAX, 16), np.linspace(-1.0, 2.0, 25)]

    def theta_limits(self):
        return np.array([-self.T_MAX, -3.0]), np.array([self.T_MAX, 4.0])

    def design(self, theta, x, ctx):
        c = theta[..., 0] / ctx["span"][:, None]
        xm = ctx["xmin"][:, None] + theta[..., 1] * ctx["span"][:, None]
        s = self.inverse_link(c[..., None] * (x[:, None, :] - xm[..., None]))
        return s, []

    def assemble(self, theta, beta, ctx):
        c = theta[:, 0] / ctx["span"]
        xm = ctx["xmin"] + theta[:, 1] * ctx["span"]
        return np.stack([-c * xm, c], axis=-1)

    def bounds(self, x, y):
        span = max(float(np.ptp(x)), 1e-12)
        cmax = self.T_MAX / span
        amax = cmax * (float(np.max(np.abs(x))) + 4 * span)
        return np.array([-amax, -cmax]), np.array([amax, cmax])


@dataclass(frozen=True)
class PowerFloor(Form):
    """``y = E + A*X**-alpha`` (loss vs params, tokens or FLOPs); E, A >= 0; fitted on log residuals."""

    name: str = "power_floor"
    param_names: tuple[str, ...] = ("E", "A", "alpha")
    formula: str = "y = E + A * x^-alpha"
    log_residuals: bool = True
    positive: tuple[bool, ...] = (True, True, True)
    linear_nonneg: tuple[bool, ...] = (True, True)
    x_positive: bool = True
    theta_names: tuple[str, ...] = ("alpha",)

    ALPHA_MAX = 3.0

    def predict_params(self, params, x):
        E, A, alpha = params[..., 0:1], params[..., 1:2], params[..., 2:3]
        return E + A * np.power(x, -alpha)

    def context(self, x, y, w):
        lx = np.log(np.where(w > 0, x, 1.0))
        lo, hi = _masked_minmax(lx, w)
        return {"lxg": _masked_mean(lx, w), "lspan": np.maximum(hi - lo, 1e-12)}

    def grid_axes(self, ctx):
        return [np.concatenate([np.linspace(0.005, 0.1, 8), np.geomspace(0.12, self.ALPHA_MAX, 24)])]

    def theta_limits(self):
        return np.array([0.0]), np.array([self.ALPHA_MAX])

    def design(self, theta, x, ctx):
        # Scaled by the geometric mean of X, so that A's column is O(1) whatever the units.
        lx = np.log(np.where(x > 0, x, 1.0)) - ctx["lxg"][:, None]
        powr = np.exp(-theta[..., 0][..., None] * lx[:, None, :])
        return None, [1.0, powr]

    def assemble(self, theta, beta, ctx):
        alpha = theta[:, 0]
        return np.stack([beta[:, 0], beta[:, 1] * np.exp(alpha * ctx["lxg"]), alpha], axis=-1)

    def bounds(self, x, y):
        return np.array([0.0, 0.0, 0.0]), np.array([np.inf, np.inf, self.ALPHA_MAX])


@dataclass(frozen=True)
class Chinchilla(Form):
    """``L = E + A/N**alpha + B/D**beta`` (Hoffmann et al. 2022); x is (n, 2) of [N, D]; fitted on log residuals.

    For fixed (alpha, beta), E, A, B >= 0 are a nonnegative least-squares solve on the loss scale.
    """

    name: str = "chinchilla"
    param_names: tuple[str, ...] = ("E", "A", "B", "alpha", "beta")
    formula: str = "L = E + A / N^alpha + B / D^beta"
    x_dim: int = 2
    log_residuals: bool = True
    positive: tuple[bool, ...] = (True,) * 5
    linear_nonneg: tuple[bool, ...] = (True, True, True)
    x_positive: bool = True
    monotone: bool = False
    theta_names: tuple[str, ...] = ("alpha", "beta")
    zoom_points: int = 5

    EXP_MAX = 2.5

    def predict_params(self, params, x):
        E, A, B, alpha, beta = (params[..., i:i + 1] for i in range(5))
        N, D = x[..., 0], x[..., 1]
        return E + A * np.power(N, -alpha) + B * np.power(D, -beta)

    def context(self, x, y, w):
        live = w > 0
        lN = np.log(np.where(live, x[..., 0], 1.0))
        lD = np.log(np.where(live, x[..., 1], 1.0))
        return {"lNg": _masked_mean(lN, w), "lDg": _masked_mean(lD, w)}

    def grid_axes(self, ctx):
        ax = np.concatenate([np.linspace(0.02, 0.1, 3), np.linspace(0.15, 1.0, 18), np.linspace(1.1, self.EXP_MAX, 6)])
        return [ax, ax]

    def theta_limits(self):
        return np.array([0.0, 0.0]), np.array([self.EXP_MAX, self.EXP_MAX])

    def design(self, theta, x, ctx):
        lN = np.log(np.where(x[..., 0] > 0, x[..., 0], 1.0)) - ctx["lNg"][:, None]
        lD = np.log(np.where(x[..., 1] > 0, x[..., 1], 1.0)) - ctx["lDg"][:, None]
        pn = np.exp(-theta[..., 0][..., None] * lN[:, None, :])
        pd = np.exp(-theta[..., 1][..., None] * lD[:, None, :])
        return None, [1.0, pn, pd]

    def assemble(self, theta, beta, ctx):
        al, be = theta[:, 0], theta[:, 1]
        return np.stack([beta[:, 0], beta[:, 1] * np.exp(al * ctx["lNg"]), beta[:, 2] * np.exp(be * ctx["lDg"]),
                         al, be], axis=-1)

    def bounds(self, x, y):
        return np.zeros(5), np.array([np.inf, np.inf, np.inf, self.EXP_MAX, self.EXP_MAX])


FORMS: dict[str, Form] = {}  # name -> form: what a form's name resolves to (fill it with register_form)


def register_form(form: Form, *, replace: bool = False) -> Form:
    """Make ``form`` known by its name (to ``fit(..., "name")``, backtests, sensitivity and the CLI).

    A name already taken is an error unless ``replace=True``. Run :func:`scalecheck.laws.check_form` on a new
    form first: it checks the contract the fitting engine relies on.
    """
    if not isinstance(form, Form):
        raise TypeError(f"register_form takes a Form instance, not {type(form).__name__}")
    if not isinstance(form.name, str) or not form.name:
        raise ValueError("a form needs a non-empty name")
    if form.name in FORMS and not replace and FORMS[form.name] is not form:
        raise ValueError(f"law form {form.name!r} is already registered (pass replace=True to replace it)")
    FORMS[form.name] = form
    return form


def get_form(name: str | Form) -> Form:
    """The form called ``name`` (or ``name`` itself if it is a Form); an unknown name is an
    :class:`UnknownFormError` with the closest known name."""
    if isinstance(name, Form):
        return name
    try:
        return FORMS[name]
    except (KeyError, TypeError):
        hint = did_you_mean(name, FORMS)
        raise UnknownFormError(f"unknown law form {name!r}{hint}; known: {', '.join(sorted(FORMS))}") from None


for _form in (PowerFloor(), Chinchilla(), Exponential(), Sigmoid(), LogitLinear(), Linear(), SigmoidLogCompute()):
    register_form(_form)
del _form
