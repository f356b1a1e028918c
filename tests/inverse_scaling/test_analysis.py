"""The inverse-scaling analysis on simulated ladders of known shape, and on the built-in Pythia testbed.

Recovery rates measured with these seeds (30 ladders of 8 sizes per shape, 1,000 examples, effects >= 8
binomial sds): inverse 28/30, inverted-U 30/30, U-shaped 30/30, standard 30/30, flat 30/30; the asserted floors
leave room for other seeds, not for a broken reading.
"""

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from scalecheck.errors import SelectionError
from scalecheck.inverse_scaling import PRIZE_TERMS, InverseScaling, inverse_scaling, prize_term
from scalecheck.inverse_scaling.analysis import _draw, _unit_frame, adjust
from scalecheck.inverse_scaling.synthetic import SHAPES, draw_ladder, expected_term
from scalecheck.trends import classify

N_PER_SHAPE = 30
FLOOR = {"inverse": 0.85, "inverted-U": 0.85, "U-shaped": 0.85, "standard": 0.9, "flat": 0.9}


@pytest.fixture(scope="module")
def simulated():
    tb = draw_ladder([s for s in SHAPES for _ in range(N_PER_SHAPE)], seed=1)
    bh = inverse_scaling(tb, over_training=False)
    # The same tests adjusted by Holm instead (no duplicate series here: each test is its own).
    holm = dataclasses.replace(bh, tests=tuple(adjust(list(bh.tests), method="holm")), correction="holm")
    return tb, bh, holm


def test_recovers_each_shape_over_scale(simulated):
    _, result, _ = simulated
    f = result.frame()
    assert set(f["analysis"]) == {"scale"} and len(f) == N_PER_SHAPE * len(SHAPES)
    f["want"] = f["task"].map(expected_term)
    rates = f.assign(hit=f["term"] == f["want"]).groupby("want")["hit"].mean()
    for shape, floor in FLOOR.items():
        assert rates[shape] >= floor, (shape, rates.to_dict(), Counter(f.loc[f["want"] == shape, "term"]))


def test_holm_keeps_flat_ladders_quiet_and_finds_the_real_declines(simulated):
    _, bh, result = simulated
    assert result.correction == "holm" and bh.correction == "fdr_bh"
    # Benjamini-Hochberg rejects everything Holm does, and more.
    assert (bh.frame()["significant"] >= result.frame()["significant"]).all()
    fb = bh.frame().assign(want=lambda d: d["task"].map(expected_term))
    assert fb.loc[fb["want"] == "flat", "significant"].sum() <= 2
    f = result.frame()
    f["want"] = f["task"].map(expected_term)
    assert f.loc[f["want"] == "flat", "significant"].sum() <= 1
    hits = f[(f["want"] == "inverse") & (f["term"] == "inverse")]
    assert hits["significant"].mean() >= 0.9
    # A decline is positive (worse), in points and in standard errors, and inverse declines are mostly monotone.
    assert (hits["decline_points"] > 0).all() and (hits["decline_se"] > 3).all()
    assert hits["monotone_share"].median() >= 0.7
    # The turn of an inverted-U lies inside the range, and the decline is measured from it.
    inv_u = f[(f["want"] == "inverted-U") & (f["term"] == "inverted-U")]
    assert ((inv_u["turn_x"] > inv_u["first_x"]) & (inv_u["turn_x"] < inv_u["last_x"])).all()
    assert np.allclose(inv_u["decline"], inv_u["turn_y"] - inv_u["last_y"])


def test_holm_adjustment_matches_its_definition():
    from scalecheck.inverse_scaling import TrendTest

    numbers = ("first_x", "last_x", "turn_x", "first_y", "last_y", "turn_y", "change", "decline", "decline_points",
               "decline_se", "monotone_share", "spearman_rho", "statistic")
    base = TrendTest(task="t", metric="acc", shots=0, variant="", analysis="scale", scope="all", family="all",
                     x="flops", term="inverse", category="inverse", confidence=1.0, reason="", n_points=8,
                     decline_from="smallest to largest", test="slope", p_value=0.5, **dict.fromkeys(numbers, 0.0))
    ps = [0.001, 0.02, 0.04, float("nan")]
    tests = adjust([dataclasses.replace(base, p_value=p) for p in ps], method="holm")
    # Holm: sorted p times (m - rank), running max, capped at 1 (m = 3 testable).
    assert [round(t.p_adjusted, 6) for t in tests[:3]] == [0.003, 0.04, 0.04]
    assert [t.significant for t in tests] == [True, True, True, False]
    assert np.isnan(tests[3].p_adjusted)
    # Benjamini-Hochberg: p * m / rank, running min from the largest.
    bh = adjust([dataclasses.replace(base, p_value=p) for p in ps], method="fdr_bh")
    assert [round(t.p_adjusted, 6) for t in bh[:3]] == [0.003, 0.03, 0.04]


def test_grid_model_and_training_views_on_a_small_ladder():
    tb = draw_ladder(["inverse"] * 3 + ["standard"] * 3 + ["flat"] * 3, seed=3)
    # Holm here: with 12 of 18 grid effects real, Benjamini-Hochberg lets a flat task's p = 0.03 through (as an FDR
    # of 5% allows); the family-wise answer is the one to assert "neither" against.
    result = inverse_scaling(tb, correction="holm")
    g = result.grid_frame().set_index("task")
    for task in g.index:
        want = expected_term(task)
        answer = g.loc[task, "worse_with"]
        if want == "inverse":
            assert answer == "worse with both", (task, answer)  # the decline grows over training
        elif want == "standard":
            assert answer.startswith("better with"), (task, answer)
        else:
            assert answer == "neither", (task, answer)
    crit = result.criteria().set_index("task")
    assert crit.loc["inverse-0", "of_sizes"] == 8 and crit.loc["inverse-0", "of_checkpoints"] == 8
    assert crit.loc["inverse-0", "declining_checkpoints"] >= 5
    assert crit.loc["flat-6", "declining_sizes"] <= 1
    ov = result.overview().set_index("task")
    assert ov.loc["inverse-0", "over_scale"].startswith("inverse")
    assert "sizes" in ov.loc["inverse-0", "over_training"]


def test_series_drawn_for_speed_equal_the_testbed_s_own(builtin_michaelov):
    tb = builtin_michaelov
    frame = _unit_frame(tb, "memo_trap", "acc", 0, "")
    for x, where in (("flops", {"step": 143000}), ("tokens", {"size": "1.4b"})):
        mine = _draw(frame, "memo_trap", "acc", x, where, 0, "")
        theirs = tb.series("memo_trap", x, metric="acc", where=where, shots=0, variant="")
        assert mine.models == theirs.models
        for attr in ("x", "y", "stderr", "n_examples", "params", "tokens", "flops"):
            assert np.array_equal(getattr(mine, attr), getattr(theirs, attr), equal_nan=True), attr
        assert classify(mine).category == classify(theirs).category


def test_prize_terms_cover_every_category():
    from scalecheck.trends import CATEGORIES, Verdict

    for cat in CATEGORIES:
        for shape in ("", "inverted-U", "U-shaped"):
            v = Verdict(task="t", scope="all", category=cat, confidence=1.0, reason="", evidence={}, shape=shape)
            assert prize_term(v) in PRIZE_TERMS


def test_shared_surface_and_deterministic(tmp_path, builtin_michaelov):
    a = inverse_scaling(builtin_michaelov, tasks=["memo_trap", "neqa"], metrics=["acc"])
    b = inverse_scaling(builtin_michaelov, tasks=["memo_trap", "neqa"], metrics=["acc"])
    assert isinstance(a, InverseScaling)
    pd.testing.assert_frame_equal(a.frame(), b.frame())
    d = a.to_dict()
    assert {"overview", "tests", "criteria", "grid", "demonstrations", "correction"} <= set(d)
    assert d["correction"] == "fdr_bh" and len(d["tests"]) == len(a.tests) == 2 * (1 + 8 + 8)
    files = a.write(tmp_path)
    back = pd.read_csv(files["inverse_scaling"])
    assert len(back) == len(a.tests) and {"term", "decline_points", "p_adjusted"} <= set(back.columns)
    assert "memo_trap" in a.summary()["task"].iloc[0]
    # The last checkpoint's models over scale are the final models: one test, adjusted once.
    scale = [t for t in a.tests if t.task == "memo_trap" and t.analysis == "scale"][0]
    last = [t for t in a.tests if t.task == "memo_trap" and t.scope == "pythia step 143000"][0]
    assert (last.p_value, last.p_adjusted, last.term) == (scale.p_value, scale.p_adjusted, scale.term)
    assert sum(np.isfinite(t.p_value) for t in a.tests) == len(a.tests)


def test_memo_trap_declines_over_scale_and_over_training(builtin_michaelov):
    # PROVENANCE.md: a monotone decline from .873 (70M) to .656 (12B) at the final checkpoint.
    r = inverse_scaling(builtin_michaelov, tasks=["memo_trap"])
    scale = [t for t in r.tests if t.analysis == "scale"][0]
    assert scale.term == "inverse" and scale.significant
    assert scale.decline_points == pytest.approx(100 * (0.8728632478632479 - 0.6559829059829059))
    assert r.grid[0].worse_with == "worse with both" and r.grid[0].b_interaction < 0


def test_several_shots_and_loss_beside_accuracy():
    tb = draw_ladder(["inverse", "standard"], seed=5, n_steps=1)
    s = tb.scores
    # The same ladder at 3 shots with the trends mirrored (and clear of chance), and a loss beside each accuracy.
    three = s.assign(shots=3, value=lambda d: (1.25 - d["value"]).clip(0.0, 1.0))
    loss = pd.concat([s, three]).assign(metric="loss", value=lambda d: -np.log(d["value"].clip(0.01)),
                                        higher_is_better=False, stderr=np.nan, chance=np.log(2))
    tb = type(tb).build(tb.models, pd.concat([s, three, loss], ignore_index=True), name="shots")
    r = inverse_scaling(tb)
    units = r.units
    assert {(u[1], u[2]) for u in units} == {("acc", 0), ("acc", 3), ("loss", 0), ("loss", 3)}
    demo = r.demonstrations()
    row = demo[(demo["task"] == "inverse-0") & (demo["metric"] == "acc")].iloc[0]
    assert row["base_term"] == "inverse" and row["term"] == "standard" and row["turned_around"]
    row = demo[(demo["task"] == "standard-1") & (demo["metric"] == "acc")].iloc[0]
    assert row["term"] == "inverse" and row["made_worse"]
    # Loss is lower-is-better: a rising loss on the inverse task is a decline too.
    lt = [t for t in r.tests if t.task == "inverse-0" and t.metric == "loss" and t.shots == 0][0]
    assert lt.term == "inverse" and lt.decline > 0 and np.isnan(lt.decline_points)
    assert r.grid == ()  # one checkpoint per run: no grid


def test_bad_requests_are_selection_errors(builtin_michaelov):
    with pytest.raises(SelectionError, match="unknown task"):
        inverse_scaling(builtin_michaelov, tasks=["nope"])
    with pytest.raises(SelectionError, match="scale axis"):
        inverse_scaling(builtin_michaelov, x="c4_val")


def test_the_front_door_a_selection_validated_once(builtin_michaelov, tmp_path):
    from scalecheck.observations import Selection

    sel = Selection(tasks=("memo_trap",), metrics=("acc",), by="family", checkpoints="final")
    a = inverse_scaling(builtin_michaelov, sel)
    b = inverse_scaling(builtin_michaelov, tasks=["memo_trap"], metrics=["acc"], over_training=False)
    pd.testing.assert_frame_equal(a.frame(), b.frame())
    assert set(a.frame()["analysis"]) == {"scale"} and a.x == "flops"
    # Every metric is checked, with a suggestion where one is close (before, an unknown one was dropped).
    with pytest.raises(SelectionError, match=r"unknown metric 'acc_nrom' \(did you mean 'acc_norm'\?\)"):
        inverse_scaling(builtin_michaelov, metrics=["acc", "acc_nrom"])
    with pytest.raises(SelectionError, match="cannot split by 'famly'.*did you mean 'family'"):
        inverse_scaling(builtin_michaelov, by="famly")
    with pytest.raises(SelectionError, match="alpha must be between 0 and 1"):
        inverse_scaling(builtin_michaelov, alpha=-0.1)
    with pytest.raises(TypeError, match="not both"):
        inverse_scaling(builtin_michaelov, sel, tasks=["neqa"])


def test_the_plan_is_jobs_not_tuples(builtin_michaelov):
    from scalecheck.inverse_scaling.analysis import Job, plan
    from scalecheck.observations import Selection

    sel = Selection(x="flops", by="family", tasks=("memo_trap",), metrics=("acc",), checkpoints="all")
    jobs = plan(builtin_michaelov, sel.validate(builtin_michaelov))
    assert all(isinstance(j, Job) for j in jobs) and len(jobs) == 1 + 8 + 8
    assert [j.analysis for j in jobs[:2]] == ["scale", "scale@checkpoint"] and jobs[0].finals
    assert jobs[-1].x == "tokens" and dict(jobs[-1].where) == {"family": "pythia", "size": "12b"}


def test_a_grid_whose_scores_do_not_vary_has_no_r_squared_and_no_warning():
    import warnings

    from scalecheck.inverse_scaling.grid import fit_grid

    tb = draw_ladder(["flat"], seed=0)
    tb = dataclasses.replace(tb, scores=tb.scores.assign(value=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = fit_grid(tb, "flat-0", "acc", 0, "")
    assert g is not None and np.isnan(g.r_squared)
