"""The output folder of ``scalecheck evaluate`` as a source: its ``scores.csv`` in the plain long format.

One folder holds a whole plan (models x tasks x settings): ``shots`` and ``variant`` (seed, few-shot separator)
tell the settings apart. Classification tasks carry the Prize's two metrics, ``loss`` (its classification loss:
minus the log-probability of the correct class, renormalised over the classes) and ``accuracy``, plus
``class_mass``; logodds tasks their log-odds difference with loss and accuracy; sequence_prob tasks the loss.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..schema import Tables
from .plain import read_long_file
from .registry import Source, register

NAME = "evaluate"


def read_evaluate_output(path: Path) -> Tables:
    scores = path / "scores.csv"
    if not scores.is_file():
        if (path / "results.sqlite").is_file():
            raise InputError(path, "an evaluate run that has not finished (no scores.csv yet): rerun the same "
                                   "`scalecheck evaluate` command, which resumes from results.sqlite")
        raise InputError(path, "not a `scalecheck evaluate` output folder (no scores.csv)")
    return read_long_file(scores)


register(Source(
    name=NAME,
    description="the output folder of `scalecheck evaluate` (its scores.csv: per-model task metrics with "
                "the ladder's params, tokens and losses)",
    reader=read_evaluate_output,
    expects="folder",
))
