"""One model over the whole size x checkpoint grid, as Michaelov & Bergen (2023) fitted one.

metric = b0 + b_p * log10(params) + b_t * log10(tokens) + b_pt * log10(params) * log10(tokens)  (+ family effects)

by ordinary least squares (statsmodels), both logs centred on the grid's means so that ``b_p`` is the effect of
a decade of parameters at the grid's average training length and ``b_t`` that of a decade of tokens at its
average size. The checkpoints of one run are repeated measures of one model, not independent models: the
standard errors are cluster-robust by run (CR1, t with runs - 1 degrees of freedom). Eight points per curve are
few; the grid pools them all (64 for the Pythia ladder).

The answer, "worse with size, with training, both or neither", reads the two main effects in the metric's own
direction at ``alpha`` after the run's multiple-testing adjustment (Benjamini-Hochberg by default, or Holm) over
every grid test of the run (two per task, metric, setting).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..observations import Testbed

MIN_RUNS = 3
MIN_STEPS = 3


@dataclass(frozen=True)
class GridFit:
    task: str
    metric: str
    shots: int | None
    variant: str
    higher_is_better: bool
    n_points: int
    n_runs: int
    b_params: float  # per decade of parameters, at the grid's mean log tokens (metric units)
    se_params: float
    p_params: float
    b_tokens: float  # per decade of tokens, at the grid's mean log params
    se_tokens: float
    p_tokens: float
    b_interaction: float  # per decade of each
    se_interaction: float
    p_interaction: float
    size_slope_final: float  # per decade of parameters at the most tokens (the end of training)
    training_slope_largest: float  # per decade of tokens at the largest size
    r_squared: float
    p_params_adjusted: float = float("nan")
    p_tokens_adjusted: float = float("nan")
    worse_with: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def fit_grid(testbed: Testbed, task: str, metric: str, shots: int | None, variant: str) -> GridFit | None:
    """The grid model of one task, metric and setting; None where the testbed has no grid (too few runs/steps)."""
    from statsmodels.regression.linear_model import OLS

    s = testbed.scores
    sub = s[(s["task"] == task) & (s["metric"] == metric) & (s["variant"] == variant)]
    sub = sub[sub["shots"].isna()] if shots is None else sub[sub["shots"] == shots]
    df = sub.merge(testbed.models, on="model", how="inner")
    df = df[df["params"].notna() & df["tokens"].notna() & df["run"].notna()]
    if df["run"].nunique() < MIN_RUNS or df["step"].nunique() < MIN_STEPS:
        return None
    lp = np.log10(df["params"].to_numpy(float))
    lt = np.log10(df["tokens"].to_numpy(float))
    lp0, lt0 = lp - lp.mean(), lt - lt.mean()
    cols = [np.ones(len(df)), lp0, lt0, lp0 * lt0]
    fams = sorted(df["family"].fillna("-").unique().tolist())
    fam = df["family"].fillna("-").to_numpy()
    cols += [(fam == f).astype(float) for f in fams[1:]]
    X = np.column_stack(cols)
    y = df["value"].to_numpy(float)
    groups = pd.factorize(df["run"])[0]
    res = OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}, use_t=True)
    b, cov = np.asarray(res.params), np.asarray(res.cov_params())
    hib = sub["higher_is_better"].dropna()
    return GridFit(
        task=task, metric=metric, shots=shots, variant=variant,
        higher_is_better=bool(hib.iloc[0]) if len(hib) else True, n_points=len(df), n_runs=int(groups.max() + 1),
        b_params=float(b[1]), se_params=float(np.sqrt(cov[1, 1])), p_params=float(res.pvalues[1]),
        b_tokens=float(b[2]), se_tokens=float(np.sqrt(cov[2, 2])), p_tokens=float(res.pvalues[2]),
        b_interaction=float(b[3]), se_interaction=float(np.sqrt(cov[3, 3])), p_interaction=float(res.pvalues[3]),
        size_slope_final=float(b[1] + b[3] * lt0.max()), training_slope_largest=float(b[2] + b[3] * lp0.max()),
        # R^2 is undefined where the scores do not vary (statsmodels divides by zero and warns): NaN.
        r_squared=float(res.rsquared) if res.centered_tss > 0 else float("nan"))


def adjust_grid(fits: list[GridFit], method: str, alpha: float) -> list[GridFit]:
    """The adjustment ``method`` over the size and training effects of every grid model; then the answer."""
    from statsmodels.stats.multitest import multipletests

    if not fits:
        return []
    ps = np.array([[g.p_params, g.p_tokens] for g in fits], float).ravel()
    ok = np.isfinite(ps)
    padj = np.full(ps.shape, np.nan)
    if ok.any():
        padj[ok] = multipletests(ps[ok], alpha=alpha, method=method)[1]
    out = []
    for i, g in enumerate(fits):
        qp, qt = padj[2 * i], padj[2 * i + 1]
        sign = 1.0 if g.higher_is_better else -1.0
        worse = [name for name, b, q in (("size", g.b_params, qp), ("training", g.b_tokens, qt))
                 if np.isfinite(q) and q < alpha and sign * b < 0]
        better = [name for name, b, q in (("size", g.b_params, qp), ("training", g.b_tokens, qt))
                  if np.isfinite(q) and q < alpha and sign * b > 0]
        if len(worse) == 2:
            answer = "worse with both"
        elif worse:
            answer = f"worse with {worse[0]}" + (f", better with {better[0]}" if better else "")
        elif better:
            answer = "better with " + (" and ".join(better))
        else:
            answer = "neither"
        out.append(replace(g, p_params_adjusted=float(qp), p_tokens_adjusted=float(qt), worse_with=answer))
    return out
