"""Synthetic series of each of the six behaviours, with realistic sizes and binomial noise.

These are what the classifier's criteria are tested against (tests/trends, benchmarks/classify_synthetic.py).
Each draw mimics a ladder scored on one task:

- x: C4-like validation losses, ``n_models`` (8-40) spread over [x_lo, x_hi] with x_lo in [2.5, 3.5] and
  x_hi in [4.5, 6] (the built-in testbed spans 2.4-6.1);
- a task with chance 0.25, 0.5 or 0 and ``n_examples`` log-uniform in [50, 10,000], the same for every model;
- y: the share of ``n_examples`` a model gets right, drawn Binomial(n_examples, p(x)) / n_examples.

Every shape is drawn with an effect that sampling noise cannot hide (``MIN_EFFECT_SD`` binomial standard
deviations: the rise, the fall, each arm of a turn); a "breakthrough" smaller than its noise is not one that
anybody, or any criterion, could see. Where a draw cannot meet that (too few examples for the headroom) the
task size is drawn again.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..observations import Series
from ..observations.series import binomial_sd

SHAPES = ("predictable", "inverse", "non-monotonic", "noisy", "trendless", "breakthrough")
# The smallest effect drawn (a rise, a fall, each arm of a turn), in binomial standard deviations of one model's
# score at the task's own level: 6 sd is what an eye calls "clearly there" with 8 models.
MIN_EFFECT_SD = 6.0
CHANCES = (0.25, 0.5, 0.0)
NM_MIN_ARM_RATIO = 0.5
N_MODELS = (8, 40)
N_EXAMPLES = (50, 10_000)
# Extra model-to-model scatter of a noisy series, in binomial sds, and as a share of the trend's rise: big enough
# against the trend that the law explains under about half of the visible variance (a rise under ~3.5 sds of
# scatter), small enough that the trend stays visible (a rise over ~2.2 sds spans a third of the plotted range).
NOISY_SCATTER_SD = (3.0, 6.0)
NOISY_SCATTER_SHARE = (0.3, 0.45)
NOISY_MIN_TREND_T = 4.0
# ...and, on the plot, the true curve explains at most this share of the expected visible variance (its variance
# against its variance plus the scatter's): what "the scatter around it is large" means to a reader of the plot.
NOISY_MAX_TRUE_R2 = 0.45
# A noisy series is drawn on a longer ladder (up to the built-in testbed's 104 models): scatter that hides the trend
# from the eye also hides it from a test on 8-40 models, which makes the series trendless, not noisy.
NOISY_N_MODELS = (30, 104)
# A breakthrough's rise ends on a plateau holding this share of the models (the centre of its sigmoid at this
# quantile of the losses): that plateau after a jump is what no exponential in loss can follow.
BREAK_CENTRE_QUANTILE = (0.3, 0.55)


def _losses(rng: np.random.Generator, n_models: int) -> np.ndarray:
    lo, hi = rng.uniform(2.5, 3.5), rng.uniform(4.5, 6.0)
    inner = rng.uniform(lo, hi, size=n_models - 2)
    return np.sort(np.concatenate([[lo, hi], inner]))


def _curve(shape: str, rng: np.random.Generator, x: np.ndarray, chance: float, n: float) -> np.ndarray | None:
    """The true score p(x) of each model, or None if this task size cannot show the shape."""
    lo, hi = x.min(), x.max()
    span = hi - lo
    if shape in ("predictable", "noisy"):
        # Exponential in loss rising from near chance (Gadre et al.'s form): p = chance + A*exp(-k*(x - lo)).
        k = rng.uniform(0.6, 2.0)
        top = rng.uniform(0.3, 0.95) * (1 - chance)
        start = top * np.exp(-k * span)
        rise = top - start
        if rise < MIN_EFFECT_SD * binomial_sd(chance + top / 2, n):
            return None
        return chance + top * np.exp(-k * (x - lo))
    if shape == "inverse":
        # The mirror: good for the small models, worse and worse as loss falls (possibly below chance).
        k = rng.uniform(0.6, 2.0)
        high = rng.uniform(chance + 0.1, 0.95) if chance < 0.85 else 0.95
        drop = rng.uniform(0.3, 0.9) * high
        p = high - drop * np.exp(-k * (x - lo)) + drop * np.exp(-k * span)
        if np.ptp(p) < MIN_EFFECT_SD * binomial_sd(p.mean(), n):
            return None
        return np.clip(p, 0.0, 1.0)
    if shape == "non-monotonic":
        # A turn strictly inside the range (30-70% of the models on one side), each arm a power curve.
        turn = np.quantile(x, rng.uniform(0.3, 0.7))
        mid = rng.uniform(0.2, 0.8)
        # Both arms plainly visible: the shorter at least half the longer (a dip of the first few models before a
        # long rise is how the paper's readers see a trend with a wobble, not a reversal).
        arm1, arm2 = rng.uniform(0.1, 0.4, size=2)
        if min(arm1, arm2) < NM_MIN_ARM_RATIO * max(arm1, arm2):
            return None
        power = rng.uniform(1.0, 2.0)
        d = np.where(x > turn, (x - turn) / (hi - turn), (turn - x) / (turn - lo))
        amp = np.where(x > turn, arm1, arm2)
        inverted_u = rng.random() < 0.5  # better then worse as scale grows (loss falls)
        p = mid - amp * d**power if inverted_u else mid + amp * d**power
        p = np.clip(p, 0.01, 0.99)
        if min(arm1, arm2) < MIN_EFFECT_SD * binomial_sd(mid, n):
            return None
        return p
    if shape == "trendless":
        # Flat, at or a little above chance.
        level = chance + (rng.uniform(0.0, 0.05) if chance > 0 else rng.uniform(0.01, 0.1))
        return np.full(len(x), level)
    if shape == "breakthrough":
        # Flat at the floor for 50-85% of the models, then a sharp sigmoid rise (width 1-5% of the range).
        centre = np.quantile(x, rng.uniform(*BREAK_CENTRE_QUANTILE))
        width = rng.uniform(0.01, 0.05) * span
        amp = rng.uniform(0.2, 0.8) * (1 - chance)
        if amp < MIN_EFFECT_SD * binomial_sd(chance + amp / 2, n):
            return None
        return chance + amp / (1 + np.exp(-(centre - x) / width))
    raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")


def draw_series(shape: str, rng: np.random.Generator, *, n_models: int | None = None,
                n_examples: int | None = None, chance: float | None = None, task: str | None = None) -> Series:
    """One synthetic series of ``shape`` (x = a C4-like loss, y = accuracy with binomial noise)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")
    for _ in range(1000):
        lo_m, hi_m = NOISY_N_MODELS if shape == "noisy" else N_MODELS
        m = n_models or int(rng.integers(lo_m, hi_m + 1))
        n = n_examples or int(round(np.exp(rng.uniform(np.log(N_EXAMPLES[0]), np.log(N_EXAMPLES[1])))))
        c = chance if chance is not None else float(rng.choice(CHANCES))
        x = _losses(rng, m)
        p = _curve(shape, rng, x, c, n)
        if p is None:
            continue
        if shape == "noisy":
            # Model-to-model scatter shaped like binomial noise (sd proportional to sqrt(p(1-p)), as in a
            # beta-binomial: no scatter below a floor of zeros), "several times" the sampling sd and a sizeable
            # share of the rise (at p = 1/2).
            rise = float(np.ptp(p))
            coef = max(rng.uniform(*NOISY_SCATTER_SD) / np.sqrt(n), 2 * rng.uniform(*NOISY_SCATTER_SHARE) * rise)
            shape_sd = np.sqrt(p * (1 - p))
            tau, sd = coef * shape_sd, binomial_sd(p, n)
            # "A trend exists": the rise must stand out of the total scatter as a regression slope would see it
            # (t = rise/sd * sqrt(m/12) for evenly spread x); a trend buried in its scatter looks trendless.
            noise_var = float(np.mean(tau**2 + sd**2))
            if rise / np.sqrt(noise_var) * np.sqrt(m / 12) < NOISY_MIN_TREND_T:
                continue
            if np.var(p) / (np.var(p) + noise_var) > NOISY_MAX_TRUE_R2:
                continue
            p = np.clip(p + rng.normal(0.0, 1.0, size=m) * tau, 0.0, 1.0)
        y = rng.binomial(n, np.clip(p, 0, 1)) / n
        if np.ptp(y) == 0:  # a floor of zeros everywhere says nothing; draw again
            continue
        return make_series(x, y, n_examples=n, chance=c, task=task or f"synthetic-{shape}")
    raise RuntimeError(f"could not draw a {shape} series with n_models={n_models}, n_examples={n_examples}")


def make_series(x, y, *, n_examples: float = np.nan, stderr=None, chance: float = np.nan, task: str = "synthetic",
                groups=None, higher_is_better: bool = True, x_is_loss: bool = True, x_name: str = "c4_val") -> Series:
    """A :class:`Series` from plain arrays (sorted by x), for simulations and tests."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.argsort(x, kind="mergesort")
    m = len(x)
    se = np.full(m, np.nan) if stderr is None else np.asarray(stderr, float)[order]
    grp = ("-",) * m if groups is None else tuple(np.asarray(groups, object)[order].tolist())
    return Series(task=task, metric="accuracy", x_name=x_name, x=x[order], y=y[order], stderr=se,
                  n_examples=np.full(m, float(n_examples)), models=tuple(f"m{i}" for i in range(m)),
                  params=np.full(m, np.nan), tokens=np.full(m, np.nan), flops=np.full(m, np.nan), groups=grp,
                  holdout=np.zeros(m, bool), chance=float(chance), higher_is_better=higher_is_better,
                  x_is_loss=x_is_loss)


def draw_many(n_per_shape: int, seed: int = 0, shapes: tuple[str, ...] = SHAPES) -> Iterator[tuple[str, Series]]:
    """``n_per_shape`` series of each shape, interleaved, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    for i in range(n_per_shape):
        for shape in shapes:
            yield shape, draw_series(shape, rng, task=f"{shape}-{i}")
