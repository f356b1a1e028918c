"""The classifier's criteria, tested by simulation: series drawn from each shape must get that verdict."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecheck.trends import CATEGORIES, EVIDENCE_KEYS, Verdict, classify
from scalecheck.trends.synthetic import SHAPES, draw_series, make_series


@pytest.mark.parametrize("shape", SHAPES)
def test_clear_series_of_each_shape_get_their_verdict(shape):
    # 20 models and 2,000 examples a task: every shape is plainly visible, so every draw must be right. A noisy
    # series needs a longer ladder (60): scatter that hides a trend from the eye hides it from 20 models too.
    rng = np.random.default_rng(1)
    m = 60 if shape == "noisy" else 20
    got = [classify(draw_series(shape, rng, n_models=m, n_examples=2000)).category for _ in range(4)]
    assert got == [shape] * 4


@pytest.mark.parametrize("shape", SHAPES)
def test_realistic_series_mostly_get_their_verdict(shape):
    # Realistic sizes (8-40 models, 50-10,000 examples): the benchmark measures the rates on thousands;
    # here 16 draws of each shape must be right at least 12 times (the worst class's recall there is ~0.85).
    rng = np.random.default_rng(7)
    got = [classify(draw_series(shape, rng)).category for _ in range(16)]
    assert sum(g == shape for g in got) >= 12, got


def test_turn_shape_and_location_are_reported():
    x = np.linspace(2.5, 6.0, 25)
    turn = 4.0
    p = 0.7 - 0.25 * np.abs(x - turn) / 2.0  # best at loss 4.0: better then worse as loss falls
    y = np.random.default_rng(0).binomial(3000, p) / 3000
    v = classify(make_series(x, y, n_examples=3000, chance=0.25))
    assert v.category == "non-monotonic" and v.shape == "inverted-U"
    assert abs(v.evidence["turn_x"] - turn) < 0.4
    u = classify(make_series(x, 1 - y, n_examples=3000, chance=0.25))
    assert u.category == "non-monotonic" and u.shape == "U-shaped"


def test_inverse_is_the_mirror_of_predictable():
    rng = np.random.default_rng(3)
    s = draw_series("predictable", rng, n_models=20, n_examples=3000, chance=0.25)
    assert classify(s).category == "predictable"
    mirrored = make_series(s.x, 1 - s.y, n_examples=3000, chance=0.75)
    assert classify(mirrored).category == "inverse"


def test_lower_is_better_metric_is_oriented():
    # An error rate falling with loss is an improving metric: predictable, not inverse.
    rng = np.random.default_rng(4)
    s = draw_series("predictable", rng, n_models=20, n_examples=3000, chance=0.25)
    err = make_series(s.x, 1 - s.y, n_examples=3000, chance=0.75, higher_is_better=False)
    assert classify(err).category == "predictable"


def test_scale_axis_x_is_oriented_and_fitted_on_log_scale():
    rng = np.random.default_rng(5)
    s = draw_series("predictable", rng, n_models=20, n_examples=3000, chance=0.25)
    params = 1e8 * np.exp(2.0 * (s.x.max() - s.x))  # bigger models have lower loss
    v = classify(make_series(params, s.y, n_examples=3000, chance=0.25, x_is_loss=False, x_name="params"))
    assert v.category == "predictable" and v.law_on_log_x
    assert np.all(np.isfinite(v.law(params)))


def test_breakthrough_evidence_locates_the_break():
    # Flat at chance, a jump between losses 3.2 and 2.95, flat again: the plateau no exponential follows.
    x = np.linspace(2.5, 6.0, 30)
    p = 0.25 + 0.4 * np.clip((3.2 - x) / 0.25, 0.0, 1.0)
    y = np.random.default_rng(2).binomial(2000, p) / 2000
    v = classify(make_series(x, y, n_examples=2000, chance=0.25))
    assert v.category == "breakthrough"
    assert abs(v.evidence["break_x"] - 3.2) < 0.2 and v.evidence["floor_share"] > 0.7
    assert v.evidence["plateau_share"] >= 0.1


def test_floor_then_a_rise_that_goes_on_rising_is_predictable():
    # The expert reading (Lourie et al.'s labels): a floor, then a rise still going at the largest model, is what
    # the exponential in loss follows; only a plateau after the jump makes it a breakthrough.
    x = np.linspace(2.5, 6.0, 30)
    p = 0.25 + 0.5 * np.exp(-3.0 * (x - 2.5))
    y = np.random.default_rng(2).binomial(2000, p) / 2000
    v = classify(make_series(x, y, n_examples=2000, chance=0.25))
    assert v.category == "predictable", v.reason
    assert v.evidence["plateau_share"] < 0.1


@pytest.mark.parametrize("x, y, why", [
    ([3.0, 4.0, 5.0], [0.3, 0.4, 0.5], "only 3 models"),
    (np.linspace(3, 6, 10), np.full(10, 0.25), "every model scores the same"),
    (np.linspace(3, 6, 10), np.r_[np.linspace(0.6, 0.3, 9), np.nan], "not finite"),
    (np.full(10, 4.0), np.linspace(0.3, 0.6, 10), "same c4_val"),
])
def test_insufficient_data(x, y, why):
    v = classify(make_series(x, y, n_examples=500, chance=0.25))
    assert v.category == "insufficient-data" and why in v.reason
    assert v.confidence == 1.0 and v.fit is None
    assert np.isnan(v.law(np.array([3.0, 4.0]))).all()


def test_unknown_noise_is_estimated_and_never_called_noisy():
    # A metric with no stderr and no n_examples (say a perplexity-like score): the noise is estimated.
    x = np.linspace(2.5, 6, 20)
    y = 2 + 0.5 * x + np.random.default_rng(0).normal(0, 0.3, 20)
    v = classify(make_series(x, y, chance=np.nan, higher_is_better=False))
    assert v.category != "noisy" and "noise sd estimated" in v.notes


def test_verdict_is_complete_deterministic_and_serialisable():
    rng = np.random.default_rng(11)
    s = draw_series("noisy", rng, n_models=30, n_examples=3000)
    a, b = classify(s, seed=0), classify(s, seed=0)
    assert isinstance(a, Verdict) and a.category in CATEGORIES
    assert 0.0 <= a.confidence <= 1.0 and a.reason and a.reason[0].isalpha()
    assert set(EVIDENCE_KEYS) <= set(a.evidence)
    assert a.to_dict() == b.to_dict()
    d = json.loads(json.dumps(a.to_dict()))
    assert d["category"] == a.category and d["n_models"] == 30
    assert a.category in a.summary()


def test_confidence_is_higher_for_clearer_series():
    rng = np.random.default_rng(12)
    clear = classify(draw_series("predictable", rng, n_models=40, n_examples=10000)).confidence
    faint = classify(make_series(np.linspace(3, 6, 8), [0.36, 0.33, 0.33, 0.29, 0.27, 0.25, 0.26, 0.25],
                                 n_examples=400, chance=0.25))
    assert faint.category == "predictable"
    assert clear >= faint.confidence  # both may reach the calibration's cap
    assert (classify(draw_series("predictable", np.random.default_rng(12), n_models=40, n_examples=10000))
            .evidence["margin_certainty"] > faint.evidence["margin_certainty"])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 45), st.data())
def test_any_finite_series_gets_a_verdict(n, data):
    # Ties in x, floors of zeros, tiny and huge task sizes: never an exception, always one of the categories.
    x = data.draw(st.lists(st.sampled_from([2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]), min_size=n, max_size=n))
    y = data.draw(st.lists(st.sampled_from([0.0, 0.01, 0.25, 0.26, 0.5, 0.9, 1.0]), min_size=n, max_size=n))
    n_ex = data.draw(st.sampled_from([1, 50, 10_000]))
    v = classify(make_series(x, y, n_examples=n_ex, chance=data.draw(st.sampled_from([0.0, 0.25, np.nan]))))
    assert v.category in CATEGORIES and 0 <= v.confidence <= 1


def test_long_series_classify_in_bounded_memory():
    # Thousands of checkpoints (the OLMo ladder) once made the floor-then-rise search cubic in memory.
    import resource

    import numpy as np

    from scalecheck.trends.evidence import ramp_fit

    rng = np.random.default_rng(0)
    u = np.sort(rng.uniform(0, 1, 4000))
    z = np.where(u > 0.7, (u - 0.7) * 2, 0.0) + rng.normal(0, 0.01, u.size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fit = ramp_fit(u, z, np.full(u.size, 1e4))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert fit is not None and abs(fit.u0 - 0.7) < 0.05
    assert grown_mib < 2000


def test_a_dip_of_the_first_models_before_a_long_rise_is_no_reversal():
    # The smaller arm must span TURN_MIN_ARM_RANGE of the turn's range: a short early dip then a long rise is a
    # trend with a wobble at its start, as the paper's readers see it.
    x = np.linspace(2.5, 6.0, 40)
    p = np.where(x > 5.2, 0.25 - 0.03 * (6.0 - x) / 0.8, 0.22 + 0.5 * np.exp(-1.5 * (x - 2.5)) - 0.5 * np.exp(-1.5 * 2.7))
    y = np.random.default_rng(3).binomial(5000, np.clip(p, 0.01, 0.99)) / 5000
    v = classify(make_series(x, y, n_examples=5000, chance=0.25))
    assert v.category != "non-monotonic", v.reason
    assert v.evidence["turn_arm_range"] < 0.4


def test_visible_scatter_makes_a_trend_noisy_and_the_threshold_can_be_overridden():
    # 80 models around an exponential with scatter about 0.4 of its rise: a trend, but the best smooth fit explains
    # well under NOISY_MAX_VISIBLE_R2 of what the eye sees.
    rng = np.random.default_rng(5)
    x = np.linspace(2.5, 6.0, 80)
    p = np.clip(0.3 + 0.4 * np.exp(-1.2 * (x - 2.5)) + rng.normal(0, 0.15, 80), 0.01, 0.99)
    s = make_series(x, rng.binomial(2000, p) / 2000, n_examples=2000, chance=0.25)
    v = classify(s)
    assert v.category == "noisy", v.reason
    assert v.evidence["visible_r2_smooth"] < 0.6
    # Only CALIBRATED thresholds may be overridden; a permissive one turns the same series predictable.
    assert classify(s, thresholds={"NOISY_MAX_VISIBLE_R2": 0.0}).category == "predictable"
    with pytest.raises(ValueError, match="calibrated"):
        classify(s, thresholds={"ALPHA_TREND": 0.5})


def test_pipeline_order_a_turn_is_judged_before_the_trend():
    # An inverted-U with a net rise over the range is non-monotonic, not predictable: criterion 2 comes before 3-7.
    x = np.linspace(2.5, 6.0, 30)
    p = 0.35 + 0.3 * np.exp(-((x - 3.3) ** 2) / 0.3)
    y = np.random.default_rng(4).binomial(5000, p) / 5000
    v = classify(make_series(x, y, n_examples=5000, chance=0.25))
    assert v.category == "non-monotonic" and v.shape == "inverted-U"


def test_confidence_is_a_probability_from_the_calibration_map():
    from scalecheck.trends.classify import CONFIDENCE_CALIBRATION, calibrated_confidence
    xs, ps = CONFIDENCE_CALIBRATION
    assert list(xs) == sorted(xs) and list(ps) == sorted(ps) and 0 < min(ps) and max(ps) < 1
    v = classify(draw_series("predictable", np.random.default_rng(2), n_models=20, n_examples=2000))
    assert v.confidence == pytest.approx(calibrated_confidence(v.evidence["margin_certainty"]))


def test_the_pipeline_runs_the_criteria_in_the_documented_order():
    from scalecheck.trends.classify import PIPELINE, Criterion
    names = [c.__name__.removeprefix("criterion_") for c in PIPELINE]
    assert names == ["non_monotonic", "trendless", "inverse", "breakthrough", "noisy", "stuck_at_chance",
                     "no_simple_law", "tiny_drift", "predictable"]
    v = classify(draw_series("predictable", np.random.default_rng(2), n_models=20, n_examples=2000))
    checked = [c.name for c in v.criteria]
    # Every criterion before the deciding one was checked and failed; the deciding one holds and is last.
    assert checked[0] == "insufficient-data" and checked[-1] == v.criterion == "predictable"
    assert all(isinstance(c, Criterion) and not c.holds for c in v.criteria[:-1]) and v.criteria[-1].holds
    assert checked == ["insufficient-data", "non-monotonic", "trendless", "inverse", "breakthrough", "noisy",
                       "stuck-at-chance", "no-simple-law", "tiny-drift", "predictable"]


def _two_groups(offset: float, seed: int = 6):
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.linspace(2.6, 5.8, 20), np.linspace(2.7, 5.9, 20)])
    groups = ["a"] * 20 + ["b"] * 20
    p = 0.25 + 0.45 * np.exp(-1.2 * (x - 2.6)) + np.where(np.array(groups) == "b", offset, 0.0)
    return make_series(x, rng.binomial(3000, np.clip(p, 0, 1)) / 3000, n_examples=3000, chance=0.25, groups=groups)


def test_a_pooled_series_of_two_disagreeing_groups_is_flagged_with_per_group_verdicts():
    from scalecheck.trends.classify import groups_disagree
    from scalecheck.trends.reality import _with_groups
    apart, together = _two_groups(0.15), _two_groups(0.0)
    g = groups_disagree(apart)
    assert g.holds and g.evidence["groups_p"] < 1e-3 and g.evidence["groups_visible_gain"] >= 0.05
    assert g.evidence["n_groups"] == 2
    assert not groups_disagree(together).holds
    v = _with_groups(classify(apart), apart, 0)
    assert dict(v.group_verdicts) == {"a": "predictable", "b": "predictable"}
    assert "groups disagree" in v.notes and "different laws" in v.reason
    assert v.to_dict()["group_verdicts"] == {"a": "predictable", "b": "predictable"}
    same = _with_groups(classify(together), together, 0)
    assert same.group_verdicts == () and np.isfinite(same.evidence["groups_p"])


def test_alpha_trend_is_the_level_a_trend_is_detected_at():
    # An 8-model decline with scatter beyond sampling noise (shaped like a Prize task on Pythia): too weak for the
    # reality check's guard of 1e-3, an inverse trend at the 0.05 an analysis that adjusts p-values itself uses.
    import pandas as pd

    from scalecheck.observations import Testbed

    params = np.array([7e7, 1.6e8, 4.1e8, 1e9, 1.4e9, 2.8e9, 6.9e9, 1.2e10])
    y = np.array([0.50, 0.555, 0.44, 0.545, 0.425, 0.335, 0.455, 0.24])
    models = pd.DataFrame({"model": [f"m{i}" for i in range(8)], "source": "t", "params": params})
    scores = pd.DataFrame({"model": models.model, "task": "t1", "metric": "accuracy", "value": y,
                           "n_examples": 315})
    s = Testbed.build(models, scores).series("t1", "params")
    strict, loose = classify(s), classify(s, alpha_trend=0.05)
    assert 1e-3 < strict.evidence["trend_p"] < 0.05
    assert strict.category == "trendless" and loose.category == "inverse"
