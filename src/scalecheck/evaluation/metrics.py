"""Per-example metrics of the Prize's formats, computed from class log-probabilities, and their means.

Following the Prize's pipeline: class log-probabilities are renormalised over the classes (a log-softmax
over the summed log-probabilities of each class's tokens); the classification loss is minus the correct
class's renormalised log-probability; a prediction is the class of highest probability (the first on a tie).
For logodds tasks the log-odds of the answer class, log p / (1 - p) with p renormalised over the classes, is
computed under ``prompt`` and under ``other_prompt``; the metric is their difference (prompt minus other),
and absolute_logodds its absolute value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# log(sum(exp(x))) of a few class log-probabilities is numpy's ``logaddexp.reduce``: scipy.special.logsumexp costs
# 40 times more on a list this short (130 against 3 microseconds a call on the 2-core machine, three calls an
# example).


def _log_odds(norm: list[float], answer: int) -> float:
    others = [v for i, v in enumerate(norm) if i != answer]
    return norm[answer] - float(np.logaddexp.reduce(others))


def example_metrics(fmt: str, answer_index: int, class_logprobs: list[float],
                    other_class_logprobs: list[float] | None = None) -> dict:
    """The metrics of one example, by format (see the module doc)."""
    if fmt == "sequence_prob":
        return {"loss": -class_logprobs[0], "correct": None}
    total = float(np.logaddexp.reduce(class_logprobs))
    norm = [v - total for v in class_logprobs]
    out = {"loss": -norm[answer_index], "correct": int(np.argmax(class_logprobs)) == answer_index}
    if fmt == "classification":
        out["class_mass"] = math.exp(total)
        return out
    other_total = float(np.logaddexp.reduce(other_class_logprobs))
    other = [v - other_total for v in other_class_logprobs]
    diff = _log_odds(norm, answer_index) - _log_odds(other, answer_index)
    out[fmt] = abs(diff) if fmt == "absolute_logodds" else diff
    return out


@dataclass(frozen=True)
class MetricSummary:
    """The mean of a metric over examples, its standard error, and what it is compared with."""

    metric: str
    value: float
    stderr: float
    n_examples: int
    chance: float
    higher_is_better: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def summarise(fmt: str, metrics: tuple[str, ...], examples: list[dict], n_classes: list[int]) -> list[MetricSummary]:
    """Mean and standard error (sample sd / sqrt n) of each metric over the examples."""
    out = []
    for name in metrics:
        key = "correct" if name == "accuracy" else name
        vals = np.array([float(e[key]) for e in examples], dtype=float)
        n = len(vals)
        se = float(vals.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        if name == "accuracy":
            chance, hib = float(np.mean([1.0 / k for k in n_classes])), True
        elif name == "loss":
            # The loss of a uniform guess over the classes; none for a free-text completion.
            chance, hib = (float(np.mean(np.log(n_classes))) if fmt != "sequence_prob" else math.nan), False
        elif name == "class_mass":
            chance, hib = math.nan, True
        else:  # logodds, absolute_logodds: 0 when the prompt change makes no difference
            chance, hib = 0.0, False
        out.append(MetricSummary(name, float(vals.mean()), se, n, chance, hib))
    return out
