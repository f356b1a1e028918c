"""Synthetic ladders with a known law, for testing backtests and sensitivity by simulation.

One model per (corpus, size, token multiplier); its C4 loss follows a Chinchilla law in parameters and tokens,
and each task's accuracy is a known function of that loss, drawn with binomial noise. Extra validation sets
are functions of the C4 loss and the corpus, so a test can make one of them reorder models or corpora.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from ..laws.forms import get_form
from ..observations import Testbed

SIZES = (1e7, 3e7, 1e8, 3e8, 1e9, 3e9)
MULTIPLIERS = (1.0, 4.0, 16.0)
# The ladder's true C4 loss law, in the parameters of the laws' own Chinchilla form.
C4_LAW = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}


def chinchilla_loss(n, d) -> np.ndarray:
    """The true C4 loss of a model of ``n`` parameters trained on ``d`` tokens (:data:`C4_LAW`)."""
    shape = np.broadcast(n, d).shape
    x = np.stack(np.broadcast_arrays(np.asarray(n, float), np.asarray(d, float)), axis=-1)
    return get_form("chinchilla").predict(C4_LAW, x).reshape(shape)


def exponential_accuracy(loss):
    """A task that follows the exponential law in loss exactly: from about 0.30 at loss 5 to 0.70 at 2.5."""
    return 0.264 + 5.33 * np.exp(-loss)


def breakthrough_accuracy(loss):
    """Chance (0.25) until loss 2.3 (reached only by the largest size), then a sharp rise: a law fitted on the
    flat part cannot see it coming."""
    return np.where(loss > 2.3, 0.25, 0.25 + 3.0 * (2.3 - loss))


def synthetic_testbed(task_curves: dict, *, seed: int = 0, n_examples: int = 1000, corpora=("c",),
                      holdout_sizes: tuple = (), extra_losses: dict | None = None) -> Testbed:
    """One model per (corpus, size, multiplier); ``task_curves`` maps task -> accuracy as a function of the C4
    loss, or of (loss, corpus) when it takes two arguments.

    ``extra_losses`` maps a validation-set name to a function (c4 loss, corpus) -> that set's loss.
    """
    rng = np.random.default_rng(seed)
    models, scores = [], []
    for corpus in corpora:
        for n in SIZES:
            for mult in MULTIPLIERS:
                d = 20 * n * mult
                loss = float(chinchilla_loss(n, d))
                name = f"{corpus}-{n:.0e}-{mult:g}x"
                row = {"model": name, "source": "synthetic", "family": "toy", "corpus": corpus, "params": n,
                       "tokens": d, "holdout": n in holdout_sizes, "loss_c4_val": loss}
                for set_name, f in (extra_losses or {}).items():
                    row["loss_" + set_name] = float(f(loss, corpus))
                models.append(row)
                for task, curve in task_curves.items():
                    p = float(np.clip(_call(curve, loss, corpus), 0, 1))
                    scores.append({"model": name, "task": task, "metric": "accuracy",
                                   "value": rng.binomial(n_examples, p) / n_examples, "n_examples": n_examples,
                                   "chance": 0.25, "higher_is_better": True})
    return Testbed.build(pd.DataFrame(models), pd.DataFrame(scores), name="synthetic")


def _call(curve, loss: float, corpus: str):
    takes_corpus = len(inspect.signature(curve).parameters) >= 2
    return curve(loss, corpus) if takes_corpus else curve(loss)
