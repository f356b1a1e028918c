"""The backtest adapts its predictive distributions to the testbed from the fit sets' own inner backtests
(BacktestOptions.adapt): each split on what was known when it was made, the rows saying what was applied."""

from dataclasses import replace

import numpy as np

from scalecheck.backtest import BacktestOptions, backtest
from scalecheck.backtest.engine import testbed_series as series_of
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.laws.prediction import PredictionModel


def _series():
    curves = {"a": exponential_accuracy, "b": lambda loss: 0.25 + 0.6 * np.exp(-1.5 * (loss - 2.0))}
    return series_of(synthetic_testbed(curves, seed=4))


# A prediction model far too narrow for these ladders: their inner backtests ask for wider intervals.
NARROW = PredictionModel(low=0.9, high=1.1, residual=0.3, distance=0.5, saturation=3.0)


def _run(series, adapt=True, **kw):
    return backtest(series, "exponential", scheme="expanding", verdicts=False, groups="pooled", adapt=adapt,
                    prediction_model=NARROW, **kw).frame()


def test_each_split_is_adapted_on_what_was_known_when_it_was_made():
    series = _series()
    f = _run(series)
    by_k = f.groupby("k_sizes_fit")[["spread_multiplier", "n_inner_rows", "n_inner_tasks"]].first()
    first = by_k.index.min()
    # The first split has no inner backtest: the prior, unchanged.
    assert by_k.loc[first, "n_inner_rows"] == 0 and by_k.loc[first, "spread_multiplier"] == 1.0
    later = by_k.loc[by_k.index > first]
    assert len(later) >= 2 and (later["n_inner_rows"] > 0).all() and (later["n_inner_tasks"] == 2).all()
    assert later["n_inner_rows"].is_monotonic_increasing
    # No split's fit set holds the largest size: changing what it scored changes no split's adaptation ...
    top = [s.params >= s.params.max() * 0.95 for s in series]
    moved = [replace(s, y=np.where(t, np.clip(s.y + 0.2, 0, 1), s.y)) for s, t in zip(series, top, strict=True)]
    g = _run(moved)
    for col in ("spread_multiplier", "n_inner_rows", "n_inner_tasks"):
        assert np.array_equal(f[col].to_numpy(), g[col].to_numpy())
    # ... while a change in the smallest sizes' scores, known to the later splits, does.
    low = [s.params <= s.params.min() * 1.05 for s in series]
    early = [replace(s, y=np.where(t, np.clip(s.y - 0.1, 0, 1), s.y)) for s, t in zip(series, low, strict=True)]
    assert not np.allclose(_run(early)["spread_multiplier"].to_numpy(), f["spread_multiplier"].to_numpy())


def test_adapt_false_keeps_the_prediction_model():
    series = _series()
    off = _run(series, adapt=False)
    assert (off["spread_multiplier"] == 1.0).all() and (off["n_inner_rows"] == 0).all()
    on = _run(series)
    wider = on["spread_multiplier"] > 1
    assert wider.any()
    # The median (the point forecast) never moves; the intervals widen where a multiplier was applied.
    assert np.allclose(on["predicted"], off["predicted"], equal_nan=True)
    ok = on["usable"].astype(bool) & wider
    assert ((on.loc[ok, "hi"] - on.loc[ok, "lo"]) >= (off.loc[ok, "hi"] - off.loc[ok, "lo"]) - 1e-12).all()
    assert on.loc[ok, "covered"].astype(bool).sum() >= off.loc[ok, "covered"].astype(bool).sum()
    assert BacktestOptions().adapt is True
