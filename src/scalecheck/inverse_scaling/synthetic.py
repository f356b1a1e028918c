"""Simulated ladders of known shape over scale, shaped like the Pythia grid (sizes x checkpoints).

Each task of a simulated testbed has a true score over the size x checkpoint grid:

    p(a, b) = level + amplitude * g(a) * (RAMP + (1 - RAMP) * b)

where ``a`` in [0, 1] is the model's position on log parameters (smallest to largest), ``b`` in [0, 1] its
position on log tokens (first checkpoint to last), and ``g`` the shape over scale: ``inverse`` (g = -a^k),
``standard`` (g = a^k), ``inverted-U`` and ``U-shaped`` (a parabola turning at t in [0.4, 0.6] of the log range),
``flat`` (g = 0). The shape grows over training, as Michaelov & Bergen saw it emerge, and is complete at the
final checkpoint. Scores are Binomial(n_examples, p) / n_examples, and each carries the harness's standard error
sqrt(p(1-p)/(n-1)). ``amplitude`` is drawn so that the whole effect (each arm of a turn) is at least
``MIN_EFFECT_SD`` binomial sds: the Prize's judges would not call a smaller one either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..observations import Testbed

SHAPES = ("inverse", "inverted-U", "U-shaped", "standard", "flat")
MIN_EFFECT_SD = 8.0
RAMP = 0.3  # share of the final effect already present at the first checkpoint
PARAMS = (70e6, 12e9)
TOKENS = (4.2e9, 3.0e11)


def _shape(shape: str, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if shape == "flat":
        return np.zeros_like(a)
    if shape in ("inverse", "standard"):
        g = a ** rng.uniform(0.7, 1.5)
        return -g if shape == "inverse" else g
    if shape in ("inverted-U", "U-shaped"):
        t = rng.uniform(0.4, 0.6)
        g = 1.0 - ((a - t) / max(t, 1 - t)) ** 2  # 1 at the turn, 0 at the farther end
        return g if shape == "inverted-U" else -g
    raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")


def draw_ladder(shapes: list[str], *, seed: int = 0, n_sizes: int = 8, n_steps: int = 8, n_examples: int = 1000,
                chance: float = 0.5, name: str = "simulated") -> Testbed:
    """A testbed of ``n_sizes`` runs x ``n_steps`` checkpoints, one task per entry of ``shapes``
    (named ``<shape>-<i>``), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    params = np.geomspace(*PARAMS, n_sizes)
    # One checkpoint per run is a plain ladder of final models (the whole effect).
    tokens = np.geomspace(*TOKENS, n_steps) if n_steps > 1 else np.array([TOKENS[1]])
    steps = np.round(tokens / 2_097_152).astype(int)
    a = np.linspace(0.0, 1.0, n_sizes)
    b = np.linspace(0.0, 1.0, n_steps) if n_steps > 1 else np.ones(1)
    models = [{"model": f"sim-{i}@step{st}", "source": "simulated", "family": "sim", "corpus": "sim",
               "size": f"s{i}", "params": params[i], "tokens": float(st * 2_097_152), "run": f"sim-{i}",
               "step": int(st)} for i in range(n_sizes) for st in steps]
    rows = []
    for k, shape in enumerate(shapes):
        g = _shape(shape, a, rng)
        level = rng.uniform(0.45, 0.7)
        # The effect: the whole range of g (each arm of a turn spans at least half of it) in binomial sds.
        sd = np.sqrt(level * (1 - level) / n_examples)
        min_amp = MIN_EFFECT_SD * sd / (0.5 if shape in ("inverted-U", "U-shaped") else 1.0)
        amp = rng.uniform(min_amp, max(min_amp, 0.3))
        for i in range(n_sizes):
            for j, st in enumerate(steps):
                p = float(np.clip(level + amp * g[i] * (RAMP + (1 - RAMP) * b[j]), 0.01, 0.99))
                y = rng.binomial(n_examples, p) / n_examples
                rows.append({"model": f"sim-{i}@step{st}", "task": f"{shape}-{k}", "metric": "acc", "value": y,
                             "stderr": np.sqrt(y * (1 - y) / (n_examples - 1)), "n_examples": float(n_examples),
                             "chance": chance, "higher_is_better": True, "shots": 0, "variant": ""})
    return Testbed.build(pd.DataFrame(models), pd.DataFrame(rows), name=name)


def expected_term(task: str) -> str:
    """The shape a simulated task was drawn with (its name's prefix)."""
    return task.rsplit("-", 1)[0]
