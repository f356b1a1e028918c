"""fit, fit_batch, fit_series: validate, fit (many series and bootstrap replicates as one batch), summarise."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..observations import Series
from .bootstrap import cluster_labels, distinct_support, loo_counts, resample_counts
from .fitting import REFIT_TOL, fit_rows, stage1, to_fit_scale
from .forms import Form, get_form
from .quality import compute_quality
from .result import LawFit, jacobian

log = logging.getLogger(__name__)  # decisions made silently: series too degenerate to fit

LOSSES = ("ls", "huber")
LOG_HUBER_DELTA = 1e-3  # Besiroglu et al. 2024 on log loss
HUBER_TUNING = 1.345  # 95% efficiency under Gaussian noise, in units of a robust residual sd


@dataclass
class _Prepared:
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    w: np.ndarray  # fitting-scale weights, mean 1
    g_sigma: np.ndarray | None
    labels: np.ndarray


def _validate(form: Form, x, y, sigma, clusters) -> tuple[_Prepared | None, str]:
    """Coerce one series; a non-empty reason says why it cannot be fitted."""
    try:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        return None, f"x and y must be numeric ({exc})"
    if form.x_dim == 2:
        if x.ndim != 2 or x.shape[1] != 2:
            return None, f"{form.name} needs x as an (n, 2) array of [N, D], got shape {x.shape}"
    else:
        if x.ndim == 2 and 1 in x.shape:
            x = x.ravel()
        if x.ndim != 1:
            return None, f"{form.name} needs a 1-D x, got shape {x.shape}"
    y = y.ravel()
    if len(x) != len(y):
        return None, f"x has {len(x)} points but y has {len(y)}"
    n = len(y)
    k = form.k
    if n <= k:
        return None, f"{n} points for {k} parameters: a fit needs more points than parameters"
    bad_x = int(np.sum(~np.all(np.isfinite(x.reshape(n, -1)), axis=1)))
    bad_y = int(np.sum(~np.isfinite(y)))
    if bad_x or bad_y:
        return None, f"non-finite values (NaN or inf): {bad_y} in y, {bad_x} in x"
    if form.x_positive and np.any(x <= 0):
        return None, f"{form.name} needs x > 0 (it takes logs or powers of x)"
    if form.log_residuals and np.any(y <= 0):
        return None, f"{form.name} is fitted on log(y) and needs y > 0"
    if np.ptp(y) == 0:
        return None, "y is constant: there is no trend to fit"
    distinct = len(np.unique(x.reshape(n, -1), axis=0))
    need = min(k, 3) if form.x_dim == 1 else k
    if distinct < need:
        return None, f"only {distinct} distinct x values for {k} parameters"
    sig = None
    if sigma is not None:
        try:
            s = np.asarray(sigma, dtype=float).ravel()
        except (TypeError, ValueError):
            s = np.full(n, np.nan)
        if len(s) == n:
            good = np.isfinite(s) & (s > 0)
            if good.any():
                # Points without a known sd get the typical one: better than dropping the weights of all.
                sig = np.where(good, s, np.median(s[good]))
    g_sigma = None if sig is None else (sig / y if form.log_residuals else sig)
    if g_sigma is None:
        w = np.ones(n)
    else:
        w = 1.0 / g_sigma**2
        w = w / w.mean()
    labels = cluster_labels(clusters, n)
    if labels.max() + 1 <= k:  # too few clusters to refit from: resample points instead
        labels = np.arange(n)
    return _Prepared(x, y, sig, w, g_sigma, labels), ""


def _pad(items: list[_Prepared], form: Form):
    """Stack series of different lengths into (S, nmax) arrays; padding repeats a real point with weight 0."""
    nmax = max(len(p.y) for p in items)
    S = len(items)
    xshape = (S, nmax) if form.x_dim == 1 else (S, nmax, 2)
    X, Y, W, M = np.empty(xshape), np.empty((S, nmax)), np.zeros((S, nmax)), np.zeros((S, nmax))
    for i, p in enumerate(items):
        n = len(p.y)
        X[i, :n], Y[i, :n], W[i, :n], M[i, :n] = p.x, p.y, p.w, 1.0
        X[i, n:], Y[i, n:] = p.x[0], p.y[0]
    return X, Y, W, M


def _huber_deltas(form, X, Y, W, M, ctx, loss, huber_delta) -> np.ndarray:
    S = Y.shape[0]
    if loss != "huber":
        return np.full(S, np.nan)
    if huber_delta is not None:
        return np.full(S, float(huber_delta))
    if form.log_residuals:
        return np.full(S, LOG_HUBER_DELTA)
    # Robust scale (MAD) of the weighted least-squares residuals, per series.
    params, _ = stage1(form, X, Y, ctx, np.arange(S), W * M)
    f = form.predict_params(params[:, 0], X)
    r = np.sqrt(W) * (Y - f)
    out = np.empty(S)
    for i in range(S):
        ri = r[i][M[i] > 0]
        mad = float(stats.median_abs_deviation(ri, scale="normal"))  # robust sd: MAD x 1.4826
        out[i] = HUBER_TUNING * (mad if mad > 0 else np.std(ri) + 1e-12)
    return out


def fit_batch(xs, ys, form: str | Form = "exponential", *, sigmas=None, loss: str = "ls",
              huber_delta: float | None = None, n_boot: int = 0, seed: int = 0, clusters=None,
              level: float = 0.9, loo: bool = True, starts: int = 3) -> list[LawFit]:
    """Fit one form to many series at once (all series, leave-one-out refits and bootstrap replicates are
    batched together). ``sigmas`` and ``clusters`` are lists aligned with ``xs`` (or None). See :func:`fit`."""
    law = get_form(form)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    S = len(ys)
    sigmas = [None] * S if sigmas is None else list(sigmas)
    clusters = [None] * S if clusters is None else list(clusters)
    results: list[LawFit | None] = [None] * S
    prepared: list[_Prepared] = []
    live: list[int] = []
    for i in range(S):
        p, reason = _validate(law, xs[i], ys[i], sigmas[i], clusters[i])
        if p is None:
            log.debug("%s fit %d of %d unusable: %s", law.name, i + 1, S, reason)
            results[i] = LawFit.unusable(law, reason, xs[i], ys[i], sigmas[i], loss, seed, level)
        else:
            prepared.append(p)
            live.append(i)
    if prepared:
        for i, r in zip(live, _fit_prepared(law, prepared, loss, huber_delta, n_boot, seed, level, loo, starts),
                        strict=True):
            results[i] = r
    return results  # type: ignore[return-value]


def _fit_prepared(law: Form, items: list[_Prepared], loss, huber_delta, n_boot, seed, level, loo, starts):
    X, Y, W, M = _pad(items, law)
    S, nmax = Y.shape
    ctx = law.context(X, Y, M)
    deltas = _huber_deltas(law, X, Y, W, M, ctx, loss, huber_delta)
    with np.errstate(all="ignore"):
        main = fit_rows(law, X, Y, W, ctx, np.arange(S), M, loss, deltas, starts=starts)
    ns = np.array([len(p.y) for p in items])

    # Leave-one-out refits: one row per (series, left-out point), all in one batch.
    loo_pred = [None] * S
    if loo:
        sid = np.repeat(np.arange(S), ns)
        counts = np.concatenate([np.pad(loo_counts(n), ((0, 0), (0, nmax - n))) for n in ns])
        with np.errstate(all="ignore"):
            lp = fit_rows(law, X, Y, W, ctx, sid, counts, loss, deltas[sid], starts=1, tol=REFIT_TOL)
        start = 0
        for s, n in enumerate(ns):
            rows = lp[start:start + n]
            xi = items[s].x
            # Row j predicts its own left-out point j.
            with np.errstate(all="ignore"):
                loo_pred[s] = law.predict_params(rows, xi[:, None])[:, 0]
            start += n

    # Bootstrap: resample models (clusters), each replicate a row of count weights.
    boot = [None] * S
    if n_boot > 0:
        all_counts, sid_list, valid = [], [], []
        for s, p in enumerate(items):
            c = resample_counts(p.labels, n_boot, np.random.default_rng(seed))
            valid.append(distinct_support(p.x, c) >= (min(law.k, 3) if law.x_dim == 1 else law.k))
            all_counts.append(np.pad(c, ((0, 0), (0, nmax - len(p.y)))))
            sid_list.append(np.full(n_boot, s))
        sid = np.concatenate(sid_list)
        counts = np.concatenate(all_counts)
        with np.errstate(all="ignore"):
            bp = fit_rows(law, X, Y, W, ctx, sid, counts, loss, deltas[sid], starts=1, tol=REFIT_TOL)
        for s in range(S):
            b = bp[s * n_boot:(s + 1) * n_boot].copy()
            b[~valid[s]] = np.nan
            boot[s] = b

    out = []
    for s, p in enumerate(items):
        out.append(_result(law, p, main[s], loss, deltas[s], seed, level, loo_pred[s], boot[s]))
    return out


def _result(law: Form, p: _Prepared, params, loss, delta, seed, level, loo_pred, boot) -> LawFit:
    if not np.all(np.isfinite(params)):
        return LawFit.unusable(law, "the optimiser found no finite optimum", p.x, p.y, p.sigma, loss, seed, level)
    with np.errstate(all="ignore"):
        fitted = law.predict_params(params, p.x)
    if not np.all(np.isfinite(fitted)):
        return LawFit.unusable(law, "the fitted law is not finite at the data", p.x, p.y, p.sigma, loss, seed,
                               level)
    collapsed = collapse_reason(law, fitted, p.y)
    if collapsed:
        return LawFit.unusable(law, collapsed, p.x, p.y, p.sigma, loss, seed, level)
    g_resid = to_fit_scale(law, p.y) - to_fit_scale(law, fitted)
    k = law.k
    quality = compute_quality(p.y, fitted, g_resid, k, p.sigma, p.g_sigma, loo_pred)
    dof = max(len(p.y) - k, 1)
    noise = float(np.sqrt(np.sum(g_resid**2) / dof))
    # Delta-method covariance on the fitting scale.
    J = jacobian(law, params, p.x)
    if p.g_sigma is not None:
        Jw = J / p.g_sigma[:, None]
        chi2_red = float(np.sum((g_resid / p.g_sigma) ** 2)) / dof
        scale = max(1.0, chi2_red)
    else:
        Jw = J
        scale = noise**2
    cov = _covariance(Jw, scale)
    intervals: dict[str, tuple[float, float]] = {}
    inflation = boot_inflation(int(p.labels.max()) + 1, k, level) if boot is not None else 1.0
    if boot is not None:
        ok = np.all(np.isfinite(boot), axis=1)
        if ok.sum() >= 2:
            a = (1 - level) / 2
            widened = params + inflation * (boot[ok] - params)
            lo, hi = np.quantile(widened, [a, 1 - a], axis=0)
            intervals = {n: (float(lo[i]), float(hi[i])) for i, n in enumerate(law.param_names)}
    return LawFit(law=law, param_names=law.param_names,
                  params={n: float(params[i]) for i, n in enumerate(law.param_names)}, usable=True, reason="",
                  n=len(p.y), x=p.x, y=p.y, sigma=p.sigma, residuals=p.y - fitted, loss=loss, seed=seed,
                  level=level, quality=quality, boot_params=boot, param_intervals=intervals,
                  huber_delta=float(delta) if loss == "huber" else None, cov=cov, noise_scale=noise,
                  boot_inflation=inflation,
                  clusters=p.labels)


# A fitted curve whose values over its own data vary by less than this fraction of the data's spread is a
# constant: the form's constraints kept it from following the series (e.g. power_floor, which only falls with x,
# on a rising accuracy fits A = 0 or alpha = 0).
COLLAPSE_TOL = 1e-6


def collapse_reason(law: Form, fitted: np.ndarray, y: np.ndarray) -> str:
    """Why a fit is a constant in disguise (empty when it is not).

    A constant "law" predicts today's mean at every scale and, with a residual-sized interval, seems to cover;
    it is no law of this form, so the result says so instead of reporting a degenerate fit as usable.
    """
    spread = float(np.ptp(y))
    if spread > 0 and float(np.ptp(fitted)) <= COLLAPSE_TOL * spread:
        return (f"{law.name} cannot follow this series: its best fit is a constant ({law.formula} with its "
                "constraints cannot take the series' direction or shape)")
    return ""


def boot_inflation(n_clusters: int, k: int, level: float) -> float:
    """Widening of bootstrap deviations for small samples: ``sqrt(G/(G-k)) * t_{G-k} / z`` at the level's
    quantile, with G the number of resampled clusters (points, or model sizes).

    A pairs bootstrap spreads like an estimate with G, not G - k, degrees of freedom and has normal, not
    Student-t, tails; with 35 points and 3 parameters its 90% intervals cover ~85%. This is the usual degrees-of-
    freedom correction (as in HC1 and cluster-robust errors), and it vanishes as G grows.
    """
    dof = max(n_clusters - k, 1)
    q = 0.5 + level / 2
    return float(np.sqrt(n_clusters / dof) * stats.t.ppf(q, dof) / stats.norm.ppf(q))


def _covariance(Jw: np.ndarray, scale: float) -> np.ndarray | None:
    """``scale * (J'J)^-1``, column-equilibrated first (parameters may differ by hundreds of orders of
    magnitude, e.g. a steep exponential's ``a``); None when not finite."""
    if not np.all(np.isfinite(Jw)):
        return None
    with np.errstate(all="ignore"):
        norms = np.sqrt(np.sum(Jw**2, axis=0))
    if not np.all((norms > 0) & np.isfinite(norms)):
        return None
    Js = Jw / norms
    try:
        inv = np.linalg.pinv(Js.T @ Js)
    except np.linalg.LinAlgError:
        return None
    with np.errstate(all="ignore"):  # a degenerate fit's covariance overflows: no covariance, said by None
        cov = inv / np.outer(norms, norms) * scale
    return cov if np.all(np.isfinite(cov)) else None


def fit(x, y, form: str | Form = "exponential", *, sigma=None, loss: str = "ls", huber_delta: float | None = None,
        n_boot: int = 0, seed: int = 0, clusters=None, level: float = 0.9, loo: bool = True,
        starts: int = 3) -> LawFit:
    """Fit a law to one series.

    x: 1-D array, or (n, 2) array of [N, D] for ``chinchilla``. sigma: per-point sampling sd (weights 1/sigma^2;
    None = unweighted). loss: ``"ls"`` or ``"huber"`` (on log residuals for loss laws; default delta 1e-3 there,
    else 1.345 robust residual sds). n_boot: bootstrap replicates resampling models, by ``clusters`` (labels such
    as model size) when given. level: the level of ``param_intervals`` and the default of ``interval``.
    loo: compute the leave-one-out error. starts: how many distinct grid basins to refine (multi-start).

    Never raises on degenerate data: the result is then ``usable=False`` with a ``reason``.
    """
    return fit_batch([x], [y], form, sigmas=[sigma], loss=loss, huber_delta=huber_delta, n_boot=n_boot, seed=seed,
                     clusters=[clusters], level=level, loo=loo, starts=starts)[0]


def law_x(series: Series, form: str | Form = "exponential") -> np.ndarray:
    """x of ``series`` as ``form`` takes it: the one definition of "the law on this axis".

    A two-variable form (Chinchilla) takes (N, D) pairs. A form that takes logs or powers of x itself
    (``Form.x_positive``: power laws, the sigmoid in log compute) takes the raw axis. Every other form is fitted
    against the loss, or against ln of a scale axis (params, tokens, FLOPs), as the classifier fits it
    (:func:`scalecheck.observations.series.law_axis`): an exponential in ln N is a power law in N, whereas an
    exponential in raw FLOPs overflows or degenerates to a constant. Fitting and predicting both go through here.
    """
    law = get_form(form)
    if law.x_dim == 2:
        return np.column_stack([series.params, series.tokens])
    if law.x_positive:
        return np.asarray(series.x, float)
    return series.law_x


def series_arrays(series: Series, form: str | Form):
    """(x, y, sigma, clusters) of a series for ``form``, x on the form's axis (:func:`law_x`)."""
    sd = series.noise_sd
    sigma = None if not np.any(np.isfinite(sd)) else sd
    return law_x(series, form), series.y, sigma, series.params


def fit_series(series: Series, form: str | Form = "exponential", **kw) -> LawFit:
    """Fit ``form`` to a :class:`~scalecheck.observations.Series`: sigma from ``series.noise_sd`` (unweighted
    where none is known), bootstrap clusters from ``series.params`` (checkpoints or corpora that share a model
    size are resampled together). Keyword arguments as :func:`fit` (``sigma=``/``clusters=`` override)."""
    law = get_form(form).specialise(series)
    x, y, sigma, clusters = series_arrays(series, law)
    kw.setdefault("sigma", sigma)
    kw.setdefault("clusters", clusters)
    return fit(x, y, law, **kw)


def fit_many(series_list, form: str | Form = "exponential", **kw) -> list[LawFit]:
    """:func:`fit_series` for many series in one batch (much faster than a loop for the grid-solved forms)."""
    series_list = list(series_list)
    out: list[LawFit | None] = [None] * len(series_list)
    # Series whose form specialises alike (e.g. one chance level) are fitted in one batch.
    for law, idx in specialised(series_list, form).items():
        arrays = [series_arrays(series_list[i], law) for i in idx]
        fits = fit_batch([a[0] for a in arrays], [a[1] for a in arrays], law, sigmas=[a[2] for a in arrays],
                         clusters=[a[3] for a in arrays], **kw)
        for i, f in zip(idx, fits, strict=True):
            out[i] = f
    return out  # type: ignore[return-value]


def specialised(series_list, form: str | Form) -> dict[Form, list[int]]:
    """``form`` specialised to each series (:meth:`Form.specialise`), grouped: specialised form -> indices."""
    base = get_form(form)
    groups: dict[Form, list[int]] = {}
    for i, s in enumerate(series_list):
        groups.setdefault(base.specialise(s), []).append(i)
    return groups
