"""Model sizes: what orders a series' points by size, and their ranks (the one definition the backtest's windows,
the inner backtest of :mod:`scalecheck.laws.select` and the reliability estimate share).

A *size* is a distinct parameter count: several token multipliers (or checkpoints) of one model size are one size,
and counts within :data:`SIZE_RTOL` of each other are one size, because importers round differently (1.44e9 vs
1.4e9).
"""

from __future__ import annotations

import numpy as np

from ..errors import SelectionError
from .series import Series

SIZE_RTOL = 0.05


def size_scale(series: Series) -> np.ndarray:
    """What orders the points by model size: parameters, else FLOPs (for sources that give only compute)."""
    params = np.asarray(series.params, float)
    if np.isfinite(params).all():
        return params
    flops = np.asarray(series.flops, float)
    if np.isfinite(flops).all():
        return flops
    raise SelectionError(f"{series.label}: models without params or flops cannot be ordered by size")


def size_ranks(values: np.ndarray, rtol: float = SIZE_RTOL) -> np.ndarray:
    """0 for the points of the smallest size, 1 for the next, ...; values within ``rtol`` of the last new size
    share its rank."""
    values = np.asarray(values, float)
    if values.size == 0:
        return np.zeros(0, int)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, int)
    rank, anchor = 0, values[order[0]]
    for i in order:
        if values[i] > anchor * (1 + rtol):
            rank, anchor = rank + 1, values[i]
        ranks[i] = rank
    return ranks
