"""One definition of model sizes, shared by the backtest's windows, the inner backtest and the reliability
estimate."""

import numpy as np
import pytest

from scalecheck.backtest import windows
from scalecheck.errors import SelectionError
from scalecheck.laws import reliability, select
from scalecheck.observations import Series
from scalecheck.observations.sizes import size_ranks, size_scale


def make_series(params, flops=None):
    k = len(params)
    params = np.asarray(params, float)
    return Series(task="t", metric="accuracy", x_name="params", x=params, y=np.linspace(0.3, 0.6, k),
                  stderr=np.full(k, 0.005), n_examples=np.full(k, np.nan), models=tuple(f"m{i}" for i in range(k)),
                  params=params, tokens=params * 20,
                  flops=params * 120 if flops is None else np.asarray(flops, float), groups=("-",) * k,
                  holdout=np.zeros(k, bool), chance=0.25, x_is_loss=False)


def test_every_stage_ranks_sizes_alike():
    # Parameter counts that importers round differently (1.44e9, 1.4e9) are one size everywhere.
    params = np.array([1e7, 1.05e7, 7e7, 1.4e9, 1.44e9, 7e9])
    s = make_series(params=params)
    expected = np.array([0, 0, 1, 2, 2, 3])
    assert windows.size_ranks is size_ranks and windows.size_scale is size_scale
    np.testing.assert_array_equal(size_ranks(size_scale(s)), expected)
    np.testing.assert_array_equal(select._ranks(s), expected)
    np.testing.assert_array_equal(reliability._size_ranks(s), expected)


def test_sizes_fall_back_to_flops_and_say_when_neither_orders_them():
    s = make_series(params=np.full(4, np.nan), flops=np.array([4e20, 1e19, 1e21, 1e20]))
    np.testing.assert_array_equal(size_ranks(size_scale(s)), [2, 0, 3, 1])
    with pytest.raises(SelectionError, match="cannot be ordered by size"):
        size_scale(make_series(params=np.full(4, np.nan), flops=np.full(4, np.nan)))
