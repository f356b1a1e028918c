"""The classifier's criteria, tested by simulation: each criterion alone, the pipeline's order, the probabilities,
the caveat, and short ladders whose trend is far beyond sampling noise."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecheck.trends import CATEGORIES, EVIDENCE_KEYS, Verdict, classify
from scalecheck.trends.classify import (
    BEHAVIOURS,
    FREE,
    PIPELINE,
    Criterion,
    Thresholds,
    chain_probabilities,
    criterion_breakthrough,
    criterion_insufficient,
    criterion_inverse,
    criterion_noisy,
    criterion_non_monotonic,
    criterion_predictable,
    criterion_trendless,
    n_free_thresholds,
    null_rise_scatter,
    read,
)
from scalecheck.trends.synthetic import SHAPES, draw_series, make_series

TH = Thresholds()


def _binomial(x, p, n, seed=0, **kw):
    y = np.random.default_rng(seed).binomial(n, np.clip(p, 0, 1)) / n
    return make_series(x, y, n_examples=n, **kw)


# --- each criterion alone ----------------------------------------------------------------------------------------

def test_non_monotonic_alone_holds_on_a_turn_and_not_on_a_rise():
    x = np.linspace(2.5, 6.0, 30)
    turn = _binomial(x, 0.7 - 0.25 * np.abs(x - 4.0) / 2.0, 3000, chance=0.25)
    c = criterion_non_monotonic(read(turn), TH)
    assert isinstance(c, Criterion) and c.holds and c.p_holds > 0.5 and c.shape == "inverted-U"
    rise = _binomial(x, 0.25 + 0.5 * np.exp(-1.5 * (x - 2.5)), 3000, chance=0.25)
    c = criterion_non_monotonic(read(rise), TH)
    assert not c.holds and c.p_holds < 0.5


def test_trendless_alone_holds_on_flat_scatter_and_not_on_a_rise():
    x = np.linspace(2.5, 6.0, 40)
    flat = _binomial(x, np.full(40, 0.26), 2000, seed=3, chance=0.25)
    c = criterion_trendless(read(flat), TH)
    assert c.holds and c.p_holds > 0.5
    rise = _binomial(x, 0.25 + 0.4 * np.exp(-1.2 * (x - 2.5)), 2000, chance=0.25)
    assert not criterion_trendless(read(rise), TH).holds


def test_inverse_alone_reads_the_direction():
    x = np.linspace(2.5, 6.0, 20)
    p = 0.25 + 0.5 * np.exp(-1.5 * (x - 2.5))
    assert criterion_inverse(read(_binomial(x, 1 - p, 3000, chance=0.5)), TH).holds
    assert not criterion_inverse(read(_binomial(x, p, 3000, chance=0.25)), TH).holds


def test_breakthrough_alone_needs_a_plateau_after_the_jump():
    x = np.linspace(2.5, 6.0, 30)
    jump = _binomial(x, 0.25 + 0.4 * np.clip((3.6 - x) / 0.25, 0.0, 1.0), 2000, seed=2, chance=0.25)
    c = criterion_breakthrough(read(jump), TH)
    assert c.holds and c.p_holds > 0.5
    still_rising = _binomial(x, 0.25 + 0.5 * np.exp(-3.0 * (x - 2.5)), 2000, seed=2, chance=0.25)
    assert not criterion_breakthrough(read(still_rising), TH).holds


def test_noisy_alone_holds_when_the_law_explains_little_of_the_plot():
    rng = np.random.default_rng(5)
    x = np.linspace(2.5, 6.0, 80)
    p = np.clip(0.3 + 0.4 * np.exp(-1.2 * (x - 2.5)) + rng.normal(0, 0.15, 80), 0.01, 0.99)
    s = make_series(x, rng.binomial(2000, p) / 2000, n_examples=2000, chance=0.25)
    r = read(s)
    assert criterion_noisy(r, TH).holds and r["visible_r2_exp"] < TH.law_r2
    # A permissive law_r2 makes the same plot "followed closely".
    assert not criterion_noisy(r, Thresholds(law_r2=0.0)).holds
    clean = read(_binomial(x, 0.25 + 0.5 * np.exp(-1.5 * (x - 2.5)), 5000, chance=0.25))
    assert not criterion_noisy(clean, TH).holds


def test_predictable_alone_always_holds_and_insufficient_reads_the_series():
    x = np.linspace(2.5, 6.0, 20)
    s = _binomial(x, 0.25 + 0.5 * np.exp(-1.5 * (x - 2.5)), 3000, chance=0.25)
    assert criterion_predictable(read(s), TH).holds
    assert not criterion_insufficient(s).holds
    assert criterion_insufficient(make_series([3.0, 4.0, 5.0], [0.3, 0.4, 0.5], n_examples=100)).holds


def test_criteria_are_pure_the_reading_is_read_only():
    s = draw_series("noisy", np.random.default_rng(11), n_models=40, n_examples=3000)
    r = read(s)
    before = dict(r.values)
    first = [c(r, TH) for c in PIPELINE]
    again = [c(r, TH) for c in reversed(PIPELINE)][::-1]  # any order gives the same findings
    assert [(c.name, c.holds, c.p_holds) for c in first] == [(c.name, c.holds, c.p_holds) for c in again]
    assert dict(r.values) == before
    with pytest.raises(TypeError):
        r.values["trend_p"] = 0.0
    with pytest.raises(AttributeError):
        TH.law_r2 = 0.1


# --- the pipeline ------------------------------------------------------------------------------------------------

def test_the_pipeline_runs_the_criteria_in_the_documented_order():
    names = [c.__name__.removeprefix("criterion_") for c in PIPELINE]
    assert names == ["non_monotonic", "trendless", "inverse", "breakthrough", "noisy", "predictable"]
    v = classify(draw_series("predictable", np.random.default_rng(2), n_models=20, n_examples=2000))
    checked = [c.name for c in v.criteria]
    assert checked == ["insufficient-data", "non-monotonic", "trendless", "inverse", "breakthrough", "noisy",
                       "predictable"]
    assert v.criterion == "predictable" and not any(c.holds for c in v.criteria[:-1])


def test_pipeline_order_a_turn_is_judged_before_the_trend():
    # An inverted-U with a net rise over the range is non-monotonic, not predictable: the turn comes first.
    x = np.linspace(2.5, 6.0, 30)
    s = _binomial(x, 0.35 + 0.3 * np.exp(-((x - 3.3) ** 2) / 0.3), 5000, seed=4, chance=0.25)
    v = classify(s)
    assert v.category == "non-monotonic" and v.shape == "inverted-U"
    # ...and the later criteria that would also hold on it (a visible trend that some curve follows) do not decide.
    assert criterion_trendless(read(s), TH).holds is False


def test_pipeline_order_is_data_the_chain_follows_it():
    # The chain gives the first criterion that holds its probability; reordering the criteria reorders the verdict.
    hold = Criterion("inverse", True, 0.9, "")
    also = Criterion("noisy", True, 0.9, "")
    assert max(chain_probabilities((hold, also)).items(), key=lambda kv: kv[1])[0] == "inverse"
    assert max(chain_probabilities((also, hold)).items(), key=lambda kv: kv[1])[0] == "noisy"


# --- probabilities -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_six_probabilities_sum_to_one_and_confidence_is_the_top(shape):
    v = classify(draw_series(shape, np.random.default_rng(3)))
    assert set(v.probabilities) == set(BEHAVIOURS)
    assert sum(v.probabilities.values()) == pytest.approx(1.0)
    assert all(0 < p < 1 for p in v.probabilities.values())
    assert v.confidence == pytest.approx(max(v.probabilities.values()))
    assert v.probabilities[v.category] == pytest.approx(v.confidence)
    d = v.to_dict()
    assert sum(d[f"p_{c.replace('-', '_')}"] for c in BEHAVIOURS) == pytest.approx(1.0, abs=1e-3)


def test_a_close_runner_up_is_named_in_the_reason():
    # A series on the edge between two readings: wherever the runner-up has 0.25 or more, the reason says both.
    rng = np.random.default_rng(0)
    named = 0
    for _ in range(30):
        v = classify(draw_series("noisy", rng))
        runner, p = v.runner_up
        if p >= 0.25:
            named += 1
            assert v.reason.startswith(f"{v.category} ({v.confidence:.2f}), or {runner} ({p:.2f})")
        else:
            assert f", or {runner}" not in v.reason.split(". Caveat")[0]
    assert named > 0


def test_confidence_is_higher_for_clearer_series():
    clear = classify(draw_series("predictable", np.random.default_rng(12), n_models=40, n_examples=10000))
    x = np.linspace(2.5, 6.0, 12)
    faint = classify(_binomial(x, 0.25 + 0.08 * np.exp(-1.0 * (x - 2.5)), 400, seed=1, chance=0.25))
    assert clear.category == "predictable"
    assert clear.confidence > faint.probabilities["predictable"]


# --- the caveat --------------------------------------------------------------------------------------------------

def test_caveat_says_when_sampling_noise_could_explain_a_noisy_plot():
    # 32 examples a task: the points scatter as much as a bad task's, but within their binomial noise. On the plot
    # that reads noisy; the caveat says more examples would decide.
    x = np.linspace(2.5, 6.0, 60)
    s = _binomial(x, 0.3 + 0.25 * np.exp(-1.0 * (x - 2.5)), 32, seed=7, chance=0.25)
    v = classify(s)
    assert v.category == "noisy", v.reason
    assert "within sampling noise for 32 examples: more examples would decide" in v.caveat
    assert v.reason.endswith(f"Caveat: {v.caveat}")


def test_caveat_says_when_the_scatter_is_beyond_sampling_noise():
    rng = np.random.default_rng(5)
    x = np.linspace(2.5, 6.0, 80)
    p = np.clip(0.3 + 0.4 * np.exp(-1.2 * (x - 2.5)) + rng.normal(0, 0.15, 80), 0.01, 0.99)
    v = classify(make_series(x, rng.binomial(2000, p) / 2000, n_examples=2000, chance=0.25))
    assert v.category == "noisy" and "the models differ beyond sampling noise" in v.caveat


def test_caveat_on_a_trendless_plot_with_a_significant_drift_and_near_chance():
    # 100 models and 10,000 examples: a drift of half a point is significant (at 0.05) yet small on the plot.
    rng = np.random.default_rng(2)
    x = np.linspace(2.5, 6.0, 100)
    p = 0.255 + 0.005 * (6.0 - x) / 3.5
    v = classify(make_series(x, rng.binomial(10000, p) / 10000, n_examples=10000, chance=0.25), alpha_trend=0.05)
    assert v.category == "trendless", v.reason
    assert v.evidence["trend_p"] < 0.05 and "a drift too small to see is significant" in v.caveat
    assert "score clearly above chance" in v.caveat


# --- short ladders: an effect of >= 10 standard errors is never trendless ----------------------------------------

LADDER = np.array([7e7, 1.6e8, 4.1e8, 1e9, 2.8e9, 6.9e9, 1.2e10, 3e10])


@pytest.mark.parametrize("m", [6, 7, 8])
@pytest.mark.parametrize("kind", ["rise", "jump", "decline"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_ten_standard_error_effect_on_a_short_ladder_is_never_trendless(m, kind, seed):
    n = 1000
    t = np.linspace(0, 1, m)
    if kind == "jump":
        p = np.where(t > 0.5, 0.30, 0.0)
    else:
        lo, hi = 0.30, 0.30 + 10 * np.sqrt(0.35 * 0.65 / n) * 1.2  # >= 10 se of the change between the ends
        p = lo + (hi - lo) * t**1.5
        p = p[::-1] if kind == "decline" else p
    s = _binomial(LADDER[:m], p, n, seed=seed, chance=0.25 if kind != "jump" else 0.0, x_is_loss=False,
                  x_name="params")
    v = classify(s)
    assert v.category != "trendless", (kind, m, v.reason)
    if kind == "decline":
        assert v.category in ("inverse", "non-monotonic")


def test_three_families_of_six_sizes_with_a_jump_are_never_trendless():
    # The case: 3 families x 6 sizes, a jump from 0.00 to 0.30 (about 20 standard errors) in each.
    sizes = LADDER[:6]
    for family in range(3):
        y = np.array([0.0, 0.0, 0.0, 0.30, 0.31, 0.29]) + 0.002 * family
        v = classify(make_series(sizes * (1 + family / 10), y, n_examples=1000, chance=0.0, x_is_loss=False,
                                 x_name="params", task=f"family-{family}"))
        assert v.category != "trendless", v.reason


def test_the_null_guard_shrinks_with_more_models():
    for curve in ("monotone", "arm"):
        assert null_rise_scatter(6, curve) > null_rise_scatter(20, curve) > null_rise_scatter(104, curve) >= 1.0


def test_a_trend_carried_by_one_end_point_is_no_visible_trend():
    # Eight models at one level and the largest a point and a half higher: an exponential bends through that one
    # point, but no reader sees a trend in it (the rise is read from the second to the second-last model).
    x = np.array([7e7, 1.6e8, 4.1e8, 1e9, 1.4e9, 2.8e9, 6.9e9, 1.2e10])
    y = np.array([0.457, 0.457, 0.46, 0.457, 0.457, 0.457, 0.45, 0.473])
    v = classify(make_series(x, y, n_examples=1000, chance=0.5, x_is_loss=False, x_name="params"))
    assert v.category == "trendless", v.reason


# --- shapes, verdicts and their surface ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_clear_series_of_each_shape_get_their_verdict(shape):
    # 20-60 models and 2,000 examples a task: every shape is plainly visible on the plot.
    rng = np.random.default_rng(1)
    m = 60 if shape == "noisy" else 20
    got = [classify(draw_series(shape, rng, n_models=m, n_examples=2000)).category for _ in range(4)]
    assert sum(g == shape for g in got) >= 3, got


def test_turn_shape_and_location_are_reported():
    x = np.linspace(2.5, 6.0, 25)
    p = 0.7 - 0.25 * np.abs(x - 4.0) / 2.0
    y = np.random.default_rng(0).binomial(3000, p) / 3000
    v = classify(make_series(x, y, n_examples=3000, chance=0.25))
    assert v.category == "non-monotonic" and v.shape == "inverted-U"
    assert abs(v.evidence["turn_x"] - 4.0) < 0.4
    u = classify(make_series(x, 1 - y, n_examples=3000, chance=0.25))
    assert u.category == "non-monotonic" and u.shape == "U-shaped"


def test_lower_is_better_metric_is_oriented():
    s = draw_series("predictable", np.random.default_rng(4), n_models=20, n_examples=3000, chance=0.25)
    err = make_series(s.x, 1 - s.y, n_examples=3000, chance=0.75, higher_is_better=False)
    assert classify(err).category == "predictable"


def test_scale_axis_x_is_oriented_and_fitted_on_log_scale():
    s = draw_series("predictable", np.random.default_rng(5), n_models=20, n_examples=3000, chance=0.25)
    params = 1e8 * np.exp(2.0 * (s.x.max() - s.x))
    v = classify(make_series(params, s.y, n_examples=3000, chance=0.25, x_is_loss=False, x_name="params"))
    assert v.category == "predictable" and v.law_on_log_x
    assert np.all(np.isfinite(v.law(params)))


def test_breakthrough_evidence_locates_the_break():
    x = np.linspace(2.5, 6.0, 30)
    v = classify(_binomial(x, 0.25 + 0.4 * np.clip((3.6 - x) / 0.25, 0.0, 1.0), 2000, seed=2, chance=0.25))
    assert v.category == "breakthrough"
    assert abs(v.evidence["break_x"] - 3.6) < 0.3 and v.evidence["plateau_share"] >= 0.1


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


def test_unknown_noise_is_estimated_and_the_caveat_says_so():
    x = np.linspace(2.5, 6, 20)
    y = 2 + 0.5 * x + np.random.default_rng(0).normal(0, 0.3, 20)
    v = classify(make_series(x, y, chance=np.nan, higher_is_better=False))
    assert "noise sd estimated" in v.notes and "no sampling noise is known" in v.caveat


def test_verdict_is_complete_deterministic_and_serialisable():
    s = draw_series("noisy", np.random.default_rng(11), n_models=30, n_examples=3000)
    a, b = classify(s, seed=0), classify(s, seed=0)
    assert isinstance(a, Verdict) and a.category in CATEGORIES
    assert 0.0 <= a.confidence <= 1.0 and a.reason and a.reason[0].isalpha()
    assert set(EVIDENCE_KEYS) <= set(a.evidence)
    assert a.to_dict() == b.to_dict()
    d = json.loads(json.dumps(a.to_dict()))
    assert d["category"] == a.category and d["n_models"] == 30
    assert a.category in str(a)
    row = a.summary()  # one row, the verdict's words and numbers
    assert len(row) == 1 and row["category"].iloc[0] == a.category and row["confidence"].iloc[0] == a.confidence
    assert row["runner_up"].iloc[0] == a.runner_up[0] and row["reason"].iloc[0] == a.reason


def test_thresholds_are_few_frozen_and_overridable_by_name():
    assert n_free_thresholds == len(FREE) + 1 <= 8  # the thresholds and the probabilities' uniform share
    s = draw_series("predictable", np.random.default_rng(2), n_models=20, n_examples=2000)
    assert classify(s, thresholds={"law_r2": 0.6}).category == classify(s, thresholds=Thresholds()).category
    with pytest.raises(ValueError, match="free thresholds"):
        classify(s, thresholds={"ALPHA_TREND": 0.5})


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 45), st.data())
def test_any_finite_series_gets_a_verdict(n, data):
    x = data.draw(st.lists(st.sampled_from([2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]), min_size=n, max_size=n))
    y = data.draw(st.lists(st.sampled_from([0.0, 0.01, 0.25, 0.26, 0.5, 0.9, 1.0]), min_size=n, max_size=n))
    n_ex = data.draw(st.sampled_from([1, 50, 10_000]))
    v = classify(make_series(x, y, n_examples=n_ex, chance=data.draw(st.sampled_from([0.0, 0.25, np.nan]))))
    assert v.category in CATEGORIES and 0 <= v.confidence <= 1
    if v.category != "insufficient-data":
        assert sum(v.probabilities.values()) == pytest.approx(1.0)


def test_long_series_classify_in_bounded_memory():
    import resource

    from scalecheck.trends.evidence import ramp_fit

    rng = np.random.default_rng(0)
    u = np.sort(rng.uniform(0, 1, 4000))
    z = np.where(u > 0.7, (u - 0.7) * 2, 0.0) + rng.normal(0, 0.01, u.size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fit = ramp_fit(u, z, np.full(u.size, 1e4))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert fit is not None and abs(fit.u0 - 0.7) < 0.05
    assert grown_mib < 2000


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
    assert not groups_disagree(together).holds
    v = _with_groups(classify(apart), apart, 0)
    assert dict(v.group_verdicts) == {"a": "predictable", "b": "predictable"}
    assert "groups disagree" in v.notes and "different laws" in v.reason
    same = _with_groups(classify(together), together, 0)
    assert same.group_verdicts == () and np.isfinite(same.evidence["groups_p"])


def test_alpha_trend_is_the_level_the_caveat_calls_a_trend_significant_at():
    # An 8-model decline with scatter beyond sampling noise (a Prize task on Pythia): the plot shows a decline; at
    # the reality check's 1e-3 the caveat says it is not significant, at 0.05 it does not.
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
    assert strict.category == loose.category
    if strict.category == "inverse":
        assert "not significant at 0.001" in strict.caveat and "not significant" not in loose.caveat
