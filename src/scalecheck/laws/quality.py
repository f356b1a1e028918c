"""Fit quality: how well a law describes its series, and against what noise.

- ``r2``, ``rmse``, ``sse``: on the metric's own scale, unweighted (what a reader of the plot sees).
- ``chi2``, ``chi2_red``: squared residuals in units of each point's known sampling sd; ``chi2_red`` near 1 means
  the law explains everything but sampling noise, well above 1 means structure (or noise) the law misses.
  NaN when no sampling sd is known.
- ``aic``, ``bic``: Gaussian information criteria on the fitting scale (log for loss laws): with known sampling
  sd ``chi2 + 2k`` (``+ k ln n``), otherwise ``n ln(SSE/n) + 2k`` (``+ k ln n``). Compare them between forms
  fitted to the same series only.
- ``loo_rmse``: root mean squared error of each point predicted by the law refitted without it: the honest
  out-of-sample error that exposes over-flexible forms.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Quality:
    r2: float = float("nan")
    rmse: float = float("nan")
    sse: float = float("nan")
    chi2: float = float("nan")
    chi2_red: float = float("nan")
    dof: int = 0
    aic: float = float("nan")
    bic: float = float("nan")
    loo_rmse: float = float("nan")

    def to_dict(self) -> dict:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(self).items()}


def compute_quality(y: np.ndarray, fitted: np.ndarray, g_resid: np.ndarray, k: int, sigma: np.ndarray | None,
                    g_sigma: np.ndarray | None, loo_pred: np.ndarray | None) -> Quality:
    """``g_resid`` are residuals on the fitting scale and ``g_sigma`` the sampling sd on that scale."""
    n = len(y)
    resid = y - fitted
    sse = float(np.sum(resid**2))
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else float("nan")
    dof = n - k
    chi2 = float(np.sum((resid / sigma) ** 2)) if sigma is not None else float("nan")
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    if g_sigma is not None:
        core = float(np.sum((g_resid / g_sigma) ** 2))
    else:
        gsse = float(np.sum(g_resid**2))
        core = n * math.log(max(gsse, 1e-300) / n)
    aic = core + 2 * k
    bic = core + k * math.log(n)
    loo = float(np.sqrt(np.mean((y - loo_pred) ** 2))) if loo_pred is not None else float("nan")
    return Quality(r2=r2, rmse=math.sqrt(sse / n), sse=sse, chi2=chi2, chi2_red=chi2_red, dof=dof, aic=aic,
                   bic=bic, loo_rmse=loo)
