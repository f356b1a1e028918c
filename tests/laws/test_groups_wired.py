"""The group-aware law where a single law is taken (the two-step chain's step 1, the reality check's fitted law),
by simulation: offsets and slopes recovered for the target's group, one group unchanged, coverage held."""

import numpy as np
import pytest

from scalecheck.laws import fit_series
from scalecheck.laws.groups import fit_for_group
from scalecheck.observations import Series
from scalecheck.trends import classify

SIZES = np.geomspace(1e7, 3e9, 8)  # the last two sizes are held out
NOISE = 0.006
OFFSETS = {"a": (0.30, 0.45, 0.25), "b": (0.36, 0.45, 0.25), "c": (0.26, 0.45, 0.25)}
SLOPES = {"a": (0.30, 0.50, 0.35), "b": (0.30, 0.30, 0.12), "c": (0.30, 0.15, 0.40)}


def _truth(n, floor, rise, alpha):
    return floor + rise * (1 - (n / 1e7) ** -alpha)


def _series(laws, rng, tokens=(20.0, 40.0)) -> Series:
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
