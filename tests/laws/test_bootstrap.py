"""Bootstrap: resampling plans, and coverage of the intervals by simulation."""

import numpy as np
import pytest

from scalecheck.laws import FORMS, fit, fit_batch
from scalecheck.laws.bootstrap import cluster_labels, distinct_support, loo_counts, resample_counts

N_SIM = 200


def test_cluster_labels_and_counts():
    labels = cluster_labels([1e8, 1e8, 4e8, np.nan, np.nan, 4e8], 6)
    assert labels[0] == labels[1] and labels[2] == labels[5]
    assert labels[3] != labels[4]  # missing sizes are not assumed equal
    counts = resample_counts(labels, 500, np.random.default_rng(0))
    assert counts.shape == (500, 6)
    # Points that share a cluster are drawn together; as many clusters are drawn as there are.
    assert np.all(counts[:, 0] == counts[:, 1]) and np.all(counts[:, 2] == counts[:, 5])
    per_cluster = counts[:, [0, 2, 3, 4]]
    assert np.all(per_cluster.sum(axis=1) == 4)
    np.testing.assert_array_equal(cluster_labels(None, 3), [0, 1, 2])
    np.testing.assert_array_equal(loo_counts(3).sum(axis=1), [2, 2, 2])
    x = np.array([1.0, 1.0, 2.0])
    np.testing.assert_array_equal(distinct_support(x, np.array([[1, 1, 0], [0, 1, 1]])), [1, 2])


def test_bootstrap_is_deterministic_given_the_seed():
    x = np.linspace(2.5, 5.0, 25)
    y = 8 * np.exp(-1.2 * x) + 0.25 + np.random.default_rng(0).normal(0, 0.01, 25)
    a = fit(x, y, "exponential", n_boot=50, seed=5)
    b = fit(x, y, "exponential", n_boot=50, seed=5)
    c = fit(x, y, "exponential", n_boot=50, seed=6)
    np.testing.assert_array_equal(a.boot_params, b.boot_params)
    assert not np.allclose(a.boot_params, c.boot_params)
    np.testing.assert_array_equal(a.interval(x, kind="prediction")[0], b.interval(x, kind="prediction")[0])


def test_clustered_bootstrap_resamples_sizes_together():
    # Three corpora share each model size: their errors are correlated by size, so the clustered bootstrap
    # must be wider than one that treats the points as independent.
    rng = np.random.default_rng(1)
    sizes = np.repeat(np.arange(12), 3)
    x = 2.5 + 0.2 * sizes + rng.normal(0, 0.01, len(sizes))
    shared = rng.normal(0, 0.02, 12)[sizes]
    y = 8 * np.exp(-1.2 * x) + 0.25 + shared + rng.normal(0, 0.002, len(x))
    clustered = fit(x, y, "exponential", n_boot=300, clusters=sizes)
    assert len(set(clustered.clusters)) == 12
    lo, hi = clustered.param_intervals["c"]
    assert lo < clustered.params["c"] < hi


def _simulate(form_name, x, truth, sd, seed):
    form = FORMS[form_name]
    rng = np.random.default_rng(seed)
    clean = form.predict(truth, x)
    return [clean + rng.normal(0, sd, len(x)) for _ in range(N_SIM)]


def _coverage(fits, name, truth_value):
    hits = [f.param_intervals[name][0] <= truth_value <= f.param_intervals[name][1] for f in fits]
    return float(np.mean(hits))


@pytest.mark.parametrize("form_name,x,truth,sd", [
    ("exponential", np.linspace(2.5, 5.0, 40), [8.0, 0.25, -1.2], 0.01),
    ("linear", np.linspace(2.5, 5.0, 30), [1.2, -0.2], 0.02),
])
def test_bootstrap_intervals_cover_the_truth_at_their_level(form_name, x, truth, sd):
    ys = _simulate(form_name, x, truth, sd, seed=2024)
    fits = fit_batch([x] * N_SIM, ys, form_name, n_boot=200, seed=0, level=0.9, loo=False)
    form = FORMS[form_name]
    for name, value in zip(form.param_names, truth, strict=True):
        cov = _coverage(fits, name, value)
        assert 0.85 <= cov <= 0.95, (name, cov)
    # The law's value at an interior and at an extrapolated x.
    for xq in (3.5, 5.5):
        true_y = form.predict(truth, np.array([xq]))[0]
        hits = []
        for f in fits:
            lo, hi = f.interval(np.array([xq]), level=0.9)
            hits.append(lo[0] <= true_y <= hi[0])
        assert 0.85 <= np.mean(hits) <= 0.95, (xq, np.mean(hits))


def test_prediction_intervals_cover_new_observations():
    x = np.linspace(2.5, 5.0, 40)
    truth, sd = [8.0, 0.25, -1.2], 0.01
    ys = _simulate("exponential", x, truth, sd, seed=12)
    fits = fit_batch([x] * N_SIM, ys, "exponential", n_boot=200, seed=0, loo=False)
    rng = np.random.default_rng(13)
    xq = np.array([3.0, 4.5])
    new = FORMS["exponential"].predict(truth, xq) + rng.normal(0, sd, (N_SIM, 2))
    hits = []
    for f, obs in zip(fits, new, strict=True):
        lo, hi = f.interval(xq, level=0.9, kind="prediction")
        clo, chi = f.interval(xq, level=0.9)
        assert np.all(hi - lo > chi - clo)  # noise widens them
        hits.extend((lo <= obs) & (obs <= hi))
    assert 0.85 <= np.mean(hits) <= 0.95


def test_delta_method_intervals_without_bootstrap_cover():
    x = np.linspace(2.5, 5.0, 40)
    truth, sd = [8.0, 0.25, -1.2], 0.01
    ys = _simulate("exponential", x, truth, sd, seed=14)
    fits = fit_batch([x] * N_SIM, ys, "exponential", sigmas=[np.full(40, sd)] * N_SIM, loo=False)
    true_y = FORMS["exponential"].predict(truth, np.array([3.5]))[0]
    hits = []
    for f in fits:
        assert f.boot_params is None and f.cov is not None
        lo, hi = f.interval(np.array([3.5]), level=0.9)
        hits.append(lo[0] <= true_y <= hi[0])
    assert 0.85 <= np.mean(hits) <= 0.95


def test_loss_law_intervals_cover_the_truth_when_extrapolating():
    # The backtest's use: fit loss vs scale on small models, predict larger ones.
    form = FORMS["power_floor"]
    x = np.geomspace(1e7, 1e10, 20)
    truth = [1.7, 400.0, 0.3]
    rng = np.random.default_rng(1)
    ys = [form.predict(truth, x) * np.exp(rng.normal(0, 0.01, len(x))) for _ in range(N_SIM)]
    fits = fit_batch([x] * N_SIM, ys, "power_floor", n_boot=100, seed=0, loo=False)
    for name, value in zip(form.param_names, truth, strict=True):
        assert 0.85 <= _coverage(fits, name, value) <= 0.95, name
    big = np.array([3e10, 1e11])
    true_y = form.predict(truth, big)
    hits = [(f.interval(big)[0] <= true_y) & (true_y <= f.interval(big)[1]) for f in fits]
    assert np.all((np.mean(hits, axis=0) >= 0.85) & (np.mean(hits, axis=0) <= 0.95))
