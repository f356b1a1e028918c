"""The output folder of ``scalecheck evaluate`` as a source: its ``scores.csv`` in the plain long format."""

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
        raise InputError(path, "not a `scalecheck evaluate` output folder (no scores.csv)")
    return read_long_file(scores)


register(Source(
    name=NAME,
    description="the output folder of `scalecheck evaluate` (its scores.csv: per-model task metrics with "
                "the ladder's params, tokens and losses)",
    reader=read_evaluate_output,
    expects="folder",
))
