"""Forms: names, structure, initialisation, and prediction properties (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecheck.laws import FORMS, get_form
from scalecheck.laws.fitting import grid_start

EXPECTED = {"power_floor", "chinchilla", "exponential", "sigmoid", "logit_linear", "linear", "sigmoid_logcompute"}
RECENT = {"direct_compute", "loglog", "broken_power", "loss_to_loss"}  # tests/laws/test_recent_forms.py

# Example data and true parameters for each form (x, params).
CASES = {
    "power_floor": (np.geomspace(1e7, 1e10, 12), [1.7, 400.0, 0.3]),
    "chinchilla": (np.column_stack([np.repeat(np.geomspace(1e8, 1e10, 4), 3),
                                    np.tile(np.geomspace(1e9, 1e11, 3), 4)]), [1.8, 480.0, 2000.0, 0.34, 0.37]),
    "exponential": (np.linspace(2.5, 5.0, 12), [8.0, 0.25, -1.2]),
    "sigmoid": (np.linspace(2.5, 5.0, 12), [-0.5, 3.0, 3.5, 0.75]),
    "logit_linear": (np.linspace(2.5, 5.0, 12), [4.0, -1.2]),
    "linear": (np.linspace(2.5, 5.0, 12), [1.2, -0.2]),
    "sigmoid_logcompute": (np.geomspace(1e18, 1e23, 12), [0.25, 1.5, 21.0]),
}


def test_forms_registry():
    assert set(FORMS) == EXPECTED | RECENT
    for name, form in FORMS.items():
        assert form.name == name
        assert get_form(name) is form
        assert get_form(form) is form
        assert len(form.param_names) == form.k == len(form.positive)
    with pytest.raises(KeyError, match="unknown law form"):
        get_form("cubic")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_predict_dict_and_vector_agree_and_init_is_sensible(name):
    form = FORMS[name]
    x, p = CASES[name]
    p = np.array(p, float)
    y = form.predict(p, x)
    assert y.shape == (len(x),) and np.all(np.isfinite(y))
    named = dict(zip(form.param_names, p, strict=True))
    np.testing.assert_allclose(form.predict(named, x), y)
    # Batched: rows of parameters give rows of predictions.
    np.testing.assert_allclose(form.predict_params(np.stack([p, p]), x[None])[1], y)
    start = grid_start(form, x, y)
    assert start.shape == (form.k,) and np.all(np.isfinite(start))
    lo, hi = form.bounds(x, y)
    assert np.all(start >= lo - 1e-9) and np.all(start <= hi + 1e-9)
    # The grid start already explains noiseless data well (it is the best grid point, before refinement).
    resid = y - form.predict(start, x)
    assert np.sqrt(np.mean(resid**2)) < 0.2 * np.std(y)


def test_describe_names_the_formula():
    assert "exp" in FORMS["exponential"].describe()


finite = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite, c=st.floats(-3, 3), lo=st.floats(1.5, 4.0), width=st.floats(0.1, 4.0))
def test_exponential_predict_finite_and_monotone(a, b, c, lo, width):
    x = np.linspace(lo, lo + width, 25)
    y = FORMS["exponential"].predict([a, b, c], x)
    assert np.all(np.isfinite(y))
    d = np.diff(y)
    assert np.all(d >= -1e-9) or np.all(d <= 1e-9)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["sigmoid", "logit_linear", "linear", "sigmoid_logcompute", "power_floor"]),
       raw=st.lists(st.floats(-3, 3), min_size=4, max_size=4), lo=st.floats(1.0, 3.0), width=st.floats(0.1, 3.0))
def test_monotone_forms_predict_finite_and_monotone(name, raw, lo, width):
    form = FORMS[name]
    raw = np.array(raw[:form.k])
    if name == "sigmoid_logcompute":
        x = np.logspace(18 + lo, 18 + lo + width, 25)
        raw[2] = 18 + lo + raw[2]
    elif name == "power_floor":
        x = np.logspace(6 + lo, 6 + lo + 2 * width, 25)
        raw = np.abs(raw) * np.array([1.0, 100.0, 0.3])
    else:
        x = np.linspace(lo, lo + width, 25)
    if name == "sigmoid":
        raw[1] = abs(raw[1]) + 0.01
        raw[2] = lo + raw[2]
    assert form.monotone
    y = form.predict(raw, x)
    assert np.all(np.isfinite(y))
    d = np.diff(y)
    assert np.all(d >= -1e-12) or np.all(d <= 1e-12)


def test_chinchilla_is_monotone_in_each_of_n_and_d():
    form = FORMS["chinchilla"]
    p = [1.8, 480.0, 2000.0, 0.34, 0.37]
    n = np.geomspace(1e7, 1e12, 30)
    assert np.all(np.diff(form.predict(p, np.column_stack([n, np.full(30, 1e10)]))) < 0)
    assert np.all(np.diff(form.predict(p, np.column_stack([np.full(30, 1e9), n]))) < 0)
