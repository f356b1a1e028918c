"""reality_check on testbeds with intermediate checkpoints and several shot settings (Pythia-like)."""

import numpy as np
import pandas as pd
import pytest

from scalecheck import Testbed
from scalecheck.errors import SelectionError
from scalecheck.trends import reality_check


def _checkpointed_testbed() -> Testbed:
    rng = np.random.default_rng(0)
    sizes = np.geomspace(1e7, 1e10, 10)
    models, scores = [], []
    for n in sizes:
        run = f"m{n:.0e}"
        for step in (1000, 2000, 143000):
            mid = f"{run}@{step}"
            models.append({"model": mid, "source": "t", "family": "f", "run": run, "step": step, "params": n,
                           "tokens": step * 2e6})
            # Final checkpoints rise steadily with log size; early checkpoints sit at chance and would blur it.
            final = 0.25 + 0.6 * (np.log10(n) - 7) / 3
            for shots, lift in ((0, 0.0), (5, 0.05)):
                p = final + lift if step == 143000 else 0.25
                y = rng.binomial(5000, min(p, 0.99)) / 5000
                scores.append({"model": mid, "task": "t1", "metric": "acc", "value": y, "n_examples": 5000,
                               "chance": 0.25, "shots": shots})
    return Testbed.build(pd.DataFrame(models), pd.DataFrame(scores))


def test_several_settings_need_shots_and_final_checkpoints_are_kept():
    tb = _checkpointed_testbed()
    unchosen = reality_check(tb, x="params")
    assert unchosen.verdict("t1", "all").category == "insufficient-data"
    assert "several settings" in unchosen.verdict("t1", "all").reason
    final = reality_check(tb, x="params", shots=5)
    v = final.verdict("t1", "all")
    assert v.evidence["n_models"] == 10  # one model per run: its last checkpoint
    assert v.category == "predictable"
    every = reality_check(tb, x="params", shots=5, checkpoints="all")
    assert every.verdict("t1", "all").evidence["n_models"] == 30


def test_bad_checkpoints_choice():
    with pytest.raises(SelectionError):
        reality_check(_checkpointed_testbed(), x="params", checkpoints="some")
