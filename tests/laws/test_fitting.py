"""Fitting: recovery of known laws from noisy synthetic data, optimality, robustness, weights, quality."""

import json
import warnings

import numpy as np
import pytest
from scipy.optimize import OptimizeWarning, curve_fit

from scalecheck.laws import FORMS, LawFit, Predictor, fit, fit_batch, fit_many, fit_series

# (x, true params, noise sd on the fitting scale, tolerance as a multiple of the estimated standard error)
SIMS = {
    "exponential": (np.linspace(2.5, 5.0, 40), [8.0, 0.25, -1.2], 0.01),
    "linear": (np.linspace(2.5, 5.0, 30), [1.2, -0.2], 0.01),
    "sigmoid": (np.linspace(2.0, 5.0, 60), [-0.5, 3.0, 3.5, 0.75], 0.01),
    "logit_linear": (np.linspace(2.5, 5.0, 40), [4.0, -1.2], 0.01),
    "sigmoid_logcompute": (np.geomspace(1e18, 1e23, 40), [0.25, 1.5, 21.0], 0.01),
    "power_floor": (np.geomspace(1e7, 1e11, 30), [1.7, 400.0, 0.3], 0.005),
}


@pytest.mark.parametrize("name", sorted(SIMS))
def test_parameters_recovered_from_noisy_data(name):
    x, truth, sd = SIMS[name]
    form = FORMS[name]
    rng = np.random.default_rng(7)
    clean = form.predict(truth, x)
    y = clean * np.exp(rng.normal(0, sd, len(x))) if form.log_residuals else clean + rng.normal(0, sd, len(x))
    r = fit(x, y, name, n_boot=200, seed=1)
    assert r.usable, r.reason
    se = r.param_se()
    for p, t in zip(form.param_names, truth, strict=True):
        assert abs(r.params[p] - t) < 4 * se[p] + 1e-9, (p, r.params[p], t, se[p])
        lo, hi = r.param_intervals[p]
        assert lo <= r.params[p] <= hi
    # Noise is recovered too: the residual sd is close to the simulated one.
    assert 0.6 * sd < r.noise_scale < 1.5 * sd


def test_chinchilla_recovered_on_a_grid_of_sizes_and_tokens():
    form = FORMS["chinchilla"]
    N = np.repeat(np.geomspace(5e7, 1e10, 8), 6)
    D = np.tile(np.geomspace(1e9, 3e11, 6), 8)
    x = np.column_stack([N, D])
    truth = [1.8, 480.0, 2000.0, 0.34, 0.37]
    y = form.predict(truth, x) * np.exp(np.random.default_rng(3).normal(0, 0.003, len(N)))
    r = fit(x, y, "chinchilla")
    assert r.usable
    assert abs(r.params["E"] - 1.8) < 0.05
    assert abs(r.params["alpha"] - 0.34) < 0.03 and abs(r.params["beta"] - 0.37) < 0.03
    assert r.quality.r2 > 0.99


def test_besiroglu_chinchilla_refit_reproduced(shared_data):
    import pandas as pd

    df = pd.read_csv(shared_data / "epoch_chinchilla" / "epoch_chinchilla_svg_extracted_data.csv")
    N = df["Model Size"].to_numpy(float)
    D = df["Training FLOP"].to_numpy(float) / (6 * N)
    L = df["loss"].to_numpy(float)
    keep = np.argsort(L)[:-5]
    r = fit(np.column_stack([N, D])[keep], L[keep], "chinchilla", loss="huber", huber_delta=1e-3, loo=False)
    published = {"E": (1.817, 0.026), "A": (482, 125), "B": (2085, 1293), "alpha": (0.348, 0.015),
                 "beta": (0.366, 0.021)}
    for p, (v, se) in published.items():
        assert abs(r.params[p] - v) < 0.5 * se, (p, r.params[p], v)


def test_exponential_never_worse_than_curve_fit_multistart():
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(15):
        x = np.sort(rng.uniform(2.3, 6.0, 30))
        a, c = rng.choice([-1, 1]) * rng.uniform(0.5, 20), -rng.uniform(0.3, 2.5)
        y = a * np.exp(c * x) + rng.uniform(0, 0.7) + rng.normal(0, 0.02, len(x))
        ours = fit(x, y, "exponential", loo=False).quality.sse
        best = np.inf
        for p0 in [(1, 0, -1), (-1, 0.5, -1), (10, 0, -2), (1, 0.5, 0.5)]:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", (OptimizeWarning, RuntimeWarning))
                    p, _ = curve_fit(lambda x, a, b, c: a * np.exp(c * x) + b, x, y, p0=p0, maxfev=20000)
            except RuntimeError:
                continue
            best = min(best, float(np.sum((y - (p[0] * np.exp(p[2] * x) + p[1])) ** 2)))
        worst = max(worst, ours / best)
    assert worst <= 1 + 1e-6


def test_huber_resists_outliers_where_least_squares_does_not():
    x = np.linspace(2.5, 5.0, 40)
    truth = [8.0, 0.25, -1.2]
    y = FORMS["exponential"].predict(truth, x) + np.random.default_rng(2).normal(0, 0.005, 40)
    y[[5, 25]] += 0.3
    ls = fit(x, y, "exponential", loo=False)
    hub = fit(x, y, "exponential", loss="huber", loo=False)
    assert hub.huber_delta is not None and hub.huber_delta < 0.05
    assert abs(hub.params["c"] + 1.2) < abs(ls.params["c"] + 1.2)
    assert abs(hub.params["c"] + 1.2) < 0.05


def test_weights_give_reduced_chi2_near_one_when_noise_is_known():
    x = np.linspace(2.5, 5.0, 200)
    clean = FORMS["exponential"].predict([8.0, 0.25, -1.2], x)
    sd = 0.002 + 0.02 * clean  # heteroscedastic
    y = clean + np.random.default_rng(5).normal(0, sd)
    r = fit(x, y, "exponential", sigma=sd)
    assert 0.8 < r.quality.chi2_red < 1.2
    assert r.quality.dof == 197
    # Understated noise is visible as chi2_red >> 1.
    assert fit(x, y, "exponential", sigma=sd / 3).quality.chi2_red > 5


def test_quality_tells_an_over_flexible_or_wrong_form():
    rng = np.random.default_rng(9)
    x = np.linspace(2.5, 5.0, 30)
    y = 1.2 - 0.2 * x + rng.normal(0, 0.01, 30)  # truly linear
    lin, sig = fit(x, y, "linear"), fit(x, y, "sigmoid")
    assert lin.quality.bic < sig.quality.bic
    assert lin.quality.loo_rmse >= lin.quality.rmse
    ye = FORMS["exponential"].predict([8.0, 0.25, -1.2], x) + rng.normal(0, 0.005, 30)  # curved
    assert fit(x, ye, "exponential").quality.loo_rmse < fit(x, ye, "linear").quality.loo_rmse
    assert fit(x, ye, "exponential").quality.aic < fit(x, ye, "linear").quality.aic


def test_fit_batch_matches_single_fits_and_is_deterministic():
    rng = np.random.default_rng(4)
    xs = [np.linspace(2.5, 5.0, n) for n in (10, 25, 40)]
    ys = [8 * np.exp(-1.2 * x) + 0.25 + rng.normal(0, 0.01, len(x)) for x in xs]
    batch = fit_batch(xs, ys, "exponential", n_boot=50, seed=3)
    for x, y, b in zip(xs, ys, batch, strict=True):
        single = fit(x, y, "exponential", n_boot=50, seed=3)
        np.testing.assert_allclose(single.param_vector, b.param_vector, rtol=1e-9)
        np.testing.assert_allclose(single.boot_params, b.boot_params, rtol=1e-7)
        assert single.quality.loo_rmse == pytest.approx(b.quality.loo_rmse, rel=1e-6)


def test_result_object_predicts_summarises_and_serialises():
    x = np.linspace(2.5, 5.0, 30)
    y = 8 * np.exp(-1.2 * x) + 0.25 + np.random.default_rng(1).normal(0, 0.01, 30)
    r = fit(x, y, "exponential", n_boot=100)
    assert isinstance(r, LawFit) and isinstance(r, Predictor)
    np.testing.assert_allclose(r.residuals, y - r.predict(x))
    assert r.predict(3.0).shape == () and r.predict([[3.0, 4.0]]).shape == (1, 2)
    text = str(r)
    for token in ("exponential", "R^2", "chi2_red", "LOO RMSE", "a ", "b ", "c ", "bootstrap, 100 draws"):
        assert token in text
    # summary(): the same as a frame, one row per parameter, its interval holding its estimate.
    summary = r.summary().set_index("param")
    assert list(summary.index) == ["a", "b", "c"] and (summary["interval_from"] == "bootstrap").all()
    assert (summary["lo"] <= summary["estimate"]).all() and (summary["estimate"] <= summary["hi"]).all()
    assert summary.loc["b", "estimate"] == r.params["b"] and summary["std_err"].gt(0).all()
    assert summary["r2"].iloc[0] == r.quality.r2 and summary["n"].iloc[0] == 30
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["params"].keys() == {"a", "b", "c"} and d["n_boot"] == 100 and d["usable"]
    with pytest.raises(ValueError):
        r.interval(x, kind="credible")


def test_fit_series_uses_noise_and_sizes(builtin_testbed):
    s = builtin_testbed.split_series("hellaswag", "c4_val", by="corpus")["c4_original"]
    r = fit_series(s, "exponential", n_boot=100)
    assert r.usable and r.n == len(s)
    np.testing.assert_allclose(r.sigma, s.noise_sd)
    assert r.quality.r2 > 0.9
    assert np.isfinite(r.quality.chi2_red)
    # Clusters are model sizes: points that share a size are resampled together.
    assert len(set(r.clusters)) == len(set(s.params))
    many = fit_many([s, s], "exponential", n_boot=100)
    np.testing.assert_allclose(many[1].param_vector, r.param_vector)
    lo, hi = r.interval(s.x[:3], kind="prediction")
    assert np.all(lo < r.predict(s.x[:3])) and np.all(hi > r.predict(s.x[:3]))


def test_fit_series_chinchilla_takes_params_and_tokens(builtin_testbed):
    s = builtin_testbed.series("hellaswag", "c4_val")
    r = fit_series(s, "chinchilla", loo=False)
    assert r.x.shape == (len(s), 2)


def test_unknown_loss_is_a_programming_error():
    with pytest.raises(ValueError):
        fit([1, 2, 3, 4], [1, 2, 3, 5], "linear", loss="cauchy")
