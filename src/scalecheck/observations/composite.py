"""Derived tasks: a testbed with one more task built from others (e.g. MMLU's average over its subsets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SelectionError
from .testbed import Testbed


def add_composite_task(testbed: Testbed, name: str, parts: Mapping[str, float], metrics: Sequence[str]) -> Testbed:
    """A testbed with one more task: the weighted mean of ``parts`` (task -> weight), for each metric.

    Only models scored on every part (in the same metric, shots and variant) get the composite score.
    """
    if name in testbed.task_names:
        return testbed
    s = testbed.scores
    sub = s[s["task"].isin(list(parts)) & s["metric"].isin(list(metrics))].copy()
    if sub.empty:
        raise SelectionError(f"cannot build {name!r}: none of {sorted(parts)} in the testbed")
    sub["w"] = sub["task"].map(parts).astype(float)
    key = ["model", "metric", "shots", "variant"]
    grouped = sub.groupby(key, dropna=False)
    whole = grouped["task"].nunique() == len(parts)
    agg = grouped.apply(lambda g: float(np.average(g["value"], weights=g["w"])), include_groups=False)
    agg = agg[whole].rename("value").reset_index()
    firsts = grouped[["chance", "higher_is_better"]].first()[whole].reset_index(drop=True)
    new = pd.concat([agg, firsts], axis=1).assign(task=name)
    scores = pd.concat([s, new[[c for c in s.columns if c in new.columns]]], ignore_index=True)
    first_part = testbed.tasks[testbed.tasks["task"] == next(iter(parts))].assign(task=name, n_examples=np.nan)
    tasks = pd.concat([testbed.tasks, first_part], ignore_index=True)
    return Testbed.build(testbed.models, scores, tasks, testbed.name)
