"""The fitting engine: variable projection on a data-tied grid, refinement, and a polish where needed.

Stage 1 (batched over rows = series x starts x bootstrap replicates): for every grid point of the nonlinear
coordinates, the linear coefficients are solved exactly (weighted least squares; nonnegative ones by enumerating
active sets, exact for the two or three coefficients our forms have). Rows of one series share its design, so
their cross-products are matrix products. The best grid points are refined (golden section in 1-D, zooming grids
in 2-D). This finds the global least-squares optimum of the profile without a single derivative, and costs little
more for 100,000 rows than for one.

Stage 2 (loss laws fitted on log residuals, the Huber loss, and refits of 2-D forms): all parameters are polished
from the stage-1 optimum by a batched Levenberg-Marquardt (iteratively reweighted for Huber) on the fitting scale,
with positive parameters on a log scale (for Chinchilla that is Besiroglu et al.'s ``E = exp(e)``). Every start of
every row is polished and the best kept.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .forms import Ctx, Form

_CHUNK_ELEMS = 3_000_000  # floats per (rows x grid x points x columns) block: bounds memory to ~100 MB
_ZOOM_SHRINK = 1e-8  # refine the grid coordinate to this fraction of the initial grid spacing
# Refits (leave-one-out, bootstrap) stop at 1e-5 of the grid spacing: the effect on their predictions is orders
# of magnitude below the sampling noise they measure, and it saves a third of their time.
REFIT_TOL = 1e-5
_BLOCK = 128
_FLAT = 1e-10  # a column whose centred sum of squares is below this fraction of its raw one is constant
# A refit's polish stops when a step gains less than this fraction of the objective (its parameters then agree
# with a polish run to the end to ~1e-5 relative, far below their bootstrap spread).
_LM_GAIN = 1e-9
# Where a polish follows, the grid search need only land in the right basin.
_POLISH_START_TOL = 1e-3


# --- scales -----------------------------------------------------------------------------------------------------
def to_fit_scale(form: Form, v: np.ndarray) -> np.ndarray:
    """Loss laws are fitted on log(loss): the noise of a loss is multiplicative and the published fits do so."""
    if form.log_residuals:
        return np.log(np.maximum(v, 1e-300))
    return v


def from_fit_scale(form: Form, v: np.ndarray) -> np.ndarray:
    return np.exp(v) if form.log_residuals else v


def huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber's rho: r^2/2 inside ``delta``, linear beyond (scipy.special.huber, argument order ours)."""
    return special.huber(delta, r)


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
def _normal_equations(offset, cols, y, wsum) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted cross-products r'Wr, Phi'W Phi, Phi'W r for residual base r = y - offset.

    ``wsum(P)`` turns a per-point product (its last axis the points) into weighted sums over the points; it is an
    einsum for per-row designs and a matrix product (BLAS) for designs shared by many rows. Constant columns (the
    scalar 1.0) need no product at all.
    """
    m = len(cols)
    r = y if offset is None else y[..., None, :] - offset
    rwr = wsum(r * r)
    const = [not isinstance(c, np.ndarray) for c in cols]
    ones = None
    sum_r = wsum(r) if any(const) else None
    rg = r[..., None, :] if r.ndim == y.ndim else r  # r against a grid of columns
    A = [[None] * m for _ in range(m)]
    rhs = []
    for i in range(m):
        ci = cols[i]
        rhs.append(float(ci) * sum_r if const[i] else wsum(ci * rg))
        for j in range(i, m):
            cj = cols[j]
            if const[i] and const[j]:
                ones = wsum(np.ones_like(y)) if ones is None else ones
                v = float(ci) * float(cj) * ones
            elif const[i] or const[j]:
                v = (float(ci) if const[i] else float(cj)) * wsum(cj if const[i] else ci)
            else:
                v = wsum(ci * cj)
            A[i][j] = A[j][i] = v
    shape = np.broadcast_shapes(rwr.shape, *(a.shape for row in A for a in row), *(b.shape for b in rhs))
    An = np.empty(shape + (m, m))
    for i in range(m):
        for j in range(m):
            An[..., i, j] = A[i][j]
    rh = np.empty(shape + (m,))
    for i in range(m):
        rh[..., i] = rhs[i]
    return np.broadcast_to(rwr, shape), An, rh


def _solve_steps(M: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Batched ``M x = g``; a singular row (a parameter the data do not move: its Jacobian column is zero) gets
    the least-norm step instead of failing the whole batch."""
    try:
        return np.linalg.solve(M, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(M) @ g[..., None])[..., 0]


def _solve_sym(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve symmetric positive systems (..., m, m); 3x3 by the adjugate, which for millions of tiny systems is
    several times faster than batched LAPACK."""
    if A.shape[-1] != 3:
        with np.errstate(all="ignore"):
            return np.linalg.solve(A, b[..., None])[..., 0]
    a00, a01, a02 = A[..., 0, 0], A[..., 0, 1], A[..., 0, 2]
    a11, a12, a22 = A[..., 1, 1], A[..., 1, 2], A[..., 2, 2]
    c00, c01, c02 = a11 * a22 - a12 * a12, a02 * a12 - a01 * a22, a01 * a12 - a02 * a11
    c11, c12, c22 = a00 * a22 - a02 * a02, a01 * a02 - a00 * a12, a00 * a11 - a01 * a01
    det = a00 * c00 + a01 * c01 + a02 * c02
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    with np.errstate(all="ignore"):
        return np.stack([c00 * b0 + c01 * b1 + c02 * b2, c01 * b0 + c11 * b1 + c12 * b2,
                         c02 * b0 + c12 * b1 + c22 * b2], axis=-1) / det[..., None]


def _solve_normal(rwr, A, rhs, nonneg) -> tuple[np.ndarray, np.ndarray]:
    """Best linear coefficients (..., m) and weighted SSE (...) from the normal equations."""
    m = A.shape[-1]
    if m == 0:
        return np.zeros(rwr.shape + (0,)), rwr
    # A tiny ridge keeps degenerate replicates (one distinct x) solvable; it changes no well-posed solution.
    # It is relative to each column's own scale, so columns of very different sizes are not distorted.
    idx = np.arange(m)
    A[..., idx, idx] = A[..., idx, idx] * (1 + 1e-12) + 1e-300
    nonneg = np.asarray(nonneg, dtype=bool)
    if not nonneg.any():
        if m == 1:
            beta = (rhs[..., 0] / A[..., 0, 0])[..., None]
        elif m == 2:
            a00, a01, a11 = A[..., 0, 0], A[..., 0, 1], A[..., 1, 1]
            det = a00 * a11 - a01 * a01
            beta = np.stack([(a11 * rhs[..., 0] - a01 * rhs[..., 1]) / det,
                             (a00 * rhs[..., 1] - a01 * rhs[..., 0]) / det], axis=-1)
        else:
            beta = _solve_sym(A, rhs)
        return beta, np.maximum(rwr - (beta * rhs).sum(-1), 0.0)
    # Nonnegative LS by enumerating which constrained coefficients are free: exact for small m, since the NNLS
    # optimum is the unconstrained optimum on its support and every feasible candidate is a feasible point.
    cons = np.flatnonzero(nonneg)
    best_beta = np.zeros(rwr.shape + (m,))
    best_sse = np.full(rwr.shape, np.inf)
    for mask in range(1 << len(cons)):
        keep = ~nonneg.copy()
        for j, c in enumerate(cons):
            if mask >> j & 1:
                keep[c] = True
        sel = keep.astype(float)
        As = A * sel[:, None] * sel[None, :] + np.diag(1.0 - sel)
        bs = _solve_sym(As, rhs * sel)
        sse = np.maximum(rwr - (bs * rhs * sel).sum(-1), 0.0)
        ok = np.all(bs[..., cons] >= 0, axis=-1) & (sse < best_sse)
        best_sse = np.where(ok, sse, best_sse)
        best_beta = np.where(ok[..., None], bs, best_beta)
    return best_beta, best_sse


def _solve_linear(offset, cols, y, w, nonneg, B: int, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row designs: y, w (B, n); offset and columns (B, G, n) -> beta (B, G, m), SSE (B, G)."""
    def wsum(P):
        return np.einsum("bgn,bn->bg", P, w) if P.ndim == 3 else np.einsum("bn,bn->b", P, w)[:, None]

    const = [not isinstance(c, np.ndarray) for c in cols]
    if offset is None and len(cols) == 2 and sum(const) == 1 and not np.any(nonneg):
        # Closed form for a free column u and a free intercept (centred sums), as in _line_and_intercept_sse.
        iu, ic = const.index(False), const.index(True)
        u = np.broadcast_to(cols[iu], (B, G, y.shape[-1]))
        sw = w.sum(-1)[:, None]
        my = np.einsum("bn,bn->b", w, y)[:, None] / sw
        mu = wsum(u) / sw
        raw = wsum(u * u)
        suu = raw - sw * mu * mu
        suy = wsum(u * y[:, None, :]) - sw * mu * my
        syy = np.einsum("bn,bn,bn->b", w, y, y)[:, None] - sw * my * my
        ok = suu > _FLAT * raw
        bu = np.where(ok, suy / np.where(ok, suu, 1.0), 0.0)
        beta = np.empty((B, G, 2))
        beta[..., iu] = bu
        beta[..., ic] = (my - bu * mu) / float(cols[ic])
        return beta, np.maximum(syy - bu * suy, 0.0)
    rwr, A, rhs = _normal_equations(offset, cols, y, wsum)
    shape = (B, G)
    return _solve_normal(np.broadcast_to(rwr, shape).copy(), np.broadcast_to(A, shape + A.shape[2:]).copy(),
                         np.broadcast_to(rhs, shape + rhs.shape[2:]), nonneg)


def _line_and_intercept_sse(offset, cols, y, wsum, nonneg) -> np.ndarray | None:
    """SSE of the common case: one free grid-dependent column u and a free intercept, no offset.

    Centring on the weighted means gives ``SSE = Syy - Suy^2 / Suu`` with the y terms computed once per row,
    not per grid point; it saves most of the elementwise passes over (rows x grid), which dominate once the
    cross-products are matrix products.
    """
    const = [not isinstance(c, np.ndarray) for c in cols]
    if offset is not None or len(cols) != 2 or sum(const) != 1 or np.any(nonneg):
        return None
    u = cols[const.index(False)]
    sw = wsum(np.ones_like(y))  # (s, R, 1)
    sy = wsum(y)
    syy = wsum(y * y) - sy * sy / sw
    my = sy / sw
    su = wsum(u)  # (s, R, G)
    suy = wsum(u * y[..., None, :])
    suy -= su * my
    raw = wsum(u * u)
    su *= su
    su /= sw
    suu = raw - su
    # A column (nearly) constant over the points is no trend: its centred sum of squares is then rounding noise,
    # and dividing by it would fake a perfect fit.
    flat = suu <= _FLAT * raw
    suy *= suy
    suy /= np.where(flat, 1.0, suu)
    suy[flat] = 0.0
    np.subtract(syy, suy, out=suy)
    return np.maximum(suy, 0.0)


def grid_sse(form: Form, grid: np.ndarray, X, Y, ctx: Ctx, parent: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted SSE (B, G) of every row on its parent series' grid ``grid`` (S, G, p).

    Rows (fits, leave-one-out refits, bootstrap replicates) of one series share its x, y and grid, hence its
    design; they differ only in their weights. So the design is built once per series and the cross-products of
    all its rows are one matrix product: (rows x points) @ (points x grid).
    """
    S, G = grid.shape[:2]
    n = Y.shape[1]
    order = np.argsort(parent, kind="stable")
    per = np.bincount(parent, minlength=S)
    R = int(per.max())
    first = np.concatenate([[0], np.cumsum(per)[:-1]])
    slot = np.arange(len(order)) - first[parent[order]]
    Wt = np.zeros((S, R, n))
    Wt[parent[order], slot] = W[order]
    out = np.empty((S, R, G))
    chunk = max(1, int(_CHUNK_ELEMS // max(R * G + G * n, 1)))
    for s0 in range(0, S, chunk):
        sl = slice(s0, min(S, s0 + chunk))
        Wc = Wt[sl]

        def wsum(P, Wc=Wc):
            # P: (s, G, n) -> (s, R, G); (s, n) -> (s, R, 1)
            PT = np.ascontiguousarray(np.swapaxes(P, -1, -2) if P.ndim == 3 else P[..., None])
            out = np.empty(Wc.shape[:2] + PT.shape[-1:])
            # Blocks of <= 128 rows and grid points: measured up to 20x faster than whole products on a busy
            # 2-core machine, where large products go multithreaded in OpenBLAS and stall.
            for r0 in range(0, Wc.shape[1], _BLOCK):
                for g0 in range(0, PT.shape[-1], _BLOCK):
                    np.matmul(Wc[:, r0:r0 + _BLOCK], PT[..., g0:g0 + _BLOCK],
                              out=out[:, r0:r0 + _BLOCK, g0:g0 + _BLOCK])
            return out

        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            off, cols = form.design(grid[sl], X[sl], _ctx_rows(ctx, np.arange(sl.start, sl.stop)))
            e = _line_and_intercept_sse(off, cols, Y[sl], wsum, form.linear_nonneg)
            if e is None:
                rwr, A, rhs = _normal_equations(off, cols, Y[sl], wsum)
                _, e = _solve_normal(np.broadcast_to(rwr, A.shape[:-2]).copy(), A, rhs, form.linear_nonneg)
        out[sl] = np.broadcast_to(np.where(np.isfinite(e), e, np.inf), (sl.stop - sl.start, R, G))
    sse = np.empty((len(parent), G))
    sse[order] = out[parent[order], slot]
    return sse


def _ctx_rows(ctx: Ctx, idx: np.ndarray) -> Ctx:
    return {k: v[idx] for k, v in ctx.items()}


def profile(form: Form, theta: np.ndarray, x, y, w, ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Linear coefficients and weighted SSE at grid points theta (B, G, p), in memory-bounded chunks."""
    B, G = theta.shape[:2]
    n = y.shape[1]
    rows = max(1, int(_CHUNK_ELEMS // max(G * n, 1)))
    beta = np.empty((B, G, form.m))
    sse = np.empty((B, G))
    for s in range(0, B, rows):
        sl = slice(s, min(B, s + rows))
        c = _ctx_rows(ctx, np.arange(sl.start, sl.stop))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            off, cols = form.design(theta[sl], x[sl], c)
            b, e = _solve_linear(off, cols, y[sl], w[sl], form.linear_nonneg, sl.stop - sl.start, G)
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


def search(form: Form, X, Y, ctx: Ctx, parent: np.ndarray, W: np.ndarray, starts: int = 1,
           tol: float = _ZOOM_SHRINK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global profile search for rows of weights W (B, n) on parent series (X, Y, ctx)[parent].

    Returns theta (B, S, p), beta (B, S, m), sse (B, S) for S = ``starts`` distinct basins of the grid, each
    refined (golden section in 1-D, zooming grids in 2-D).
    """
    B = W.shape[0]
    x, y, rctx = X[parent], Y[parent], _ctx_rows(ctx, parent)
    if form.p == 0:
        beta, sse = profile(form, np.zeros((B, 1, 0)), x, y, W, rctx)
        return np.zeros((B, 1, 0)), beta, sse
    axes = [np.asarray(a, float) for a in form.grid_axes(ctx)]
    shape = tuple(len(a) for a in axes)
    lo, hi = form.theta_bounds(ctx)  # per parent
    clipped = [np.clip(np.broadcast_to(a, (len(Y), len(a))), lo[:, j, None], hi[:, j, None])
               for j, a in enumerate(axes)]
    sse = grid_sse(form, _product(clipped), X, Y, ctx, parent, W)
    if starts == 1:
        pick = np.argmin(sse, axis=1)[:, None]
    else:
        pick = np.array([_pick_starts(sse[b], shape, starts) for b in range(B)])
    S = pick.shape[1]
    # Initial half-widths: the wider neighbouring gap of the chosen grid point along each axis.
    ij = np.stack(np.unravel_index(pick.ravel(), shape), axis=-1)  # (B*S, p)
    rows = np.repeat(np.arange(B), S)
    prow = parent[rows]
    centre = np.empty((B * S, form.p))
    half = np.empty((B * S, form.p))
    for j, ax in enumerate(clipped):
        i = ij[:, j]
        centre[:, j] = ax[prow, i]
        left = ax[prow, i] - ax[prow, np.maximum(i - 1, 0)]
        right = ax[prow, np.minimum(i + 1, shape[j] - 1)] - ax[prow, i]
        half[:, j] = np.maximum(np.maximum(left, right), 1e-12)
    refine = golden if form.p == 1 else zoom
    theta, beta, best = refine(form, x[rows], y[rows], W[rows], _ctx_rows(rctx, rows), centre, half, tol)
    return theta.reshape(B, S, -1), beta.reshape(B, S, -1), best.reshape(B, S)


_GOLD = (math.sqrt(5.0) - 1.0) / 2.0


def golden(form: Form, x, y, w, ctx: Ctx, centre: np.ndarray, half: np.ndarray, tol: float = _ZOOM_SHRINK):
    """Golden-section search of a 1-D profile on [centre - half, centre + half], all rows at once.

    The grid point ``centre`` beat its neighbours, so the bracket holds a minimum; the grid point itself is kept
    if nothing inside beats it (a minimum on the grid's edge).
    """
    lo, hi = form.theta_bounds(ctx)
    a = np.clip(centre[:, 0] - half[:, 0], lo[:, 0], hi[:, 0])
    b = np.clip(centre[:, 0] + half[:, 0], lo[:, 0], hi[:, 0])

    def f(t):
        beta, sse = profile(form, t[:, None, None], x, y, w, ctx)
        return beta[:, 0], sse[:, 0]

    best_t = centre[:, 0].copy()
    best_beta, best_sse = f(best_t)
    c = b - _GOLD * (b - a)
    d = a + _GOLD * (b - a)
    (bc, fc), (bd, fd) = f(c), f(d)
    n_iter = math.ceil(math.log(tol) / math.log(_GOLD))
    for _ in range(n_iter):
        left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        new = np.where(left, b - _GOLD * (b - a), a + _GOLD * (b - a))
        bn, fn = f(new)
        c, d, fc, fd, bc, bd = (np.where(left, new, d), np.where(left, c, new), np.where(left, fn, fd),
                                np.where(left, fc, fn), np.where(left[:, None], bn, bd),
                                np.where(left[:, None], bc, bn))
    for t, bb, ff in ((c, bc, fc), (d, bd, fd)):
        better = ff < best_sse
        best_t = np.where(better, t, best_t)
        best_beta = np.where(better[:, None], bb, best_beta)
        best_sse = np.where(better, ff, best_sse)
    return best_t[:, None], best_beta, best_sse


def zoom(form: Form, x, y, w, ctx: Ctx, centre: np.ndarray, half: np.ndarray, tol: float = _ZOOM_SHRINK):
    """Refine the grid coordinate around ``centre`` by repeated local grids, each ``(q-1)/2`` times finer."""
    q = form.zoom_points
    lin = np.linspace(-1.0, 1.0, q)
    lo, hi = form.theta_bounds(ctx)
    n_iter = math.ceil(math.log(1 / tol) / math.log((q - 1) / 2))
    centre = centre.copy()
    half = half.copy()
    best_sse = np.full(centre.shape[0], np.inf)
    best_beta = np.zeros((centre.shape[0], form.m))
    for _ in range(n_iter + 1):
        axes = [np.clip(centre[:, j, None] + half[:, j, None] * lin, lo[:, j, None], hi[:, j, None])
                for j in range(form.p)]
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
    lo, hi = form.theta_bounds(ctx)
    grid = _product([np.clip(a[None], lo[:, j, None], hi[:, j, None]) for j, a in enumerate(axes)])
    beta, sse = profile(form, grid, xb, yb, wb, ctx)
    i = int(np.argmin(sse[0]))
    return form.assemble(grid[:, i], beta[:, i], ctx)[0]


def stage1(form: Form, X, Y, ctx: Ctx, parent: np.ndarray, W: np.ndarray, starts: int = 1,
           tol: float = _ZOOM_SHRINK) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares optimum on the y scale for each row: params (B, S, k) and weighted SSE (B, S).

    Loss laws use relative weights w / y**2 here (relative residuals ~ log residuals) so the start is already
    close to the log-scale optimum the polish then finds.
    """
    wy = W / np.maximum(Y[parent], 1e-300) ** 2 if form.log_residuals else W
    theta, beta, sse = search(form, X, Y, ctx, parent, wy, starts, tol)
    B, S = sse.shape
    rows = parent[np.repeat(np.arange(B), S)]
    params = form.assemble(theta.reshape(B * S, -1), beta.reshape(B * S, -1), _ctx_rows(ctx, rows))
    return params.reshape(B, S, form.k), sse


# --- stage 2: polish --------------------------------------------------------------------------------------------
def needs_polish(form: Form, loss: str) -> bool:
    return form.log_residuals or loss == "huber"


def batched_polish(form: Form, x: np.ndarray, y: np.ndarray, w: np.ndarray, counts: np.ndarray,
                   start: np.ndarray, lo: np.ndarray, hi: np.ndarray, loss: str, delta: np.ndarray,
                   max_iter: int = 200, gain: float = _LM_GAIN) -> np.ndarray:
    """Levenberg-Marquardt on all parameters for many rows at once (fits, leave-one-out and bootstrap refits).

    x (B, n[, 2]), y, w, counts (B, n), start (B, k), bounds lo/hi (B, k), delta (B,). Positive parameters are
    optimised on a log scale, bounds hold by projection; the Huber loss by iteratively reweighted least squares
    (weight psi(s)/s of the standardised residual s). Each row keeps its own damping and stops when a step gains
    less than ``gain`` of its objective (0: when no step gains at all).
    """
    B, k = start.shape
    pb = _Polish(form, x, y, w, counts, loss, np.broadcast_to(np.asarray(delta, float), (B,))[:, None], k)
    with np.errstate(divide="ignore", invalid="ignore"):
        zlo = np.where(pb.pos, np.log(np.maximum(lo, 0.0)), lo)
        zhi = np.where(pb.pos, np.log(hi), hi)
    z = np.clip(np.where(pb.pos, np.log(np.maximum(start, 1e-8)), start), zlo, zhi)
    every = np.arange(B)
    r = pb.resid(z, every)
    f = pb.obj(r, every)
    lam = np.full(B, 1e-3)
    active = np.isfinite(f)
    for _ in range(max_iter):
        i = np.flatnonzero(active)
        if not len(i):
            break
        step = pb.step(z[i], r[i], i, lam[i])
        # The model is g(f) + J dz, so the residual r - J dz falls along +step.
        zn = np.clip(z[i] + step, zlo[i], zhi[i])
        rn = pb.resid(zn, i)
        fn = pb.obj(rn, i)
        better = fn < f[i]
        won = np.where(better, f[i] - fn, 0.0)
        z[i[better]], r[i[better]], f[i[better]] = zn[better], rn[better], fn[better]
        lam[i] = np.where(better, lam[i] / 3, lam[i] * 4)
        done = (better & (won <= gain * np.maximum(f[i], 1e-300))) | (lam[i] > 1e8)
        active[i[done]] = False
    return pb.unpack(z)


class _Polish:
    """The rows of :func:`batched_polish`: residuals on the fitting scale, the objective, and one damped
    Gauss-Newton step, for any subset ``i`` of the rows (z: the parameters, positive ones on a log scale)."""

    def __init__(self, form: Form, x, y, w, counts, loss: str, d, k: int) -> None:
        self.form, self.x, self.w, self.counts, self.loss, self.d = form, x, w, counts, loss, d
        self.pos = np.asarray(form.positive, dtype=bool)
        self.gy = to_fit_scale(form, y)
        self.sw = np.sqrt(w)
        self.eye = np.eye(k)

    def unpack(self, zz):
        return np.where(self.pos, np.exp(np.minimum(zz, 700.0)), zz)

    def resid(self, zz, i):
        with np.errstate(all="ignore"):
            r = self.gy[i] - to_fit_scale(self.form, self.form.predict_params(self.unpack(zz), self.x[i]))
        return np.where(np.isfinite(r), r, 1e6)

    def obj(self, r, i):
        s_ = self.sw[i] * r
        rho = 0.5 * s_ * s_ if self.loss == "ls" else huber(s_, self.d[i])
        return (self.counts[i] * rho).sum(-1)

    def step(self, zi, ri, i, lam_i):
        """The Levenberg-Marquardt step of rows ``i`` at damping ``lam_i`` (Huber by reweighting)."""
        k = zi.shape[-1]
        h = 1e-7 * np.maximum(np.abs(zi), 1.0)
        J = np.empty(ri.shape + (k,))  # d g(f) / dz = -(d r / dz)
        for j in range(k):
            zp = zi.copy()
            zp[:, j] += h[:, j]
            J[..., j] = (ri - self.resid(zp, i)) / h[:, j, None]
        om = self.counts[i] * self.w[i]
        if self.loss == "huber":
            a = np.abs(self.sw[i] * ri)
            om = om * np.where(a <= self.d[i], 1.0, self.d[i] / np.maximum(a, 1e-300))
        Jw = J * om[..., None]
        A = np.swapaxes(Jw, -1, -2) @ J
        g = (Jw * ri[..., None]).sum(-2)
        diag = np.einsum("bii->bi", A)
        damp = lam_i[:, None, None] * (diag[:, :, None] * self.eye + 1e-12 * self.eye)
        with np.errstate(all="ignore"):
            step = _solve_steps(A + damp, g)
        return np.where(np.isfinite(step), step, 0.0)



def fit_rows(form: Form, X: np.ndarray, Y: np.ndarray, Wp: np.ndarray, ctx: Ctx, parent: np.ndarray,
             counts: np.ndarray, loss: str, delta, starts: int = 1, tol: float = _ZOOM_SHRINK) -> np.ndarray:
    """Best parameters (B, k) for rows on parent series: X (S, n[, 2]), Y (S, n), fitting-scale weights
    Wp (S, n) and context of each series; ``parent`` (B,) says whose data a row refits with ``counts`` (B, n)
    (bootstrap multiplicities, leave-one-out masks; 0 = absent)."""
    # Refits start close to their optimum: they are polished together (Levenberg-Marquardt), which also beats
    # zooming a 2-D grid down to machine precision.
    batch = starts == 1 and len(parent) > 1 and (needs_polish(form, loss) or form.p >= 2)
    if needs_polish(form, loss) or batch:
        tol = max(tol, _POLISH_START_TOL)
    params, sse = stage1(form, X, Y, ctx, parent, Wp[parent] * counts, starts=starts, tol=tol)
    if not needs_polish(form, loss) and not batch:
        best = np.argmin(sse, axis=1)
        return params[np.arange(len(best)), best]
    deltas = np.broadcast_to(np.asarray(delta, dtype=float), (len(parent),))
    B, S = params.shape[:2]
    rows = np.repeat(np.arange(B), S)  # every (row, start) pair is polished, all together
    pr = parent[rows]
    bounds = [form.bounds(X[i][Wp[i] > 0], Y[i][Wp[i] > 0]) for i in range(len(Y))]
    lo = np.array([bd[0] for bd in bounds])[pr]
    hi = np.array([bd[1] for bd in bounds])[pr]
    # Refits stop once a step gains little; the fits themselves run until no step gains at all.
    gain, max_iter = (_LM_GAIN, 50) if batch else (0.0, 2000)
    cand = batched_polish(form, X[pr], Y[pr], Wp[pr], counts[rows], params.reshape(B * S, -1), lo, hi, loss,
                          deltas[rows], max_iter=max_iter, gain=gain)
    vals = objective(form, cand, X[pr], Y[pr], Wp[pr], counts[rows], loss, deltas[rows][:, None])
    best = np.argmin(vals.reshape(B, S), axis=1)
    return cand.reshape(B, S, -1)[np.arange(B), best]
