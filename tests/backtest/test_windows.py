import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalecheck.backtest import expanding_splits, holdout_models, leave_largest_out, size_ranks, splits
from scalecheck.backtest.synthetic import MULTIPLIERS, SIZES, exponential_accuracy, synthetic_testbed
from scalecheck.errors import InputError, SelectionError


@pytest.fixture(scope="module")
def series():
    return synthetic_testbed({"t": exponential_accuracy}, holdout_sizes=(3e9,)).series("t", "c4_val")


def test_size_ranks_merge_near_equal_params():
    ranks = size_ranks(np.array([1.44e9, 1e7, 1.4e9, 1e7, 7e9]))
    assert ranks.tolist() == [1, 0, 1, 0, 2]


def test_expanding_window_enumerates_every_k(series):
    found = expanding_splits(series)
    assert [s.k_sizes_fit for s in found] == list(range(2, len(SIZES)))
    ranks = size_ranks(series.params)
    for s in found:
        assert s.n_train == s.k_sizes_fit * len(MULTIPLIERS)
        # The fit set is exactly the k smallest sizes; everything larger is predicted.
        assert set(ranks[s.train]) == set(range(s.k_sizes_fit))
        assert set(ranks[s.test]) == set(range(s.k_sizes_fit, len(SIZES)))
        assert not (s.train & s.test).any()


def test_expanding_window_skips_k_with_too_few_points(series):
    found = expanding_splits(series, min_train=7)  # 3 points per size: k=2 has 6 points
    assert [s.k_sizes_fit for s in found] == [3, 4, 5]


def test_leave_largest_out(series):
    (s,) = leave_largest_out(series)
    assert set(series.params[s.test]) == {SIZES[-1]}
    assert s.k_sizes_fit == len(SIZES) - 1


def test_holdout_column_drives_the_split(series):
    (s,) = splits(series, "holdout")
    assert np.array_equal(s.test, series.params == 3e9)


def test_unknown_scheme(series):
    with pytest.raises(SelectionError):
        splits(series, "sideways")


def test_ladder_file_declares_targets(tmp_path):
    path = tmp_path / "ladder.yaml"
    path.write_text("family: toy\nmodels:\n  - name: a\n  - name: b\n    holdout: true\n  - name: c\n    holdout: true\n")
    assert holdout_models(path) == frozenset({"b", "c"})
    assert holdout_models(["x", "y"]) == frozenset({"x", "y"})


def test_bad_ladder_file_is_one_line_input_error(tmp_path):
    path = tmp_path / "ladder.yaml"
    path.write_text("models:\n  - name: a\n    holdout: maybe\n")
    with pytest.raises(InputError, match="holdout"):
        holdout_models(path)


@given(st.lists(st.floats(min_value=1e6, max_value=1e12), min_size=1, max_size=40))
def test_size_ranks_are_monotone_and_dense(values):
    v = np.array(values)
    r = size_ranks(v)
    order = np.argsort(v, kind="mergesort")
    assert (np.diff(r[order]) >= 0).all()  # larger params never get a smaller rank
    assert set(r) == set(range(r.max() + 1))  # no gaps
    assert all(r[i] == r[j] for i in range(len(v)) for j in range(len(v)) if v[i] == v[j])
