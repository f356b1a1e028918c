"""Which models a law is fitted on and which it must predict: size steps, expanding windows, hold-outs.

A *size* is a distinct parameter count: several token multipliers (or checkpoints) of one model size count as
one size step, because a law that has seen a size at one token budget has seen its architecture. Sizes are
ordered by parameters; the expanding window fits on the k smallest sizes and predicts every larger one, for
every k that leaves enough points to fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SelectionError
from ..observations import Series
from ..observations.sizes import size_ranks, size_scale
from ..sources.ladder_file import read_ladder

SCHEMES = ("expanding", "leave_largest_out", "holdout")

# Sizes and their ranks (size_scale, size_ranks) live with the observations: one definition for these windows, the
# laws' inner backtest and the reliability estimate.
__all__ = ["SCHEMES", "Split", "size_scale", "size_ranks", "expanding_splits", "leave_largest_out", "holdout_split",
           "splits", "holdout_models"]


@dataclass(frozen=True)
class Split:
    """One fit/predict split of a series: boolean masks over its points."""

    scheme: str
    k_sizes_fit: int  # distinct sizes among the points fitted on
    train: np.ndarray
    test: np.ndarray

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_test(self) -> int:
        return int(self.test.sum())


def expanding_splits(series: Series, min_train: int = 3, min_sizes: int = 2) -> list[Split]:
    """Fit on the k smallest sizes, predict all larger ones, for k = ``min_sizes`` .. n_sizes - 1.

    A k whose fit set has fewer than ``min_train`` points is skipped (too few for the law's parameters).
    """
    ranks = size_ranks(size_scale(series))
    n_sizes = int(ranks.max()) + 1 if ranks.size else 0
    out = []
    for k in range(max(min_sizes, 1), n_sizes):
        train, test = ranks < k, ranks >= k
        if train.sum() >= min_train and test.any():
            out.append(Split("expanding", k, train, test))
    return out


def leave_largest_out(series: Series, min_train: int = 3) -> list[Split]:
    """Fit on every size but the largest, predict the largest."""
    ranks = size_ranks(size_scale(series))
    if ranks.size == 0 or ranks.max() < 1:
        return []
    top = int(ranks.max())
    train, test = ranks < top, ranks == top
    return [Split("leave_largest_out", top, train, test)] if train.sum() >= min_train else []


def holdout_split(series: Series, holdout: np.ndarray | None = None, min_train: int = 3) -> list[Split]:
    """Fit on the points not declared hold-out, predict the declared ones (``series.holdout`` by default)."""
    mask = np.asarray(series.holdout if holdout is None else holdout, bool)
    train = ~mask
    if not mask.any() or train.sum() < min_train:
        return []
    ranks = size_ranks(size_scale(series))
    return [Split("holdout", int(np.unique(ranks[train]).size), train, mask)]


def splits(series: Series, scheme: str, *, holdout: np.ndarray | None = None, min_train: int = 3) -> list[Split]:
    if scheme == "expanding":
        return expanding_splits(series, min_train=min_train)
    if scheme == "leave_largest_out":
        return leave_largest_out(series, min_train=min_train)
    if scheme == "holdout":
        return holdout_split(series, holdout, min_train=min_train)
    raise SelectionError(f"unknown backtest scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")


def holdout_models(declared: str | Path | Iterable[str]) -> frozenset[str]:
    """The model ids declared as prediction targets.

    ``declared`` is a ladder file (YAML, see :mod:`scalecheck.sources.ladder_file`; its ``holdout: true`` models),
    or an iterable of model ids.
    """
    if isinstance(declared, (str, Path)):
        ladder = read_ladder(declared)
        return frozenset(m.name for m in ladder.models if m.holdout)
    return frozenset(str(m) for m in declared)
