"""Checkpoints of one training run: a testbed of intermediate checkpoints has one *model* per run, its last."""

from __future__ import annotations

import pandas as pd

from ..observations import Testbed


def final_checkpoints(models: pd.DataFrame, last_n: int = 1) -> pd.DataFrame:
    """The last ``last_n`` checkpoints of each run (by step; a model without a run is its own run)."""
    m = models.assign(_run=models["run"].fillna(models["model"]), _step=models["step"].fillna(-1))
    m = m.sort_values(["_run", "_step"], kind="mergesort")
    return m.groupby("_run", sort=True).tail(last_n).drop(columns=["_run", "_step"])


def has_checkpoints(testbed: Testbed) -> bool:
    """Whether some run has more than one checkpoint in the testbed."""
    runs = testbed.models["run"].dropna()
    return bool(len(runs) and runs.duplicated().any())


def final_models(testbed: Testbed) -> Testbed:
    """The testbed with each run's final checkpoint only (unchanged when no run has several).

    Declared hold-out checkpoints count as their own run's end: a target evaluated at several final
    checkpoints keeps its last one.
    """
    if not has_checkpoints(testbed):
        return testbed
    keep = final_checkpoints(testbed.models)["model"].tolist()
    return testbed.select(models=keep)
