"""The shape tests behind verdicts: isotonic and umbrella fits, the floor-then-rise fit, nested tests."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecheck.trends import evidence as ev
from scalecheck.trends.synthetic import make_series

floats = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(floats, min_size=6, max_size=30))
def test_fits_are_nested_so_their_chi2_are_ordered(z):
    # constant >= monotone >= umbrella (with arms of 1, every monotone fit is an umbrella)
    z = np.asarray(z)
    w = np.ones(len(z))
    _, c = ev.constant_fit(z, w)
    up = ev.isotonic_fit(z, w, True)
    um = ev.umbrella_fit(z, w, peak=True, min_arm=1)
    assert c >= up.chi2 - 1e-9
    assert um is not None and up.chi2 >= um.chi2 - 1e-9
    assert np.all(np.diff(up.fitted) >= -1e-12)


def test_umbrella_finds_the_peak():
    z = np.array([0.1, 0.3, 0.5, 0.7, 0.6, 0.4, 0.2])
    um = ev.umbrella_fit(z, np.ones(7), peak=True)
    assert um.mode == 3 and um.shape == "inverted-U" and um.chi2 == pytest.approx(0)
    assert ev.umbrella_fit(z[:5], np.ones(5), peak=True) is None  # too short for two arms of 3


def test_ramp_recovers_floor_break_and_plateau():
    u = np.linspace(0, 1, 40)
    z = np.where(u < 0.6, 0.25, np.minimum(0.25 + (u - 0.6) * 2.0, 0.55))
    r = ev.ramp_fit(u, z, np.ones(40) * 1e4)
    assert r.floor == pytest.approx(0.25, abs=1e-3)
    assert 0.57 < r.u0 < 0.63 and 0.72 < r.u1 < 0.78
    assert r.rise == pytest.approx(0.30, abs=0.01) and r.floor_share == pytest.approx(0.6, abs=0.03)
    assert r.n_params == 4


def test_ramp_rejects_falling_series():
    u = np.linspace(0, 1, 12)
    assert ev.ramp_fit(u, 1 - u, np.ones(12)) is None


def test_nested_p_judges_gain_against_excess_scatter():
    # The same gain is strong evidence when the bigger fit is within noise, weak when it scatters 10x.
    assert ev.nested_p(50.0, 1, 15.0, 3, 22) < 1e-6
    assert ev.nested_p(320.0, 1, 200.0, 3, 22) > 1e-3
    assert ev.nested_p(10.0, 1, 10.0, 3, 3) == 1.0  # no degrees of freedom left


def test_orient_puts_scale_up_and_better_up():
    s = make_series([3.0, 4.0, 5.0], [0.2, 0.5, 0.9], n_examples=100, chance=0.25, higher_is_better=False)
    o = ev.orient(s)
    assert np.all(np.diff(o.u) > 0)  # smallest model (highest loss) first
    assert list(o.z) == [-0.9, -0.5, -0.2] and o.chance == -0.25 and o.noise_source == "binomial"


def test_neighbour_sd_ignores_a_smooth_trend():
    rng = np.random.default_rng(0)
    z = np.linspace(0, 10, 400) + rng.normal(0, 0.5, 400)
    assert ev.neighbour_sd(z) == pytest.approx(0.5, rel=0.15)
