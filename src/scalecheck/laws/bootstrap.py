"""Resampling plans for the bootstrap and leave-one-out, as count weights.

A bootstrap replicate that resamples models with replacement is the same fit with each point weighted by how many
times it was drawn, so every replicate of a series shares x and y and differs only in its weights: that is what
lets the engine fit thousands of replicates as one batched array.
"""

from __future__ import annotations

import numpy as np


def cluster_labels(clusters, n: int) -> np.ndarray:
    """Integer cluster ids 0..G-1 for ``n`` points (each point its own cluster when ``clusters`` is None).

    Missing labels (NaN or None) each form a cluster of their own: nothing says they share a size.
    """
    if clusters is None:
        return np.arange(n)
    raw = list(np.asarray(clusters, dtype=object).ravel())
    if len(raw) != n:
        return np.arange(n)
    keys = []
    for i, v in enumerate(raw):
        missing = v is None or (isinstance(v, float) and np.isnan(v))
        keys.append(("__missing__", i) if missing else ("v", str(v)))
    index: dict = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=int)


def resample_counts(labels: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) counts: clusters drawn with replacement (as many draws as clusters), each point inheriting
    its cluster's count."""
    labels = np.asarray(labels, dtype=int)
    g = int(labels.max()) + 1 if labels.size else 0
    if n_boot <= 0 or g == 0:
        return np.zeros((max(n_boot, 0), labels.size), dtype=float)
    draws = rng.integers(0, g, size=(n_boot, g))
    flat = (draws + g * np.arange(n_boot)[:, None]).ravel()
    per_cluster = np.bincount(flat, minlength=g * n_boot).reshape(n_boot, g)
    return per_cluster[:, labels].astype(float)


def loo_counts(n: int) -> np.ndarray:
    """(n, n) weights: row i leaves point i out."""
    return 1.0 - np.eye(n)


def distinct_support(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each row of counts, how many distinct x values (rows of x for 2-D x) carry weight."""
    xr = x.reshape(len(x), -1)
    _, inv = np.unique(xr, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    g = int(inv.max()) + 1
    present = np.zeros((counts.shape[0], g), dtype=bool)
    rows, cols = np.nonzero(counts > 0)
    present[rows, inv[cols]] = True
    return present.sum(axis=1)
