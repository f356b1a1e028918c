"""The default forecast of ``auto``: the mean of the laws that passed the inner backtest and of no change, weighted
by their inverse mean squared inner error, by simulation: it extrapolates a saturating law better than the
exponential, stays near no change where nothing changes, and its intervals hold the truth."""

import numpy as np

from scalecheck.laws.prediction import PredictionModel
from scalecheck.laws.select import CombinedFit, NoChangeFit, fit_selected
from scalecheck.observations import Series

# The simulated ladders follow their law exactly: the laws deliver their whole predicted change here (the library's
# default damps it, as calibrated on real testbeds where far extrapolations fall short: scalecheck.laws.prediction).
FULL = PredictionModel(low=1.0, high=1.0, saturation=np.inf)


def _series(n, y, groups=None):
    k = len(n)
    return Series(task="t", metric="accuracy", x_name="params", x=n, y=y, stderr=np.full(k, 0.005),
                  n_examples=np.full(k, np.nan), models=tuple(f"m{i}" for i in range(k)), params=n,
                  tokens=n * 20, flops=n * 120, groups=tuple(groups or ("-",) * k), holdout=np.zeros(k, bool),
                  chance=0.25, x_is_loss=False)


def _direct(n, chance=0.25):
    return chance + (1 - chance) * np.exp(-2.5 * (n / 1e7) ** -0.3)


SIZES = np.repeat(np.geomspace(1e7, 1e10, 8), 2)
FIT = SIZES < 1e9


def test_the_combined_forecast_extrapolates_and_covers():
    from scalecheck.laws import fit_series

    rng = np.random.default_rng(0)
    err, err_exp, err_nc, covered, member_cov = [], [], [], [], []
    for _ in range(6):
        s = _series(SIZES, _direct(SIZES) + rng.normal(0, 0.005, len(SIZES)))
        train, test = s.subset(FIT), s.subset(~FIT)
        c = fit_selected([train])[0]
        assert isinstance(c, CombinedFit) and c.usable
        assert isinstance(c.members[-1], NoChangeFit) and len(c.members) >= 3
        r = c.prediction_rows(test, 0.9, FULL)
        truth = _direct(test.params)
        err.append(np.mean(np.abs(r["predicted"] - truth)))
        exp = fit_series(train, "exponential")
        err_exp.append(np.mean(np.abs(np.clip(exp.predict(np.log(test.params)), 0, 1) - truth)))
        err_nc.append(np.mean(np.abs(c.members[-1].predict_groups(test.groups) - truth)))
        covered.extend((r["lo"] <= test.y) & (test.y <= r["hi"]))
        # The members' coverage, weighted as they are pooled.
        each_cov = [np.mean((m.prediction_rows(test, 0.9, FULL)["lo"] <= test.y)
                            & (test.y <= m.prediction_rows(test, 0.9, FULL)["hi"]))
                    for m in c.members]
        member_cov.append(np.dot(c.weights, each_cov) / np.sum(c.weights))
        # The weights are 1 / inner MSE; the point forecast is the pooled distribution's median: inside the
        # interval, and between the members' centres (each member's CDF is <= 1/2 below its centre).
        w = np.array([1 / c.choice.inner_mse[m.form] for m in c.members])
        np.testing.assert_allclose(c.weights, w)
        rows = [m.prediction_rows(test, 0.9, FULL) for m in c.members]
        centres = np.vstack([np.clip((q["lo"] + q["hi"]) / 2, 0, 1) for q in rows])
        assert np.all((r["lo"] <= r["predicted"]) & (r["predicted"] <= r["hi"]))
        assert np.all(centres.min(axis=0) - 1e-9 <= r["predicted"])
        assert np.all(r["predicted"] <= centres.max(axis=0) + 1e-9)
    assert np.mean(err) < np.mean(err_exp) and np.mean(err) < 0.5 * np.mean(err_nc)
    # The pooled distribution is at least as wide as its members': between-member disagreement adds to it.
    assert np.mean(covered) >= np.mean(member_cov)


def test_where_nothing_changes_the_combination_stays_near_no_change():
    rng = np.random.default_rng(1)
    errs, errs_nc = [], []
    for _ in range(6):
        y = 0.4 + rng.normal(0, 0.01, len(SIZES))
        s = _series(SIZES, y)
        train, test = s.subset(FIT), s.subset(~FIT)
        c = fit_selected([train])[0]
        errs.append(np.mean(np.abs(c.prediction_rows(test, 0.9)["predicted"] - 0.4)))
        errs_nc.append(np.mean(np.abs(c.members[-1].predict_groups(test.groups) - 0.4)))
    assert np.mean(errs) < 1.5 * np.mean(errs_nc) + 0.005
    # The inner winner is recorded (what form_wins and auto_chose report), whatever the median.
    assert c.choice.form in c.choice.inner_mae


def test_a_member_that_fails_the_inner_backtest_is_left_out():
    sizes = np.geomspace(1e7, 1e10, 7)
    y = 0.3 + 0.03 * np.log(sizes / 1e7) + np.random.default_rng(2).normal(0, 0.003, 7)
    c = fit_selected([_series(sizes, y)])[0]
    failed = {k for k, v in c.choice.inner_mae.items() if not np.isfinite(v)}
    assert not failed & {m.form for m in c.members}
    assert c.form.startswith("combined(") and c.form.endswith("no_change)")
    assert "weighted mean of" in c.describe()
