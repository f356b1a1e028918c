"""A task's form chosen by an inner backtest on its fit set: the choice extrapolates, and is made without the
held-out models."""

import numpy as np

from scalecheck.laws.select import DEFAULT_CANDIDATES, fit_selected, inner_splits
from scalecheck.observations import Series


def _series(n, y, chance=0.25, groups=None):
    k = len(n)
    return Series(task="t", metric="accuracy", x_name="params", x=n, y=y, stderr=np.full(k, 0.005),
                  n_examples=np.full(k, np.nan), models=tuple(f"m{i}" for i in range(k)), params=n,
                  tokens=n * 20, flops=n * 120, groups=tuple(groups or ("-",) * k), holdout=np.zeros(k, bool),
                  chance=chance, x_is_loss=False)


def _direct(n, chance=0.25):
    return chance + (1 - chance) * np.exp(-2.5 * (n / 1e7) ** -0.3)


def test_inner_backtest_chooses_a_form_that_extrapolates():
    # Accuracy above chance that saturates (Krajewski's law): an exponential in ln N fitted to the rising part
    # overshoots past it. The chosen form must predict the held-out sizes better than the exponential does.
    rng = np.random.default_rng(0)
    sizes = np.repeat(np.geomspace(1e7, 1e10, 8), 2)
    fit_part = sizes < 1e9
    chosen, err_sel, err_exp = [], [], []
    for _ in range(6):
        s = _series(sizes, _direct(sizes) + rng.normal(0, 0.005, len(sizes)))
        train, test = s.subset(fit_part), s.subset(~fit_part)
        sel = fit_selected([train], combine=False)[0]
        chosen.append(sel.form)
        assert sel.choice.n_inner > 0 and set(sel.choice.inner_mae) == {*DEFAULT_CANDIDATES, "no_change"}
        from scalecheck.laws import fit_series

        exp = fit_series(train, "exponential")
        from scalecheck.laws import law_x

        pred = sel.predict(law_x(test, sel.law.law), test.groups)  # the chosen form's own axis
        err_sel.append(np.mean(np.abs(pred - _direct(test.params))))
        err_exp.append(np.mean(np.abs(np.clip(exp.predict(np.log(test.params)), 0, 1) - _direct(test.params))))
    assert np.mean(err_sel) < np.mean(err_exp)
    assert chosen.count("direct_compute") + chosen.count("loglog") >= 4


def test_too_few_sizes_for_an_inner_backtest_keeps_the_default_form():
    sizes = np.geomspace(1e7, 1e8, 3)
    s = _series(sizes, _direct(sizes))
    assert inner_splits(s) == []
    sel = fit_selected([s], combine=False)[0]
    assert sel.form == DEFAULT_CANDIDATES[0] and sel.choice.n_inner == 0


def test_a_candidate_that_fails_an_inner_prediction_is_never_chosen():
    # A linear trend in ln N: the inner backtests of every candidate are finite, and the choice is one of them
    # with the lowest inner error.
    sizes = np.geomspace(1e7, 1e10, 7)
    y = 0.3 + 0.03 * np.log(sizes / 1e7) + np.random.default_rng(1).normal(0, 0.003, 7)
    sel = fit_selected([_series(sizes, y)], combine=False)[0]
    mae = sel.choice.inner_mae
    finite = {k: v for k, v in mae.items() if np.isfinite(v)}
    assert sel.form == min(finite, key=finite.get)


def test_no_change_is_a_candidate_and_its_forecast_is_the_top_level_per_group():
    from scalecheck.laws.select import NO_CHANGE, NoChangeFit

    rng = np.random.default_rng(2)
    sizes = np.repeat(np.geomspace(1e7, 1e10, 8), 2)
    groups = ["a", "b"] * 8
    y = 0.26 + 0.05 * (np.array(groups) == "b") + rng.normal(0, 0.01, len(sizes))
    s = _series(sizes, y, groups=groups)
    sel = fit_selected([s])[0]
    assert np.isfinite(sel.choice.inner_mae[NO_CHANGE])
    # With no law to choose from, no change is the forecast: each group's level at the largest size.
    nc = fit_selected([s], candidates=(), combine=False)[0]
    assert isinstance(nc, NoChangeFit) and nc.choice.form == NO_CHANGE
    top = sizes == sizes.max()
    for g in ("a", "b"):
        assert nc.levels[g] == np.mean(y[top & (np.array(groups) == g)])
    assert np.isfinite(nc.sd) and 0.003 < nc.sd < 0.05
    lo, hi = nc.interval(["a", "new"], 0.9)
    assert lo[0] < nc.levels["a"] < hi[0] and lo[1] < nc.overall < hi[1]
    # A clean law is still chosen over no change.
    rising = _series(sizes, _direct(sizes) + rng.normal(0, 0.003, len(sizes)))
    assert fit_selected([rising])[0].choice.form != NO_CHANGE


def test_no_change_interval_without_an_inner_backtest_uses_the_scatter():
    from scalecheck.laws.select import no_change_fit

    sizes = np.repeat(np.geomspace(1e7, 1e8, 2), 3)  # two sizes: no inner backtest
    y = 0.26 + np.random.default_rng(4).normal(0, 0.01, 6)
    nc = no_change_fit(_series(sizes, y))
    assert nc.choice.n_inner == 0
    assert nc.sd == np.std(y, ddof=1) * np.sqrt(1 + 1 / 3)
    lo, hi = nc.interval(["-"], 0.9)
    assert lo[0] < nc.overall < hi[0]


def test_inner_origins_are_each_groups_own_largest_sizes():
    # Three families of different reach (a: 1e8-1e9, b: 1e9-1e11, c: one size). The inner backtest asks what a
    # forecast of a family's next size asks: every family's largest size held out, then its two largest, a family
    # taking part while it keeps a smaller size. On the pooled sizes only family b would have been held out.
    a, b = np.geomspace(1e8, 1e9, 4), np.geomspace(1e9, 1e11, 4)
    sizes = np.concatenate([a, b, [3e9]])
    groups = ["a"] * 4 + ["b"] * 4 + ["c"]
    s = _series(sizes, np.linspace(0.3, 0.6, 9), groups=groups)
    (tr1, te1), (tr2, te2) = inner_splits(s)
    assert set(np.flatnonzero(te1)) == {3, 7}
    assert set(np.flatnonzero(te2)) == {2, 3, 6, 7}
    assert np.array_equal(tr1, ~te1) and np.array_equal(tr2, ~te2) and tr1[8] and tr2[8]
    # The track record's reach is each target against its own family's largest fitted size (10x: b's 1e11 over
    # its 2.2e10), not against the largest fitted size overall.
    sel = fit_selected([s])[0]
    ratios = [r for _, _, r in sel.choice.track]
    assert np.allclose(ratios, [b[3] / b[2], b[3] / b[1]])


def test_inner_origins_with_one_group_or_shared_sizes_are_the_pooled_ones():
    sizes = np.repeat(np.geomspace(1e7, 1e10, 6), 2)
    for groups in (None, ["x", "y"] * 6):
        (tr1, te1), (tr2, te2) = inner_splits(_series(sizes, np.linspace(0.3, 0.6, 12), groups=groups))
        assert np.array_equal(te1, sizes == sizes.max())
        assert np.array_equal(te2, sizes >= np.unique(sizes)[-2])


def test_each_forms_grouping_is_chosen_by_the_inner_backtest():
    # Two corpora whose scores rise at different rates in ln N: the inner backtest keeps one law per group for the
    # linear form, and the combined forecast's member is fitted that way; one group has no grouping to choose.
    rng = np.random.default_rng(5)
    sizes = np.repeat(np.geomspace(1e7, 1e10, 7), 2)
    groups = ["a", "b"] * 7
    slope = np.where(np.array(groups) == "a", 0.06, 0.01)
    y = 0.3 + slope * np.log(sizes / 1e7) + rng.normal(0, 0.003, len(sizes))
    fit = fit_selected([_series(sizes, y, groups=groups)], candidates=("linear",))[0]
    assert fit.choice.groupings == {"linear": "separate"}
    assert [m.mode for m in fit.members if m.form == "linear"] == ["separate"]
    one = fit_selected([_series(sizes, y)], candidates=("linear",))[0]
    assert one.choice.groupings == {}
