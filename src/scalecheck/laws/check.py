"""``check_form``: the contract a law form must meet for the fitting engine, as one public test.

In the spirit of scikit-learn's ``check_estimator``: the tests run it over every built-in form, and whoever
writes a new :class:`~scalecheck.laws.Form` runs it before :func:`~scalecheck.laws.register_form`::

    from scalecheck.laws import check_form, register_form
    check_form(MyForm())          # raises AssertionError naming the broken part of the contract
    register_form(MyForm())

What it checks, each on data drawn from the form itself:

1. the declared settings agree with each other (``param_names``/``positive``, ``theta_names`` and the grid
   axes, ``linear_nonneg`` and the design's columns, ``bounds``);
2. variable projection is exact: ``offset + design @ beta`` equals ``predict_params(assemble(theta, beta))``
   for grid points ``theta`` and coefficients ``beta``;
3. ``predict`` takes a parameter vector, a dict of named parameters and batched rows alike;
4. a fit of noiseless data drawn from the form reproduces it, and its result (the form object, not only its
   name) predicts, gives intervals, a summary and a JSON-safe dict; with ``monotone``, predictions are monotone.
"""

from __future__ import annotations

import json

import numpy as np

from .api import fit
from .fitting import grid_start
from .forms import Form


def _fail(form: Form, what: str) -> AssertionError:
    return AssertionError(f"form {form.name!r}: {what}")


def _sample_x(form: Form, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points where a scaling law is read: losses in (2.5, 4.5), or scales over three decades ((N, D) pairs)."""
    if form.x_dim == 2:
        N = np.geomspace(1e8, 1e10, n)
        D = N * rng.choice([10.0, 20.0, 50.0], size=n)
        return np.column_stack([N, D])
    if form.x_positive:
        return np.geomspace(1e8, 1e11, n)
    return np.linspace(2.5, 4.5, n)


def _settings(form: Form, x: np.ndarray) -> tuple[dict, list[np.ndarray]]:
    if not isinstance(form.name, str) or not form.name:
        raise _fail(form, "needs a non-empty name")
    if form.k == 0 or not all(isinstance(p, str) for p in form.param_names):
        raise _fail(form, "param_names must be a non-empty tuple of names")
    if len(set(form.param_names)) != form.k:
        raise _fail(form, f"param_names repeat a name: {form.param_names}")
    if form.positive and len(form.positive) != form.k:
        raise _fail(form, f"positive has {len(form.positive)} flags for {form.k} parameters")
    if form.x_dim not in (1, 2):
        raise _fail(form, f"x_dim must be 1 or 2, not {form.x_dim}")
    w = np.ones((1, len(x)))
    y = np.ones((1, len(x)))
    ctx = form.context(x[None], y, w)
    if not isinstance(ctx, dict) or any(np.shape(v) != (1,) for v in ctx.values()):
        raise _fail(form, "context() must return a dict of per-row arrays of shape (B,)")
    axes = form.grid_axes(ctx)
    if len(axes) != form.p:
        raise _fail(form, f"grid_axes() gives {len(axes)} axes for {form.p} theta_names {form.theta_names}")
    lo, hi = form.bounds(x, np.ones(len(x)))
    if np.shape(lo) != (form.k,) or np.shape(hi) != (form.k,) or np.any(np.asarray(lo) > np.asarray(hi)):
        raise _fail(form, "bounds() must give (lo, hi), each of k values, lo <= hi")
    return ctx, axes


def _projection_is_exact(form: Form, x: np.ndarray, ctx: dict, axes: list[np.ndarray],
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """offset + design @ beta == predict(assemble(theta, beta)); returns (params, y) of one such law."""
    G = 5
    theta = np.stack([rng.choice(a[len(a) // 5: max(len(a) * 4 // 5, len(a) // 5 + 1)], G) for a in axes],
                     axis=-1) if axes else np.zeros((G, 0))
    lo, hi = form.theta_bounds(ctx)
    theta = np.clip(theta, lo[0], hi[0])[None]  # (1, G, p)
    offset, cols = form.design(theta, x[None], ctx)
    if len(cols) != form.m:
        raise _fail(form, f"design() gives {len(cols)} columns for {form.m} linear_nonneg flags")
    n = len(x)
    f = np.zeros((1, G, n)) if offset is None else np.broadcast_to(offset, (1, G, n)).astype(float)
    beta = rng.uniform(0.3, 1.0, size=(1, G, form.m))
    for j, col in enumerate(cols):
        f = f + np.broadcast_to(np.asarray(col, float), (1, G, n)) * beta[..., j:j + 1]
    for g in range(G):
        params = form.assemble(theta[:, g], beta[:, g], ctx)
        if np.shape(params) != (1, form.k):
            raise _fail(form, f"assemble() must give (B, k) = (1, {form.k}) parameters, not {np.shape(params)}")
        with np.errstate(all="ignore"):
            direct = form.predict_params(params[0], x)
        if np.shape(direct) != (n,):
            raise _fail(form, f"predict_params() gives shape {np.shape(direct)} for {n} points")
        if not np.allclose(direct, f[0, g], rtol=1e-6, atol=1e-9 * (1 + np.abs(f[0, g]).max())):
            raise _fail(form, "offset + design @ beta differs from predict_params(assemble(theta, beta)): the "
                              "variable projection and the formula disagree")
    # A law to fit back below: each varying column scaled to a unit range, so the curve is visible at every
    # grid point (a tiny exponent makes an exponential's column tiny), and the most varied of the G candidates.
    best, best_spread = None, -1.0
    for g in range(G):
        b = beta[:, g].copy()
        for j, col in enumerate(cols):
            spread = float(np.ptp(np.broadcast_to(np.asarray(col, float), (1, G, n))[0, g]))
            if spread > 0:
                b[:, j] = b[:, j] / spread
        params = form.assemble(theta[:, g], b, ctx)[0]
        with np.errstate(all="ignore"):
            y = form.predict_params(params, x)
        rel = float(np.ptp(y) / (np.abs(y).mean() + np.ptp(y))) if np.all(np.isfinite(y)) else -1.0
        if rel > best_spread:
            best, best_spread = (params, y), rel
    return best


def check_form(form: Form, *, seed: int = 0) -> None:
    """Check ``form`` against the contract of the fitting engine; raise AssertionError saying what breaks."""
    if not isinstance(form, Form):
        raise AssertionError(f"check_form takes a Form instance, not {type(form).__name__}")
    rng = np.random.default_rng(seed)
    x = _sample_x(form, 12, rng)
    ctx, axes = _settings(form, x)
    params, y = _projection_is_exact(form, x, ctx, axes, rng)
    if not np.all(np.isfinite(y)):
        raise _fail(form, "a law assembled inside the grid predicts non-finite values")
    named = dict(zip(form.param_names, params, strict=True))
    if not np.allclose(form.predict(named, x), y) or not np.allclose(form.predict_params(np.stack([params] * 2),
                                                                                          x[None])[1], y):
        raise _fail(form, "predict() of named parameters, of a vector and of batched rows disagree")
    start = grid_start(form, x, y)
    if np.shape(start) != (form.k,) or not np.all(np.isfinite(start)):
        raise _fail(form, "the grid gives no finite start on data drawn from the form")
    result = fit(x, y, form, loo=False)
    if not result.usable:
        raise _fail(form, f"a fit of noiseless data drawn from the form is unusable: {result.reason}")
    if result.law is not form:
        raise _fail(form, "the fit result does not hold the form it fitted")
    got = result.predict(x)
    scale = max(float(np.ptp(y)), 1e-12)
    if not np.sqrt(np.mean((got - y) ** 2)) < 1e-2 * scale:
        raise _fail(form, "a fit of noiseless data drawn from the form does not reproduce it (rmse "
                          f"{np.sqrt(np.mean((got - y) ** 2)):.3g}, range {scale:.3g})")
    lo, hi = result.interval(x, kind="prediction")
    if np.shape(lo) != np.shape(got) or np.shape(hi) != np.shape(got):
        raise _fail(form, "interval() does not give one bound per point")
    if form.name not in str(result) or set(result.summary()["form"]) != {form.name}:
        raise _fail(form, "the fit's text or summary() does not name the form")
    json.dumps(result.to_dict())  # JSON-safe
    if form.monotone and form.x_dim == 1:
        xs = np.linspace(x.min(), x.max(), 50) if not form.x_positive else np.geomspace(x.min(), x.max(), 50)
        d = np.diff(form.predict(params, xs))
        if not (np.all(d >= -1e-12 * (1 + np.abs(d).max())) or np.all(d <= 1e-12 * (1 + np.abs(d).max()))):
            raise _fail(form, "declares monotone=True but its prediction changes direction")
