"""Degenerate series never raise: the result is unusable and says why."""

import json

import numpy as np
import pytest

from scalecheck.laws import FORMS, fit, fit_batch

X = np.linspace(2.5, 5.0, 10)
Y = 0.25 + 8 * np.exp(-1.2 * X)

CASES = {
    "fewer points than parameters": (X[:2], Y[:2], "exponential", "more points than parameters"),
    "as many points as parameters": (X[:3], Y[:3], "exponential", "more points than parameters"),
    "constant y": (X, np.full(10, 0.3), "exponential", "constant"),
    "NaN in y": (X, np.where(np.arange(10) == 3, np.nan, Y), "exponential", "non-finite"),
    "inf in x": (np.where(np.arange(10) == 0, np.inf, X), Y, "sigmoid", "non-finite"),
    "one distinct x": (np.full(10, 3.0), Y, "linear", "distinct x"),
    "negative scale": (-X, Y, "power_floor", "x > 0"),
    "non-positive loss": (X * 1e8, Y - 1.0, "power_floor", "y > 0"),
    "chinchilla needs N and D": (X, Y, "chinchilla", "(n, 2)"),
    "length mismatch": (X, Y[:5], "linear", "points"),
    "text": (["a", "b", "c", "d"], [1, 2, 3, 4], "linear", "numeric"),
    "empty": ([], [], "linear", "more points than parameters"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_degenerate_series_give_an_unusable_result_with_a_reason(case):
    x, y, form, why = CASES[case]
    r = fit(x, y, form, n_boot=20)
    assert not r.usable
    assert why in r.reason
    assert all(np.isnan(v) for v in r.params.values())
    assert np.isnan(r.predict([3.0])).all()
    lo, hi = r.interval([3.0], kind="prediction")
    assert np.isnan(lo).all() and np.isnan(hi).all()
    assert "UNUSABLE" in str(r)
    summary = r.summary()
    assert list(summary["param"]) == list(r.param_names) and not summary["usable"].any()
    assert summary["estimate"].isna().all() and (summary["reason"] == r.reason).all()
    json.dumps(r.to_dict(), allow_nan=False)
    assert r.param_names == FORMS[form].param_names


def test_a_degenerate_series_does_not_spoil_a_batch():
    good = Y + np.random.default_rng(0).normal(0, 0.01, 10)
    out = fit_batch([X, X[:2], X], [good, Y[:2], np.full(10, 1.0)], "exponential", n_boot=20)
    assert [r.usable for r in out] == [True, False, False]


def test_partly_missing_sigma_is_filled_and_all_missing_is_unweighted():
    good = Y + np.random.default_rng(0).normal(0, 0.01, 10)
    sd = np.full(10, 0.01)
    sd[2] = np.nan
    r = fit(X, good, "exponential", sigma=sd)
    assert r.usable and r.sigma is not None and r.sigma[2] == 0.01
    r = fit(X, good, "exponential", sigma=np.full(10, np.nan))
    assert r.usable and r.sigma is None and np.isnan(r.quality.chi2)


def test_degenerate_bootstrap_replicates_are_dropped_not_fatal():
    # Three clusters for three parameters: too few to resample, so points are resampled instead.
    x = np.repeat([2.5, 3.5, 4.5], 4) + np.tile([0, 0.01, 0.02, 0.03], 3)
    y = 0.25 + 8 * np.exp(-1.2 * x) + np.random.default_rng(1).normal(0, 0.01, 12)
    r = fit(x, y, "exponential", n_boot=100, clusters=np.repeat([1, 2, 3], 4))
    assert r.usable and len(set(r.clusters)) == 12
    lo, hi = r.interval([3.0])
    assert np.isfinite(lo).all() and np.isfinite(hi).all()


def test_a_form_that_collapses_to_a_constant_says_so():
    # power_floor only falls with x (A >= 0): on a rising accuracy its best fit is A = 0 or alpha = 0, a constant
    # that would "cover" with residual-sized intervals. It is unusable, with the reason.
    x = np.geomspace(1e8, 1e10, 8)
    y = 0.3 + 0.05 * np.log(x / 1e8) + np.random.default_rng(0).normal(0, 0.005, 8)
    r = fit(x, y, "power_floor")
    assert not r.usable and "constant" in r.reason
    assert np.isnan(r.predict([1e11])).all()
    # The same form on a falling loss is unaffected.
    assert fit(x, 2.0 + 30 * x ** -0.2, "power_floor").usable


def test_excursion_measures_distance_outside_the_fitted_range_in_spreads():
    from scalecheck.laws.result import MAX_EXCURSION, excursion, excursion_reason

    y = np.array([3.0, 3.5, 4.0])
    np.testing.assert_allclose(excursion([3.2, 4.5, 2.0, np.inf], y), [0.0, 0.5, 1.0, np.inf])
    assert excursion_reason(4.0 + MAX_EXCURSION * 0.99, y) == ""
    assert "ill-posed" in excursion_reason(-9e43, y)


def test_a_singular_polish_step_does_not_fail_the_batch():
    from scalecheck.laws.fitting import _solve_steps

    M = np.array([[[2.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    g = np.array([[4.0, 1.0], [1.0, 2.0]])
    step = _solve_steps(M, g)
    np.testing.assert_allclose(step[0], [2.0, 0.0])  # least-norm on the singular row
    np.testing.assert_allclose(step[1], [1.0, 2.0])


def test_a_covariance_that_overflows_is_none_without_a_warning():
    # A degenerate fit's equilibrated covariance overflows when scaled back (seen on Sloth's near-flat series):
    # no covariance, and no RuntimeWarning in a user's output.
    import warnings

    from scalecheck.laws.api import _covariance

    jw = np.array([[1e-155, 0.0], [0.0, 1e-155], [1e-155, 1e-155]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _covariance(jw, 1.0) is None
