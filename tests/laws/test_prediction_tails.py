"""The predictive distribution's heavy tail, its saturation and the no-change forecast's interval, by simulation:
rows drawn from a known model with Student-t scatter and a saturating change give their numbers back; the
delivered change stays bounded however far a law runs; the no-change interval is the Student-t it says."""

import numpy as np
import pytest
from scipy import stats

from scalecheck.laws.prediction import (
    NO_CHANGE,
    NoChangeModel,
    PredictionModel,
    calibrate,
    calibrate_no_change,
)

HEAVY = PredictionModel(low=-0.2, high=1.0, residual=2.0, distance=3.0, saturation=1.5, df=np.inf)


def _rows(rng, n, model=HEAVY, scatter=(0.005, 0.015), rho=(0.5, 8.0)):
    """Backtest-like rows: laws predicting changes of ``rho`` times their change across their data (span)."""
    span = rng.uniform(0.02, 0.1, n)
    change = rng.choice([-1, 1], n) * span * np.exp(rng.uniform(np.log(rho[0]), np.log(rho[1]), n))
    edge = rng.uniform(0.3, 0.7, n)
    s2 = rng.uniform(*scatter, n) ** 2
    d = rng.uniform(0.0, 0.6, n)
    y = model.from_terms(edge + change, edge, s2, d, span).draws(1, rng)[0]
    return edge + change, edge, s2, d, span, y


def test_heavy_tailed_error_model_recovered():
    # No-change forecast errors in units of their inner-backtest sd, Student-t with a heavy tail (df 1.6) and
    # twice the sd, on three "testbeds" of different sizes: maximum likelihood gives the numbers back, and the
    # recovered model covers fresh errors at 50% and 90% within 0.05.
    rng = np.random.default_rng(0)
    true = NoChangeModel(scale=2.0, df=1.6)
    z = [true.scale * rng.standard_t(true.df, n) for n in (300, 1000, 5000)]
    got = calibrate_no_change(z)
    assert got.scale == pytest.approx(true.scale, rel=0.12)
    assert got.df == pytest.approx(true.df, abs=0.35)
    fresh = true.scale * rng.standard_t(true.df, 5000)
    need = got.level_to_cover(np.zeros(fresh.size), np.ones(fresh.size), fresh)
    for level in (0.5, 0.9):
        assert abs(np.mean(need <= level) - level) <= 0.05
    # A normal interval about the same sd (the earlier no-change interval) misses the tail badly.
    assert np.mean(NoChangeModel(1.0, np.inf).level_to_cover(0.0, 1.0, fresh) <= 0.9) < 0.6


def test_saturation_recovered():
    # Laws whose predicted change is 0.05-50 times their change across their data, delivering by the model:
    # the calibration finds the saturation again (the shares and scatter held at their true values).
    rng = np.random.default_rng(2)
    centre, edge, s2, d, span, y = _rows(rng, 1000, rho=(0.05, 50.0))
    start = PredictionModel(low=HEAVY.low, high=HEAVY.high, residual=HEAVY.residual, distance=HEAVY.distance,
                            saturation=5.0, df=HEAVY.df)
    got = calibrate(centre, edge, s2, d, y, span, start=start, free=("saturation",))
    assert got.saturation == pytest.approx(HEAVY.saturation, rel=0.2)
    # Fresh rows: covered at 50% and 90% within 0.05.
    centre, edge, s2, d, span, y = _rows(np.random.default_rng(3), 4000, rho=(0.05, 50.0))
    need = got.from_terms(centre, edge, s2, d, span).level_to_cover(y)
    for level in (0.5, 0.9):
        assert abs(np.mean(need <= level) - level) <= 0.05


def test_delivered_change_saturates():
    m = PredictionModel(low=0.0, high=1.0, residual=1.0, distance=0.0, saturation=2.0, df=np.inf)
    change = np.array([0.01, 0.1, 1.0, 10.0])
    dist = m.from_terms(0.5 + change, np.full(4, 0.5), np.full(4, 1e-8), np.zeros(4), np.full(4, 0.05))
    # A change small against the law's change across its data is delivered almost whole ...
    assert dist.delivered[0] == pytest.approx(0.01, rel=0.15)
    # ... a runaway one at most saturation x span.
    assert np.all(np.abs(dist.delivered) < 2.0 * 0.05)
    assert np.all(np.diff(dist.delivered) > 0)
    hi = dist.quantile(0.99)
    assert np.all(hi < 0.5 + 0.1 + 1e-3)
    # Without a span (NaN) the whole change is delivered.
    whole = m.from_terms(0.5 + change, np.full(4, 0.5), np.full(4, 1e-8), np.zeros(4))
    np.testing.assert_allclose(whole.delivered, change)


def test_t_scatter_quantiles_match_draws():
    m = PredictionModel(low=-0.3, high=1.2, residual=1.0, distance=0.0, saturation=np.inf, df=2.5)
    dist = m.from_terms([1.0, 2.0], [0.0, 0.0], [0.09, 0.0025], [0.0, 0.0])
    draws = dist.draws(200_000, np.random.default_rng(3))
    for p in (0.02, 0.25, 0.5, 0.9, 0.99):
        np.testing.assert_allclose(dist.quantile(p), np.quantile(draws, p, axis=0), atol=0.02)
    np.testing.assert_allclose(dist.cdf(np.array([0.5, 1.0])), np.mean(draws < np.array([0.5, 1.0]), axis=0),
                               atol=0.005)


def test_no_change_interval_is_its_student_t():
    centre, sd = np.array([0.4, 0.6]), np.array([0.01, 0.03])
    lo, hi = NO_CHANGE.interval(centre, sd, 0.9)
    np.testing.assert_allclose(NO_CHANGE.level_to_cover(centre, sd, hi), 0.9)
    np.testing.assert_allclose(hi - centre, NO_CHANGE.scale * sd * stats.t.ppf(0.95, NO_CHANGE.df))
    # Simulated no-change errors with that scale and tail: covered at their nominal rates.
    rng = np.random.default_rng(5)
    m = NoChangeModel(scale=2.0, df=2.0)
    s = rng.uniform(0.01, 0.05, 20000)
    y = 0.5 + m.scale * s * rng.standard_t(m.df, s.size)
    need = m.level_to_cover(np.full(s.size, 0.5), s, y)
    for level in (0.5, 0.9):
        assert abs(np.mean(need <= level) - level) <= 0.02
