"""Adapting the predictive distribution to a testbed from its inner backtests (laws.prediction.adapt), tested by
simulation: rows drawn from a known shifted model, the shift recovered, coverage restored where the prior
misses, and the prior returned unchanged without inner evidence."""

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
    # Rows inside the fitted range (nothing to deliver) say nothing about where a law lands.
    m, a = adapt(PRIOR, [0.5, 0.6], [0.5, 0.6], [1e-4, 1e-4], [0.0, 0.0], [0.52, 0.61], span=[0.1, 0.1])
    assert m == PRIOR and a.n_rows == 0 and a.shift == 0.0


@pytest.mark.parametrize("true_shift", [-0.8, 0.0, 0.6])
def test_recovers_a_known_shift(true_shift):
    rng = np.random.default_rng(1)
    terms, y, tasks = _rows(40, 10, PRIOR.adapted(true_shift), rng)
    m, a = adapt(PRIOR, **terms, y=y, tasks=tasks, prior_tasks=0)
    assert a.shift_inner == pytest.approx(true_shift, abs=0.12)
    assert a.n_tasks == 40 and a.n_rows == 400 and a.weight == 1.0
    # Shrinkage toward the prior: the weight n / (n + n0), n the tasks.
    _, shrunk = adapt(PRIOR, **terms, y=y, tasks=tasks, prior_tasks=40)
    assert shrunk.weight == 0.5 and shrunk.shift == pytest.approx(a.shift_inner / 2)
    assert m.low - PRIOR.low == pytest.approx(a.shift) and m.high - PRIOR.high == pytest.approx(a.shift)


def test_adapted_intervals_cover_at_50_and_90_on_a_testbed_whose_laws_deliver():
    """Inner rows of short reach, forecasts reaching three times as far, both from a testbed whose laws deliver
    more than the prior expects: the prior misses at 50%, the adapted model covers within 0.05 at 50% and 90%."""
    rng = np.random.default_rng(2)
    truth = PRIOR.adapted(0.7)
    inner_terms, inner_y, tasks = _rows(20, 12, truth, rng, reach=1.0)
    outer_terms, outer_y, _ = _rows(20, 30, truth, rng, reach=3.0)
    adapted, a = adapt(PRIOR, **inner_terms, y=inner_y, tasks=tasks)
    assert a.n_tasks == 20
    assert abs(_coverage(PRIOR, outer_terms, outer_y, 0.5) - 0.5) > 0.08
    for level in (0.5, 0.9):
        assert abs(_coverage(adapted, outer_terms, outer_y, level) - level) <= 0.05


def test_the_median_moves_with_the_shift_and_stays_inside_every_interval():
    rng = np.random.default_rng(3)
    terms, _, _ = _rows(5, 4, PRIOR, rng)
    for shift in (-0.5, 0.5):
        d = PRIOR.adapted(shift).from_terms(**terms)
        base = PRIOR.from_terms(**terms)
        assert np.allclose(d.quantile(0.5) - base.quantile(0.5), shift * base.delivered, atol=1e-8)
        lo, hi = d.interval(0.5)
        assert np.all((lo <= d.quantile(0.5)) & (d.quantile(0.5) <= hi))
