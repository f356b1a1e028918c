"""Checkpoints of one training run: at scale, a run is one *model*, its last checkpoint.

A testbed of intermediate checkpoints (Pythia, the OLMo ladder) holds each run's training curve; verdicts,
backtests and sensitivity are about models at scale, so by default they keep each run's final checkpoint.
"""

from __future__ import annotations

import pandas as pd

from .testbed import Testbed


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
