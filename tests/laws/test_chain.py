"""Two-step laws: scale -> loss -> metric, with both steps' uncertainty."""

import json

import numpy as np

from scalecheck.laws import FORMS, ChainFit, Predictor, fit, fit_chain

N = np.geomspace(1e7, 3e9, 24)
LOSS_TRUTH = [1.7, 400.0, 0.3]
METRIC_TRUTH = [8.0, 0.25, -1.2]


def _steps(n_boot, seed=0):
    rng = np.random.default_rng(seed)
    loss = FORMS["power_floor"].predict(LOSS_TRUTH, N) * np.exp(rng.normal(0, 0.01, len(N)))
    metric = FORMS["exponential"].predict(METRIC_TRUTH, loss) + rng.normal(0, 0.01, len(N))
    step1 = fit(N, loss, "power_floor", n_boot=n_boot, seed=seed, loo=False)
    step2 = fit(loss, metric, "exponential", n_boot=n_boot, seed=seed, loo=False)
    return step1, step2


def test_chain_predicts_the_composition_and_widens_with_both_steps():
    step1, step2 = _steps(200)
    chain = fit_chain(step1, step2)
    assert isinstance(chain, ChainFit) and isinstance(chain, Predictor) and chain.usable
    big = np.array([1e10, 3e10])
    np.testing.assert_allclose(chain.predict(big), step2.predict(step1.predict(big)))
    lo, hi = chain.interval(big)
    plo, phi = chain.interval(big, kind="prediction")
    assert np.all(lo < chain.predict(big)) and np.all(chain.predict(big) < hi)
    assert np.all(phi - plo > hi - lo)
    # The chain is less certain than step 2 alone at step 1's predicted loss: step 1's uncertainty propagates.
    s2lo, s2hi = step2.interval(step1.predict(big))
    assert np.all(hi - lo > s2hi - s2lo)
    d = chain.to_dict()
    json.dumps(d, allow_nan=False)
    assert "Step 1" in str(chain)
    summary = chain.summary()  # both steps' parameter tables, step 1 first
    assert list(summary["step"].unique()) == [1, 2] and len(summary) == len(step1.param_names) + len(step2.param_names)


def test_chain_without_bootstrap_uses_the_delta_method():
    step1, step2 = _steps(0)
    chain = fit_chain(step1, step2)
    big = np.array([1e10])
    lo, hi = chain.interval(big, level=0.9)
    assert np.isfinite(lo).all() and np.isfinite(hi).all() and lo[0] < chain.predict(big)[0] < hi[0]
    plo, phi = chain.interval(big, kind="prediction")
    assert phi[0] - plo[0] > hi[0] - lo[0]


def test_chain_extrapolation_covers_the_truth():
    # Fit on small models, predict a model 3x larger than any: the 90% interval covers the true metric in
    # most of the simulations.
    big = np.array([1e10])
    truth = FORMS["exponential"].predict(METRIC_TRUTH, FORMS["power_floor"].predict(LOSS_TRUTH, big))[0]
    hits = []
    for seed in range(40):
        chain = fit_chain(*_steps(100, seed))
        lo, hi = chain.interval(big, level=0.9)
        hits.append(lo[0] <= truth <= hi[0])
    assert np.mean(hits) >= 0.75


def test_unusable_step_makes_an_unusable_chain():
    step1, _ = _steps(0)
    bad = fit([1.0, 2.0], [0.5, 0.5], "exponential")
    chain = fit_chain(step1, bad)
    assert not chain.usable and "step 2" in chain.reason
    assert np.isnan(chain.predict([1e9])).all()
    assert np.isnan(chain.interval([1e9])[0]).all()
