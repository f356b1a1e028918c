"""Backtest intervals by simulation: ladders whose models scatter beyond sampling noise about a law the
exponential does not quite follow. The calibrated prediction intervals must hold about their nominal share of the
held-out models there, the residual-only ones (scalecheck's earlier intervals) must not; the frame carries the
interval score and the calibration curve."""

import numpy as np
import pytest

from scalecheck.backtest import CALIBRATION_LEVELS, backtest
from scalecheck.backtest.synthetic import synthetic_testbed
from scalecheck.laws.prediction import RESIDUAL_ONLY, interval_score

SLOPE = 2.0  # a turn the exponential misses past the fitted range (steeper: a break no interval foresees)


def _scattered_sigmoid(seed: int, tau: float = 0.02):
    """Accuracy as a sigmoid in loss (the exponential law is misspecified past its fitted range), plus a
    model-to-model offset of sd ``tau`` (beyond the binomial noise)."""
    rng = np.random.default_rng(seed)

    def curve(loss):
        return 0.25 + 0.6 / (1 + np.exp(SLOPE * (loss - 3.0))) + rng.normal(0.0, tau)
    return curve


@pytest.fixture(scope="module")
def runs():
    tb = synthetic_testbed({f"t{i}": _scattered_sigmoid(i) for i in range(12)}, seed=3, corpora=("a", "b"))
    # One law's intervals, new against old (auto's combination pools several laws' and no change's intervals).
    new = backtest(tb, forms=["exponential"], scheme="expanding", verdicts=False)
    old = backtest(tb, forms=["exponential"], scheme="expanding", verdicts=False, prediction_model=RESIDUAL_ONLY)
    return new, old


def test_new_intervals_reach_nominal_coverage_and_old_do_not(runs):
    new, old = (r.by_form().iloc[0] for r in runs)
    assert 0.85 <= new["coverage"] <= 0.99, new["coverage"]
    assert old["coverage"] <= 0.8, old["coverage"]
    assert new["interval_score"] < old["interval_score"]


def test_frame_carries_score_level_and_distance(runs):
    f = runs[0].frame()
    ok = f[f["usable"]]
    expect = 100 * interval_score(ok["lo"], ok["hi"], ok["actual"], 0.9)
    np.testing.assert_allclose(ok["interval_score"], expect)
    # The level needed to cover a truth agrees with the 90% interval's own verdict on it.
    assert ((ok["level_to_cover"] <= 0.9) == ok["covered"].astype(bool)).mean() > 0.99
    assert (ok["distance"] >= 0).all() and (ok["distance"] > 0).any()


def test_calibration_curve_and_distance_table(runs):
    new = runs[0]
    c = new.calibration()
    assert list(c["level"]) == list(CALIBRATION_LEVELS)
    assert np.all(np.diff(c["coverage"]) >= 0)
    assert abs(c.loc[c["level"] == 0.9, "coverage"].iloc[0] - new.by_form()["coverage"].iloc[0]) < 0.01
    d = new.by_distance()
    assert {"distance_bin", "coverage", "interval_score"} <= set(d.columns)
    assert "calibration" in new.to_dict()


def test_verdict_column_and_report(tmp_path):
    from scalecheck.backtest.synthetic import exponential_accuracy
    from scalecheck.report.backtest import write_backtest_report

    tb = synthetic_testbed({"lawful": exponential_accuracy}, seed=5)
    bt = backtest(tb, scheme="expanding")
    assert set(bt.frame()["verdict"]) == {"predictable"}
    assert set(bt.by_verdict()["verdict"]) == {"predictable"}
    html = write_backtest_report(bt, tmp_path)["html"].read_text()
    assert "calibration of the prediction intervals" in html and "interval_score" in html
