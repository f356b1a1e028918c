"""The reliability estimate where forecasts are shown: the backtest frame and the ladder prediction carry the fit
set's own estimate of skill against no change, and it ranks a law that keeps holding above one that does not."""

import numpy as np

from scalecheck.backtest import backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed


def _saturating(loss):
    """Rises like the law over the small sizes, then flattens: the law's extrapolation overshoots."""
    return 0.25 + 0.3 / (1 + np.exp(12.0 * (loss - 3.3)))


def test_backtest_frame_carries_the_estimate_and_ranks_good_above_bad():
    tasks = {f"good{i}": exponential_accuracy for i in range(4)} | {f"bad{i}": _saturating for i in range(4)}
    tb = synthetic_testbed(tasks, seed=3, holdout_sizes=(3e9,))
    f = backtest(tb, scheme="holdout", forms=["auto"]).frame()
    assert {"estimated_skill", "reliability"} <= set(f.columns)
    est = f.groupby("task")["estimated_skill"].first()
    assert est.notna().all()
    assert f["reliability"].str.startswith("held in ").all()
    good = est[[t for t in est.index if t.startswith("good")]]
    bad = est[[t for t in est.index if t.startswith("bad")]]
    assert np.mean([[g > b for b in bad] for g in good]) >= 0.8, (good.round(2).tolist(), bad.round(2).tolist())
    # A fixed form is fitted without an inner backtest: no estimate, no reading.
    fixed = backtest(tb, tasks=["good0"], scheme="holdout", forms=["exponential"]).frame()
    assert fixed["estimated_skill"].isna().all() and (fixed["reliability"] == "").all()
