"""The fitting engine: variable projection on a data-tied grid, zoom refinement, optional robust polish.

Stage 1 (batched over rows = series x starts x bootstrap replicates): for every grid point of the nonlinear
coordinates, the linear coefficients are solved exactly (weighted least squares; nonnegative ones by enumerating
active sets, exact for the two or three coefficients our forms have). The best grid points are refined by
repeated zooming. This finds the global least-squares optimum of the 1-D and 2-D profiles without a single
derivative, and costs the same for 1 row or 100,000.

Stage 2 (only for loss laws fitted on log residuals, and for the Huber loss): all parameters are polished from
the stage-1 optimum with ``scipy.optimize.least_squares`` on the fitting scale, in a parametrisation where
positive parameters are optimised on a log scale (for Chinchilla that is Besiroglu et al.'s ``E = exp(e)``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import least_squares

from .forms import Ctx, Form

_CHUNK_ELEMS = 3_000_000  # floats per (rows x grid x points x columns) block: bounds memory to ~100 MB
_ZOOM_SHRINK = 1e-8  # refine the grid coordinate to this fraction of the initial grid spacing


# --- scales -----------------------------------------------------------------------------------------------------
def to_fit_scale(form: Form, v: np.ndarray) -> np.ndarray:
    """Loss laws are fitted on log(loss): the noise of a loss is multiplicative and the published fits do so."""
    if form.log_residuals:
        return np.log(np.maximum(v, 1e-300))
    return v


def from_fit_scale(form: Form, v: np.ndarray) -> np.ndarray:
    return np.exp(v) if form.log_residuals else v


def huber(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def objective(form: Form, params: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, counts: np.ndarray,
              loss: str, delta: float) -> np.ndarray:
    """Fitting-scale objective for parameter rows (B, k): sum of counts * rho(sqrt(w) * r)."""
    f = form.predict_params(params, x)
    r = np.sqrt(w) * (to_fit_scale(form, y) - to_fit_scale(form, f))
    rho = 0.5 * r * r if loss == "ls" else huber(r, delta)
    rho = np.where(counts > 0, rho, 0.0)
    val = (counts * rho).sum(axis=-1)
    return np.where(np.isfinite(val), val, np.inf)


# --- stage 1: variable projection ---------------------------------------------------------------------------------
def _solve_linear(offset, phi, y, w, nonneg) -> tuple[np.ndarray, np.ndarray]:
    """Best linear coefficients (B, G, m) and weighted SSE (B, G) for each grid point."""
    B, G, n, m = phi.shape
    r = y[:, None, :] if offset is None else y[:, None, :] - offset
    r = np.broadcast_to(r, (B, G, n))
    rwr = np.einsum("bgn,bn,bgn->bg", r, w, r)
    if m == 0:
        return np.zeros((B, G, 0)), rwr
    pw = phi * w[:, None, :, None]
    A = np.swapaxes(pw, -1, -2) @ phi
    rhs = (np.swapaxes(pw, -1, -2) @ r[..., None])[..., 0]
    # A tiny ridge keeps degenerate replicates (one distinct x) solvable; it changes no well-posed solution.
    diag = np.einsum("...ii->...i", A)
    ridge = 1e-12 * diag.max(axis=-1, keepdims=True) + 1e-300
    eye = np.eye(m)
    nonneg = np.asarray(nonneg, dtype=bool)
    if not nonneg.any():
        beta = np.linalg.solve(A + ridge[..., None] * eye, rhs[..., None])[..., 0]
        return beta, np.maximum(rwr - (beta * rhs).sum(-1), 0.0)
    # Nonnegative LS by enumerating which constrained coefficients are active (free): exact for small m, since
    # the NNLS optimum is the unconstrained optimum on its support and every feasible candidate is a feasible point.
    cons = np.flatnonzero(nonneg)
    best_beta = np.zeros((B, G, m))
    best_sse = np.full((B, G), np.inf)
    for mask in range(1 << len(cons)):
        keep = ~nonneg.copy()
        for j, c in enumerate(cons):
            if mask >> j & 1:
                keep[c] = True
        sel = keep.astype(float)
        As = A * sel[:, None] * sel[None, :] + np.diag(1.0 - sel) + ridge[..., None] * eye
        bs = np.linalg.solve(As, (rhs * sel)[..., None])[..., 0]
        sse = np.maximum(rwr - (bs * rhs * sel).sum(-1), 0.0)
        ok = np.all(bs[..., cons] >= 0, axis=-1) & (sse < best_sse)
        best_sse = np.where(ok, sse, best_sse)
        best_beta = np.where(ok[..., None], bs, best_beta)
    return best_beta, best_sse


def _ctx_rows(ctx: Ctx, idx: np.ndarray) -> Ctx:
    return {k: v[idx] for k, v in ctx.items()}


def profile(form: Form, theta: np.ndarray, x, y, w, ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Linear coefficients and weighted SSE at grid points theta (B, G, p), in memory-bounded chunks."""
    B, G = theta.shape[:2]
    n = y.shape[1]
    rows = max(1, int(_CHUNK_ELEMS // max(G * n * max(form.m, 1), 1)))
    beta = np.empty((B, G, form.m))
    sse = np.empty((B, G))
    for s in range(0, B, rows):
        sl = slice(s, min(B, s + rows))
        c = _ctx_rows(ctx, np.arange(sl.start, sl.stop))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            off, phi = form.design(theta[sl], x[sl], c)
            b, e = _solve_linear(off, phi, y[sl], w[sl], form.linear_nonneg)
        beta[sl] = b
        sse[sl] = np.where(np.isfinite(e), e, np.inf)
    return beta, sse


def _product(axes: list[np.ndarray]) -> np.ndarray:
    """Cartesian product of per-row axes [(B, q_j)] -> (B, prod q_j, p)."""
    B = axes[0].shape[0]
    mesh = np.meshgrid(*[np.arange(a.shape[1]) for a in axes], indexing="ij")
    cols = [a[:, g.ravel()] for a, g in zip(axes, mesh, strict=True)]
    return np.stack(cols, axis=-1).reshape(B, -1, len(axes))


def _pick_starts(sse_row: np.ndarray, shape: tuple[int, ...], starts: int) -> list[int]:
    """Best grid points that are not neighbours of a better one: distinct basins of the profile."""
    chosen: list[np.ndarray] = []
    out: list[int] = []
    for flat in np.argsort(sse_row, kind="stable"):
        if not np.isfinite(sse_row[flat]) and out:
            break
        ij = np.array(np.unravel_index(flat, shape))
        if all(np.max(np.abs(ij - c)) > 1 for c in chosen):
            chosen.append(ij)
            out.append(int(flat))
        if len(out) == starts:
            break
    while len(out) < starts:
        out.append(out[0])
    return out


def search(form: Form, x, y, w, ctx: Ctx, starts: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global profile search. Returns theta (B, S, p), beta (B, S, m), sse (B, S) for S = ``starts`` basins."""
    B = y.shape[0]
    if form.p == 0:
        beta, sse = profile(form, np.zeros((B, 1, 0)), x, y, w, ctx)
        return np.zeros((B, 1, 0)), beta, sse
    axes = [np.asarray(a, float) for a in form.grid_axes(ctx)]
    shape = tuple(len(a) for a in axes)
    grid = _product([np.broadcast_to(a, (B, len(a))) for a in axes])
    _, sse = profile(form, grid, x, y, w, ctx)
    if starts == 1:
        pick = np.argmin(sse, axis=1)[:, None]
    else:
        pick = np.array([_pick_starts(sse[b], shape, starts) for b in range(B)])
    S = pick.shape[1]
    # Initial half-widths: the wider neighbouring gap of the chosen grid point along each axis.
    ij = np.stack(np.unravel_index(pick.ravel(), shape), axis=-1)  # (B*S, p)
    centre = np.empty((B * S, form.p))
    half = np.empty((B * S, form.p))
    for j, a in enumerate(axes):
        i = ij[:, j]
        centre[:, j] = a[i]
        left = a[i] - a[np.maximum(i - 1, 0)]
        right = a[np.minimum(i + 1, len(a) - 1)] - a[i]
        half[:, j] = np.maximum(np.maximum(left, right), 1e-12)
    rows = np.repeat(np.arange(B), S)
    theta, beta, best = zoom(form, x[rows], y[rows], w[rows], _ctx_rows(ctx, rows), centre, half)
    return theta.reshape(B, S, -1), beta.reshape(B, S, -1), best.reshape(B, S)


def zoom(form: Form, x, y, w, ctx: Ctx, centre: np.ndarray, half: np.ndarray):
    """Refine the grid coordinate around ``centre`` by repeated local grids, each ``(q-1)/2`` times finer."""
    q = form.zoom_points
    lin = np.linspace(-1.0, 1.0, q)
    lo, hi = form.theta_bounds()
    n_iter = math.ceil(math.log(1 / _ZOOM_SHRINK) / math.log((q - 1) / 2))
    centre = centre.copy()
    half = half.copy()
    best_sse = np.full(centre.shape[0], np.inf)
    best_beta = np.zeros((centre.shape[0], form.m))
    for _ in range(n_iter + 1):
        axes = [np.clip(centre[:, j, None] + half[:, j, None] * lin, lo[j], hi[j]) for j in range(form.p)]
        grid = _product(axes)
        beta, sse = profile(form, grid, x, y, w, ctx)
        i = np.argmin(sse, axis=1)
        r = np.arange(len(i))
        better = sse[r, i] <= best_sse
        centre = np.where(better[:, None], grid[r, i], centre)
        best_beta = np.where(better[:, None], beta[r, i], best_beta)
        best_sse = np.where(better, sse[r, i], best_sse)
        half = half * (2.0 / (q - 1))
    return centre, best_beta, best_sse


def grid_start(form: Form, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The named parameters at the best point of the (unrefined) variable-projection grid."""
    xb, yb = x[None], y[None]
    wb = np.ones_like(yb)
    ctx = form.context(xb, yb, wb)
    if form.p == 0:
        beta, _ = profile(form, np.zeros((1, 1, 0)), xb, yb, wb, ctx)
        return form.assemble(np.zeros((1, 0)), beta[:, 0], ctx)[0]
    axes = [np.asarray(a, float) for a in form.grid_axes(ctx)]
    grid = _product([a[None] for a in axes])
    beta, sse = profile(form, grid, xb, yb, wb, ctx)
    i = int(np.argmin(sse[0]))
    return form.assemble(grid[:, i], beta[:, i], ctx)[0]


def stage1(form: Form, x, y, w, starts: int = 1, ctx: Ctx | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares optimum on the y scale for each row: params (B, S, k) and weighted SSE (B, S).

    Loss laws use relative weights w / y**2 here (relative residuals ~ log residuals) so the start is already
    close to the log-scale optimum the polish then finds.
    """
    wy = w / np.maximum(y, 1e-300) ** 2 if form.log_residuals else w
    if ctx is None:
        ctx = form.context(x, y, (w > 0).astype(float))
    theta, beta, sse = search(form, x, y, wy, ctx, starts)
    B, S = sse.shape
    rows = np.repeat(np.arange(B), S)
    params = form.assemble(theta.reshape(B * S, -1), beta.reshape(B * S, -1), _ctx_rows(ctx, rows))
    return params.reshape(B, S, form.k), sse


# --- stage 2: polish --------------------------------------------------------------------------------------------
def needs_polish(form: Form, loss: str) -> bool:
    return form.log_residuals or loss == "huber"


def polish(form: Form, x: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray, loss: str,
           delta: float) -> np.ndarray:
    """Minimise the fitting-scale objective over all parameters from ``start`` (one row; rows may repeat)."""
    lo, hi = form.bounds(x, y)
    pos = np.asarray(form.positive, dtype=bool)
    start = np.asarray(start, float).copy()
    # Optimise positive parameters as logs: keeps them positive and evens out scales (A ~ 500 vs alpha ~ 0.3).
    start[pos] = np.maximum(start[pos], 1e-8)
    with np.errstate(divide="ignore"):
        zlo = np.where(pos, np.log(np.maximum(lo, 0.0)), lo)
        zhi = np.where(pos, np.log(hi), hi)
    z0 = np.where(pos, np.log(start), start)
    span = np.where(np.isfinite(zhi - zlo), zhi - zlo, 1.0)
    z0 = np.clip(z0, zlo + 1e-9 * span, zhi - 1e-9 * span)
    sw = np.sqrt(w)
    gy = to_fit_scale(form, y)

    def unpack(z):
        return np.where(pos, np.exp(np.minimum(z, 700.0)), z)

    def resid(z):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f = form.predict_params(unpack(z)[None], x[None])[0]
            r = sw * (gy - to_fit_scale(form, f))
        return np.where(np.isfinite(r), r, 1e6)

    kw = dict(method="trf", x_scale="jac", ftol=1e-14, xtol=1e-14, gtol=1e-14, max_nfev=2000)
    if loss == "huber":
        # least_squares' "huber" rho with f_scale=delta is twice the textbook Huber: same minimiser.
        res = least_squares(resid, z0, bounds=(zlo, zhi), loss="huber", f_scale=delta, **kw)
    else:
        res = least_squares(resid, z0, bounds=(zlo, zhi), **kw)
    return unpack(res.x)


def fit_rows(form: Form, x: np.ndarray, y: np.ndarray, w: np.ndarray, counts: np.ndarray, loss: str,
             delta, starts: int = 1, ctx: Ctx | None = None) -> np.ndarray:
    """Best parameters (B, k) for rows sharing nothing but a form: x (B, n[, 2]), y (B, n), fit-scale weights
    w (B, n) and counts (B, n) (bootstrap multiplicities; 0 = absent)."""
    W = w * counts
    params, sse = stage1(form, x, y, W, starts=starts, ctx=ctx)
    if not needs_polish(form, loss):
        best = np.argmin(sse, axis=1)
        return params[np.arange(len(best)), best]
    out = np.empty((y.shape[0], form.k))
    deltas = np.broadcast_to(np.asarray(delta, dtype=float), (y.shape[0],))
    for b in range(y.shape[0]):
        d = float(deltas[b])
        # Duplicate rows by their counts: Huber's objective weights copies, not residual scales.
        live = counts[b] > 0
        reps = np.round(counts[b][live]).astype(int)
        xb = np.repeat(x[b][live], reps, axis=0)
        yb, wb = np.repeat(y[b][live], reps), np.repeat(w[b][live], reps)
        cands = [polish(form, xb, yb, wb, params[b, s], loss, d) for s in range(params.shape[1])]
        vals = objective(form, np.array(cands), xb[None], yb[None], wb[None], np.ones_like(yb)[None], loss, d)
        out[b] = cands[int(np.argmin(vals))]
    return out
