"""The newer forms: each passes check_form and is recovered from its own synthetic data with realistic noise."""

import numpy as np
import pytest

from scalecheck.laws import FORMS, check_form, fit, fit_series, get_form
from scalecheck.observations import Series

NEW = ("direct_compute", "loglog", "broken_power", "loss_to_loss")


@pytest.mark.parametrize("name", NEW)
def test_registered_and_meets_the_contract(name):
    assert name in FORMS
    check_form(FORMS[name])


def _series(x, y, chance, sd):
    n = len(x)
    return Series(task="t", metric="accuracy", x_name="flops", x=x, y=y, stderr=np.full(n, sd),
                  n_examples=np.full(n, np.nan), models=tuple(f"m{i}" for i in range(n)), params=x / 1e11,
                  tokens=np.full(n, 1e11), flops=x, groups=("-",) * n, holdout=np.zeros(n, bool), chance=chance,
                  x_is_loss=False)


def test_direct_compute_recovered_with_the_series_chance():
    # -log(acc') = A C^-alpha: from 3 at 1e18 FLOPs to 0.3 at 1e22 (alpha = 0.25), chance 0.25.
    rng = np.random.default_rng(0)
    C = np.geomspace(1e18, 1e22, 12)
    A, alpha, ch = 3 * 1e18**0.25, 0.25, 0.25
    truth = ch + (1 - ch) * np.exp(-A * C**-alpha)
    errs, alphas = [], []
    for _ in range(10):
        s = _series(C, truth + rng.normal(0, 0.005, len(C)), ch, 0.005)
        law = fit_series(s, "direct_compute")
        assert law.usable and law.law.chance == ch
        alphas.append(-law.params["c"])
        big = 1e23
        errs.append(abs(law.predict([np.log(big)])[0] - (ch + (1 - ch) * np.exp(-A * big**-alpha))))
    assert np.median(alphas) == pytest.approx(alpha, rel=0.1)
    assert np.mean(errs) < 0.02  # 10x past the data
    # The chance level comes from the series: another chance, another specialised form.
    assert get_form("direct_compute").specialise(_series(C, truth, 0.5, 0.01)).chance == 0.5
    assert get_form("direct_compute").specialise(_series(C, truth, np.nan, 0.01)).chance == 0.0


def test_loglog_recovered():
    rng = np.random.default_rng(1)
    lx = np.log(np.geomspace(1e8, 1e10, 10))
    a, c = 8.0, -0.45
    y = np.exp(-np.exp(a + c * lx))
    fits = [fit(lx, y + rng.normal(0, 0.004, len(lx)), "loglog") for _ in range(10)]
    assert np.median([f.params["c"] for f in fits]) == pytest.approx(c, rel=0.1)
    far = np.log(3e10)
    assert np.mean([abs(f.predict([far])[0] - np.exp(-np.exp(a + c * far))) for f in fits]) < 0.02


def test_broken_power_recovered():
    rng = np.random.default_rng(2)
    x = np.geomspace(1e18, 1e22, 14)
    a, b, c, d = 0.9, -0.65, 0.5, 1e19  # flat near 0.25 before 1e19 FLOPs, rising towards 0.9 after it
    truth = get_form("broken_power").predict([a, b, c, d], x)
    fits = [fit(x, truth + rng.normal(0, 0.005, len(x)), "broken_power") for _ in range(10)]
    assert all(f.usable for f in fits)
    assert np.median([f.params["c"] for f in fits]) == pytest.approx(c, rel=0.25)
    assert np.median([np.log10(f.params["d"]) for f in fits]) == pytest.approx(19, abs=0.3)
    grid = np.geomspace(1e18, 1e22, 50)
    assert np.mean([np.max(np.abs(f.predict(grid) - get_form("broken_power").predict([a, b, c, d], grid)))
                    for f in fits]) < 0.02


def test_loss_to_loss_recovered():
    rng = np.random.default_rng(3)
    train_loss = np.linspace(2.6, 4.0, 12)
    E, K, E0, kappa = 0.8, 0.35, 1.7, 1.6
    truth = E + K * (train_loss - E0) ** kappa
    fits = [fit(train_loss, truth * np.exp(rng.normal(0, 0.005, 12)), "loss_to_loss") for _ in range(10)]
    assert all(f.usable for f in fits)
    # 20% below the lowest training loss: the extrapolation Brandfonbrener et al. make.
    at = np.array([2.2])
    want = E + K * (at - E0) ** kappa
    assert np.median([abs(f.predict(at)[0] / want[0] - 1) for f in fits]) < 0.03
