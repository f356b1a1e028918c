"""Adapting the predictive distribution to a testbed from its inner backtests (laws.prediction.adapt), tested by
simulation: rows drawn from a known wider model, the multiplier recovered, coverage restored where the prior
misses, never narrowed, and the prior returned unchanged without inner evidence."""

import numpy as np
import pytest

from scalecheck.laws.prediction import NO_ADAPTATION, PredictionModel, adapt

PRIOR = PredictionModel(low=-0.4, high=1.5, residual=2.0, distance=8.0, saturation=3.0)


def _rows(n_tasks: int, per_task: int, truth: PredictionModel, rng, reach: float = 1.0):
    """Backtest-like rows: laws fitted on a few sizes (residual sd 0.01, change across the data 0.05-0.2),
    predicting ``reach`` times as far past their data, the truths drawn from ``truth``."""
    n = n_tasks * per_task
    span = rng.uniform(0.05, 0.2, n)
    change = span * reach * rng.uniform(0.3, 1.5, n) * rng.choice([-1, 1], n)
    edge = rng.uniform(0.3, 0.7, n)
    terms = {"centre": edge + change, "edge": edge, "residual_var": np.full(n, 1e-4),
             "distance": np.full(n, 0.1 * reach), "span": span}
    y = truth.from_terms(**terms).draws(1, rng)[0]
    return terms, y, np.repeat(np.arange(n_tasks), per_task)


def _coverage(model: PredictionModel, terms, y, level: float) -> float:
    return float(np.mean(model.from_terms(**terms).level_to_cover(y) <= level))


def test_without_inner_rows_the_prior_is_unchanged():
    empty = np.array([])
    assert adapt(PRIOR, empty, empty, empty, empty, empty) == (PRIOR, NO_ADAPTATION)
    # A law that is not finite where it predicts says nothing either.
    m, a = adapt(PRIOR, [np.nan], [0.5], [1e-4], [0.2], [0.6], span=[0.1])
    assert m == PRIOR and a == NO_ADAPTATION


@pytest.mark.parametrize("true_spread", [1.0, 1.6, 2.5])
def test_recovers_a_known_spread_multiplier(true_spread):
    rng = np.random.default_rng(1)
    terms, y, tasks = _rows(40, 25, PRIOR.adapted(true_spread), rng)
    m, a = adapt(PRIOR, **terms, y=y, tasks=tasks, prior_tasks=0)
    assert a.spread_inner == pytest.approx(true_spread, rel=0.12)
    assert a.n_tasks == 40 and a.n_rows == 1000 and a.weight == 1.0
    # Shrinkage toward the prior: s ** (n / (n + n0)), n the tasks.
    _, shrunk = adapt(PRIOR, **terms, y=y, tasks=tasks, prior_tasks=40)
    assert shrunk.weight == 0.5 and shrunk.spread == pytest.approx(np.sqrt(a.spread_inner))


def test_never_narrowed():
    """Inner errors narrower than the prior's say nothing about a longer reach: the prior stays."""
    rng = np.random.default_rng(5)
    terms, y, tasks = _rows(30, 20, PRIOR.adapted(0.4), rng)
    m, a = adapt(PRIOR, **terms, y=y, tasks=tasks)
    assert a.spread == 1.0 and m == PRIOR and a.n_tasks == 30


def test_adapted_intervals_cover_at_50_and_90_where_the_prior_is_too_narrow():
    """Inner rows of short reach and forecasts reaching three times as far, both from a testbed whose errors are
    twice as wide as the prior allows: the prior misses at 50% and 90%, the adapted model covers within 0.05."""
    rng = np.random.default_rng(2)
    truth = PRIOR.adapted(2.0)
    inner_terms, inner_y, tasks = _rows(60, 6, truth, rng, reach=1.0)
    outer_terms, outer_y, _ = _rows(20, 30, truth, rng, reach=3.0)
    adapted, a = adapt(PRIOR, **inner_terms, y=inner_y, tasks=tasks)
    assert a.n_tasks == 60 and a.spread > 1.5
    for level in (0.5, 0.9):
        assert abs(_coverage(PRIOR, outer_terms, outer_y, level) - level) > 0.08
        assert abs(_coverage(adapted, outer_terms, outer_y, level) - level) <= 0.05


def test_the_median_stays_and_the_intervals_scale_about_it():
    rng = np.random.default_rng(3)
    terms, _, _ = _rows(5, 4, PRIOR, rng)
    base = PRIOR.from_terms(**terms)
    d = PRIOR.adapted(1.7).from_terms(**terms)
    assert np.allclose(d.quantile(0.5), base.quantile(0.5), atol=1e-9)
    for level in (0.5, 0.9):
        (lo, hi), (blo, bhi) = d.interval(level), base.interval(level)
        med = base.quantile(0.5)
        assert np.allclose(hi - med, 1.7 * (bhi - med), atol=1e-8)
        assert np.allclose(med - lo, 1.7 * (med - blo), atol=1e-8)


def test_a_floor_is_scatter_every_row_has_and_scales_with_the_spread():
    m = PredictionModel(low=0.0, high=0.0, residual=1.0, distance=0.0, saturation=3.0, floor=0.03)
    d = m.from_terms(np.array([0.5, 0.6]), np.array([0.5, 0.5]), np.zeros(2), np.zeros(2), np.array([0.1, 0.1]))
    np.testing.assert_allclose(d.sd, [0.03, 0.03])  # no residuals: the floor alone
    d2 = m.from_terms(np.array([0.5]), np.array([0.5]), np.array([0.04**2]), np.zeros(1), np.array([0.1]))
    np.testing.assert_allclose(d2.sd, [0.05])  # added in quadrature: sqrt(0.04^2 + 0.03^2)
    wide = m.adapted(2.0)
    assert wide.floor == pytest.approx(0.06)
    np.testing.assert_allclose(wide.from_terms(np.array([0.5]), np.array([0.5]), np.array([0.04**2]), np.zeros(1),
                                               np.array([0.1])).sd, [0.10])
