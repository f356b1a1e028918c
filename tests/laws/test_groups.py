"""Group-aware laws by simulation: offsets and slopes recovered, one law across groups stays pooled, coverage held."""

import numpy as np
import pytest

from scalecheck.laws import fit_series
from scalecheck.laws.groups import GroupLawFit, fit_for_group, fit_grouped, fit_groupings, shifted
from scalecheck.observations import Series
from scalecheck.trends import classify

SIZES = np.geomspace(1e7, 3e9, 8)  # the last two sizes are held out
NOISE = 0.006


def _truth(n, floor, rise, alpha):
    """Accuracy rising as a power law in N: floor + rise * (1 - (N / 1e7) ** -alpha)."""
    return floor + rise * (1 - (n / 1e7) ** -alpha)


def _series(laws: dict[str, tuple[float, float, float]], rng, tokens=(20.0, 40.0)) -> Series:
    """Two token budgets per size and group, binomial-like noise of sd NOISE."""
    x, y, groups, models = [], [], [], []
    for g, law in laws.items():
        for n in SIZES:
            for t in tokens:
                x.append(n)
                y.append(_truth(n, *law) + rng.normal(0, NOISE))
                groups.append(g)
                models.append(f"{g}-{n:.3g}-{t:g}")
    x = np.array(x)
    order = np.argsort(x, kind="mergesort")
    k = len(x)
    return Series(task="t", metric="accuracy", x_name="params", x=x[order], y=np.array(y)[order],
                  stderr=np.full(k, NOISE), n_examples=np.full(k, np.nan), models=tuple(np.array(models)[order]),
                  params=x[order], tokens=x[order] * 20, flops=x[order] * 120, groups=tuple(np.array(groups)[order]),
                  holdout=np.zeros(k, bool), chance=0.25, x_is_loss=False)


def _split(s: Series):
    train = s.params < SIZES[-2] * 0.99
    return s.subset(train), s.subset(~train)


def _abs_err(fit: GroupLawFit, test: Series, laws) -> np.ndarray:
    pred = fit.predict(np.log(test.params), test.groups)
    truth = np.array([_truth(n, *laws[g]) for n, g in zip(test.params, test.groups, strict=True)])
    return np.abs(pred - truth)


OFFSETS = {"a": (0.30, 0.45, 0.25), "b": (0.36, 0.45, 0.25), "c": (0.26, 0.45, 0.25)}
SLOPES = {"a": (0.30, 0.50, 0.35), "b": (0.30, 0.30, 0.12), "c": (0.30, 0.15, 0.40)}
ONE = {"a": (0.30, 0.45, 0.25), "b": (0.30, 0.45, 0.25), "c": (0.30, 0.45, 0.25)}


def test_groups_with_different_offsets_are_recovered():
    rng = np.random.default_rng(0)
    picked, errs, pooled_errs = [], [], []
    for _ in range(8):
        train, test = _split(_series(OFFSETS, rng))
        auto, pooled = fit_grouped([train], "exponential", "auto")[0], fit_grouped([train], "exponential", "pooled")[0]
        picked.append(auto.mode)
        errs.append(_abs_err(auto, test, OFFSETS).mean())
        pooled_errs.append(_abs_err(pooled, test, OFFSETS).mean())
        if auto.mode == "offsets":
            # Offsets relative to the groups' mean: b - a = 0.06, a - c = 0.04 (floors differ, shapes shared).
            o = auto.offsets
            assert o["b"] - o["a"] == pytest.approx(0.06, abs=0.01)
            assert o["a"] - o["c"] == pytest.approx(0.04, abs=0.01)
    assert picked.count("pooled") == 0
    assert picked.count("offsets") >= 6  # the shared shape is the parsimonious truth
    assert np.mean(errs) < 0.01 < np.mean(pooled_errs)


def test_groups_with_different_slopes_get_a_law_each():
    rng = np.random.default_rng(1)
    picked, errs, pooled_errs = [], [], []
    for _ in range(8):
        train, test = _split(_series(SLOPES, rng))
        auto = fit_grouped([train], "exponential", "auto")[0]
        pooled = fit_grouped([train], "exponential", "pooled")[0]
        picked.append(auto.mode)
        errs.append(_abs_err(auto, test, SLOPES).mean())
        pooled_errs.append(_abs_err(pooled, test, SLOPES).mean())
    assert picked.count("separate") >= 7
    assert np.mean(errs) < 0.015 and np.mean(errs) < np.mean(pooled_errs) / 3


def test_one_law_across_groups_stays_pooled_and_one_group_is_unchanged():
    rng = np.random.default_rng(2)
    picked = [fit_grouped([_split(_series(ONE, rng))[0]], "exponential", "auto")[0].mode for _ in range(12)]
    assert picked.count("pooled") >= 10
    single = _series({"a": ONE["a"]}, rng)
    g = fit_grouped([single], "exponential", "auto")[0]
    from scalecheck.laws import fit_series

    plain = fit_series(single, "exponential")
    assert g.mode == "pooled" and g.law.params == pytest.approx(plain.params)


def test_coverage_is_held_with_groups():
    rng = np.random.default_rng(3)
    covered = []
    for laws in (OFFSETS, SLOPES, ONE) * 6:
        train, test = _split(_series(laws, rng))
        f = fit_grouped([train], "exponential", "auto")[0]
        lo, hi = f.interval(np.log(test.params), test.groups, level=0.9)
        covered.extend((lo <= test.y) & (test.y <= hi))
    assert 0.85 <= np.mean(covered) <= 1.0


def test_unseen_group_and_shift_on_log_scale():
    rng = np.random.default_rng(4)
    train, _ = _split(_series(OFFSETS, rng))
    f = fit_grouped([train], "exponential", "offsets")[0]
    # A group the fit set never saw is predicted by the shared law (no offset).
    np.testing.assert_allclose(f.predict([np.log(1e9)], ["new"]), f.law.predict([np.log(1e9)]))
    from scalecheck.laws import get_form

    assert shifted(get_form("power_floor"), np.array([2.0]), np.log(1.5))[0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="grouping"):
        fit_grouped([train], "exponential", "sometimes")


def test_fit_group_law_gives_fitted_values_and_parameter_count():
    from scalecheck.laws.groups import fit_group_law

    rng = np.random.default_rng(5)
    s = _series(OFFSETS, rng)
    g = fit_group_law(s, "exponential", "offsets")
    assert g.n_params == 3 + 2
    truth = np.array([_truth(n, *OFFSETS[k]) for n, k in zip(s.params, s.groups, strict=True)])
    assert np.sqrt(np.mean((g.fitted(s) - truth) ** 2)) < 0.005
    assert "offsets per group" in g.describe()


# --- where a single law is taken: the two-step chain's step 1 (fit_for_group), the reality check's fitted law ----

@pytest.mark.parametrize("laws", [OFFSETS, SLOPES], ids=["offsets", "slopes"])
def test_the_law_for_a_group_predicts_that_group(laws):
    rng = np.random.default_rng(11)
    errs, pooled_errs, covered = [], [], []
    for _ in range(5):
        train, test = _split(_series(laws, rng))
        for g in laws:
            mine = np.array([h == g for h in test.groups])
            x = np.log(test.params[mine])
            truth = _truth(test.params[mine], *laws[g])
            law = fit_for_group(train, "exponential", g, n_boot=200)
            errs.append(np.abs(law.predict(x) - truth).mean())
            pooled_errs.append(np.abs(fit_series(train, "exponential").predict(x) - truth).mean())
            lo, hi = law.interval(x, level=0.9, kind="prediction")
            covered.extend((lo <= test.y[mine]) & (test.y[mine] <= hi))
    assert np.mean(errs) < 0.012 < np.mean(pooled_errs)
    assert np.mean(errs) < 0.5 * np.mean(pooled_errs)
    assert 0.85 <= np.mean(covered) <= 1.0


def test_one_group_several_targets_or_pooled_is_the_plain_fit():
    rng = np.random.default_rng(12)
    single = _series({"a": OFFSETS["a"]}, rng)
    plain = fit_series(single, "exponential")
    assert fit_for_group(single, "exponential", "a").params == pytest.approx(plain.params)
    several = _series(OFFSETS, rng)
    plain = fit_series(several, "exponential")
    for groups, grouping in ((["a", "b"], "auto"), ("a", "pooled"), ("unseen", "auto"), (None, "auto")):
        assert fit_for_group(several, "exponential", groups, grouping).params == pytest.approx(plain.params)


def test_reality_check_law_is_group_aware_and_one_group_unchanged():
    rng = np.random.default_rng(13)
    s = _series(OFFSETS, rng)
    v = classify(s)
    # The verdict's law is the shared shape; its chi2 is the offset law's, far below the pooled law's.
    pooled = fit_series(s, "exponential")
    chi2_pooled = float(np.sum((pooled.residuals / NOISE) ** 2))
    assert v.evidence["chi2_exp"] < 0.3 * chi2_pooled
    assert v.category == "predictable"
    mean_truth = np.mean([_truth(3e9, *law) for law in OFFSETS.values()])
    assert v.law(np.array([3e9]))[0] == pytest.approx(mean_truth, abs=0.02)
    single = _series({"a": OFFSETS["a"]}, rng)
    vs = classify(single)
    assert vs.fit.params == pytest.approx(fit_series(single, "exponential", loo=False).params, rel=1e-3)


def test_a_grouping_asked_for_that_cannot_be_fitted_falls_back_to_one_law(monkeypatch):
    # The offsets' backfit can fail (an unusable shape on some fit sets); asking for offsets then gets the pooled
    # law, saying so, instead of an error half way through a backtest.
    import scalecheck.laws.groups as groups

    monkeypatch.setattr(groups, "_fit_offsets", lambda form, arrays, *a: [None] * len(arrays))
    train, _ = _split(_series(OFFSETS, np.random.default_rng(3)))
    fit = fit_grouped([train], "exponential", "offsets")[0]
    assert fit.mode == "pooled" and fit.requested == "offsets" and fit.usable


def test_every_grouping_at_once_is_each_grouping_asked_for():
    # fit_groupings (the inner backtest's choice of grouping) fits the pooled law once for all three; each of its
    # fits predicts as fit_grouped asked for that grouping does, and one group gets the pooled law alone.
    train, test = _split(_series(SLOPES, np.random.default_rng(4)))
    every = fit_groupings([train], "exponential")[0]
    assert set(every) == {"pooled", "offsets", "separate"}
    for mode, f in every.items():
        asked = fit_grouped([train], "exponential", mode)[0]
        assert f.mode == asked.mode == mode
        np.testing.assert_allclose(f.predict(np.log(test.params), test.groups),
                                   asked.predict(np.log(test.params), test.groups), rtol=1e-6)
    one = _series({"a": OFFSETS["a"]}, np.random.default_rng(4))
    assert list(fit_groupings([one], "exponential")[0]) == ["pooled"]


def test_inner_backtest_with_an_offsets_backfit_failing_on_one_split(monkeypatch):
    # The inner backtest fits every grouping of every split at once; where the offsets' backfit fails on one split
    # only, that split's offsets forecast is the pooled law's (as fit_grouped gives it), so every grouping is
    # scored on the same targets and the forecast, its weights and its track record stay whole.
    import scalecheck.laws.groups as groups
    from scalecheck.laws.select import fit_selected

    real = groups._fit_offsets

    def every_other(form, arrays, *a):
        return [None if j % 2 else f for j, f in enumerate(real(form, arrays, *a))]

    s = _series(OFFSETS, np.random.default_rng(6))
    monkeypatch.setattr(groups, "_fit_offsets", every_other)
    fit = fit_selected([s], candidates=("exponential",))[0]
    assert len(fit.choice.track) == 2 and np.isfinite(fit.choice.inner_mae["exponential"])
    assert fit.choice.groupings["exponential"] in ("pooled", "offsets", "separate")
