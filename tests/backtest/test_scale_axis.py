"""The law on a scale axis is fitted on ln x, by the backtest as by the classifier (one definition: laws.law_x)."""

import warnings

import numpy as np
import pandas as pd

from scalecheck.backtest import backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.laws import fit_series, law_x
from scalecheck.laws.prediction import PredictionModel
from scalecheck.observations import Testbed


def test_law_x_logs_scale_axes_for_forms_in_x_and_leaves_losses_and_power_laws_alone():
    tb = synthetic_testbed({"t": exponential_accuracy}, seed=0)
    on_params = tb.series("t", "params")
    np.testing.assert_allclose(law_x(on_params, "exponential"), np.log(on_params.x))
    np.testing.assert_allclose(law_x(on_params, "power_floor"), on_params.x)  # takes its own logs
    on_loss = tb.series("t", "c4_val")
    np.testing.assert_allclose(law_x(on_loss, "exponential"), on_loss.x)
    assert law_x(on_params, "chinchilla").shape == (len(on_params), 2)


def _power_law_testbed(seed: int = 2, n_examples: int = 2000):
    """Accuracy a power law in N (0.25 + 0.6 * (1 - (N / 1e7) ** -0.15)), binomial noise; 1e9+ held out."""
    rng = np.random.default_rng(seed)
    sizes = np.geomspace(1e7, 1e10, 10)
    models = pd.DataFrame({"model": [f"m{i}" for i in range(len(sizes))], "params": sizes, "tokens": 20 * sizes,
                           "holdout": sizes >= 2e9, "corpus": "c", "family": "toy", "source": "synthetic"})
    rows = []
    for task in ("t0", "t1", "t2"):
        p = 0.25 + 0.6 * (1 - (sizes / 1e7) ** -0.15)
        for m, pi in zip(models["model"], p, strict=True):
            rows.append({"model": m, "task": task, "metric": "accuracy", "value": rng.binomial(n_examples, pi) /
                         n_examples, "n_examples": n_examples, "chance": 0.25, "higher_is_better": True})
    return Testbed.build(models, pd.DataFrame(rows), name="power-law")


def test_backtest_against_params_is_finite_and_close_where_raw_x_overflowed():
    # An exponential in raw params overflows or degenerates to a constant; in ln N it is a power law in N.
    tb = _power_law_testbed()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow never reaches the user
        # A model expecting the law's whole change: the point forecast is the law's own (the axis is on test).
        full = PredictionModel(low=1.0, high=1.0, saturation=np.inf)
        f = backtest(tb, x="params", scheme="holdout", n_boot=0, level=0.9, prediction_model=full).frame()
    assert f["usable"].all()
    assert np.isfinite(f["predicted"]).all()
    assert f["abs_error"].mean() < 3.0  # points, extrapolating 1.5 decades from 6 sizes
    assert f["predicted"].nunique() == len(f)  # not one constant for every held-out model


def test_fit_series_and_its_prediction_share_the_axis():
    s = _power_law_testbed(seed=3).series("t0", "params")
    law = fit_series(s, "exponential", n_boot=0)
    pred = law.predict(law_x(s, "exponential"))
    np.testing.assert_allclose(pred, 0.25 + 0.6 * (1 - (s.params / 1e7) ** -0.15), atol=0.03)


def test_an_exploding_extrapolation_is_unusable_with_a_reason_never_averaged():
    # Three sizes, three parameters: an exponential can bend to interpolate noise exactly and then explode
    # (Pythia's crows_pairs likelihood_difference predicted -9e43 for a score of 3.4). Such a prediction is
    # unusable with a reason, and the MAE stays finite.
    from scalecheck.observations import Series

    x = np.array([7e7, 7e7, 1.6e8, 1.6e8, 4.1e8, 4.1e8, 1e9, 1.4e9, 2.8e9, 6.9e9, 1.2e10])
    y = np.array([3.35, 3.36, 3.40, 3.41, 4.28, 4.27, 3.41, 3.54, 3.44, 3.67, 3.66])
    n = len(x)
    s = Series(task="crows", metric="likelihood_difference", x_name="params", x=x, y=y, stderr=np.full(n, 0.05),
               n_examples=np.full(n, np.nan), models=tuple(f"m{i}" for i in range(n)), params=x,
               tokens=np.full(n, 300e9), flops=6 * x * 300e9, groups=("pile",) * n, holdout=np.zeros(n, bool),
               higher_is_better=False, x_is_loss=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        bt = backtest(s, forms=["exponential"], scheme="expanding", n_boot=0)
        auto = backtest(s, scheme="expanding", n_boot=0).frame()
    # auto leaves a member's wild prediction out of its combination, point by point: never averaged.
    assert auto["usable"].all() and (auto["abs_error"] < 1e3).all()
    f = bt.frame()
    wild = f["reason"].str.contains("ill-posed")
    assert wild.any()
    assert not f.loc[wild, "usable"].any() and f.loc[wild, "predicted"].isna().all()
    ok = f[f["usable"]]
    assert np.isfinite(ok["abs_error"]).all() and (ok["abs_error"] < 1e3).all()
    assert np.isfinite(bt.by_form()["mae"]).all()


def test_auto_backtest_stays_near_no_change_where_the_fit_set_shows_no_law():
    rng = np.random.default_rng(7)
    sizes = np.geomspace(1e7, 1e10, 10)
    models = pd.DataFrame({"model": [f"m{i}" for i in range(10)], "params": sizes, "tokens": 20 * sizes,
                           "holdout": sizes >= 2e9, "corpus": "c", "family": "toy", "source": "synthetic"})
    rows = [{"model": f"m{i}", "task": t, "metric": "accuracy", "value": 0.25 + rng.normal(0, 0.01),
             "n_examples": 2000, "chance": 0.25, "higher_is_better": True}
            for t in ("flat0", "flat1", "flat2") for i in range(10)]
    tb = Testbed.build(models, pd.DataFrame(rows), name="flat")
    f = backtest(tb, x="params", scheme="holdout").frame()
    assert (f["form"] == "auto").all()
    # No trend: the laws' inner errors are no better than no change's, so the combination stays near its level.
    assert f["usable"].all() and np.isfinite(f["lo"]).all()
    # (A law that happened to track the inner noise keeps some weight: single errors reach a few sampling sds.)
    assert (f["abs_error"] < 8).all() and f["abs_error"].mean() < 3.0
