"""A series: one task and metric against one x, over the models of one scope. What laws are fitted to."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..schema import NOT_PROPORTIONS

# Binomial noise needs a p away from 0 and 1: a model scoring 0/100 still has sampling noise.
# Using p clipped to [0.5/n, 1-0.5/n] is the usual continuity correction (Agresti-Coull style).
_CONTINUITY = 0.5


def binomial_sd(p, n) -> np.ndarray:
    """The sampling sd of a share ``p`` of ``n`` examples, with ``p`` continuity-corrected (see above)."""
    p = np.clip(p, _CONTINUITY / n, 1 - _CONTINUITY / n)
    return np.sqrt(p * (1 - p) / n)


def law_axis(x, x_is_loss: bool) -> np.ndarray:
    """x as a monotone law sees it: the loss itself, or the natural log of a scale axis (params, tokens, FLOPs).

    Every scaling-law paper fits a scale axis on a log scale (an exponential in ln N is a power law in N); one
    definition here serves the classifier, the backtests and the predictions (``scalecheck.laws.law_x``)."""
    x = np.asarray(x, float)
    if x_is_loss:
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(x > 0, x, np.nan))


@dataclass(frozen=True)
class Series:
    """Points (x, y) of one task and metric, sorted by x ascending, with what is known of their noise.

    ``x_is_loss`` says whether x is a loss (scale grows as x falls) or a scale axis (scale grows with x).
    ``stderr`` holds the source's standard errors (NaN where none); :attr:`noise_sd` fills the gaps with
    binomial errors from ``n_examples``.
    """

    task: str
    metric: str
    x_name: str
    x: np.ndarray
    y: np.ndarray
    stderr: np.ndarray
    n_examples: np.ndarray
    models: tuple[str, ...]
    params: np.ndarray
    tokens: np.ndarray
    flops: np.ndarray
    groups: tuple[str, ...]  # corpus (or family) of each point, for colouring and per-group work
    holdout: np.ndarray
    chance: float = float("nan")
    higher_is_better: bool = True
    x_is_loss: bool = True
    scope: dict[str, str] = field(default_factory=dict)
    shots: int | None = None
    variant: str = ""
    n_dropped: int = 0  # points dropped for a missing x or y

    def __len__(self) -> int:
        return len(self.x)

    @property
    def scope_label(self) -> str:
        return "all" if not self.scope else ",".join(f"{v}" for v in self.scope.values())

    @property
    def label(self) -> str:
        return f"{self.task} [{self.metric}] vs {self.x_name} ({self.scope_label})"

    @property
    def noise_sd(self) -> np.ndarray:
        """Sampling standard deviation of each y: the reported stderr, else binomial, else NaN.

        A reported stderr of 0 (lm-evaluation-harness reports sqrt(p(1-p)/(n-1)), which is 0 for a score of
        exactly 0 or 1) is not a noise-free point: it is treated as missing and gets the continuity-corrected
        binomial sd, so one such point cannot outweigh the rest of a weighted fit.
        """
        sd = self.stderr.astype(float).copy()
        sd[sd <= 0] = np.nan
        need = np.isnan(sd) & ~np.isnan(self.n_examples)
        if need.any() and self.metric_is_proportion:
            sd[need] = binomial_sd(self.y[need], self.n_examples[need])
        return sd

    @property
    def law_x(self) -> np.ndarray:
        """x on the law's axis (:func:`law_axis`): the loss, or ln of a scale axis."""
        return law_axis(self.x, self.x_is_loss)

    @property
    def metric_is_proportion(self) -> bool:
        """Whether y is a share of examples: within [0, 1], and not a metric that never is one (a loss)."""
        return self.metric not in NOT_PROPORTIONS and bool(np.all((self.y >= 0) & (self.y <= 1)))

    @property
    def scale_order(self) -> np.ndarray:
        """Indices from the smallest model to the largest (by x: descending loss, or ascending scale)."""
        return np.argsort(-self.x if self.x_is_loss else self.x, kind="mergesort")

    def subset(self, mask: np.ndarray) -> Series:
        mask = np.asarray(mask)
        idx = np.flatnonzero(mask) if mask.dtype == bool else mask
        pick = lambda a: a[idx]  # noqa: E731
        pick_t = lambda t: tuple(t[i] for i in idx)  # noqa: E731
        return replace(self, x=pick(self.x), y=pick(self.y), stderr=pick(self.stderr),
                       n_examples=pick(self.n_examples), models=pick_t(self.models), params=pick(self.params),
                       tokens=pick(self.tokens), flops=pick(self.flops), groups=pick_t(self.groups),
                       holdout=pick(self.holdout))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "model": list(self.models), "group": list(self.groups), "x": self.x, "y": self.y,
            "stderr": self.stderr, "noise_sd": self.noise_sd, "n_examples": self.n_examples,
            "params": self.params, "tokens": self.tokens, "flops": self.flops, "holdout": self.holdout,
        })
