"""reality_check over a testbed: scopes, the frame, shares, errors."""

import json

import numpy as np
import pytest

from scalecheck import Testbed
from scalecheck.errors import SelectionError
from scalecheck.trends import CATEGORIES, EVIDENCE_KEYS, reality_check

TASKS = ["hellaswag", "mmlu", "agi_eval_sat_en", "jeopardy"]


@pytest.fixture(scope="module")
def result(builtin_testbed):
    return reality_check(builtin_testbed, by="corpus", tasks=TASKS)


def test_one_verdict_per_task_and_scope(result):
    assert result.scopes == ["all", "c4_original", "rpj", "rw_original"]
    assert result.tasks == TASKS
    assert len(result.verdicts) == len(TASKS) * 4
    assert result.verdict("hellaswag", "rpj").evidence["n_models"] == 35
    assert result.verdict("hellaswag").evidence["n_models"] == 104


def test_frame_has_the_promised_columns(result):
    df = result.frame()
    assert {"task", "scope", "category", "confidence", "n_models"} <= set(df.columns)
    assert set(EVIDENCE_KEYS) - {"n_models"} <= set(df.columns)
    assert set(df["category"]) <= set(CATEGORIES)
    assert df["confidence"].between(0, 1).all()


def test_verdicts_on_clear_tasks_read_sensibly(result):
    # hellaswag rises steadily from chance; mmlu drifts up a few points around chance, with scatter; agi_eval_sat_en
    # falls. The plot of mmlu shows a rise lost in scatter; the caveat says it stays near chance.
    assert result.verdict("hellaswag").category == "predictable"
    mmlu = result.verdict("mmlu")
    assert mmlu.category in ("noisy", "trendless") and "above chance" in mmlu.caveat
    assert result.verdict("agi_eval_sat_en").category == "inverse"


def test_shares_counts_and_dict(result):
    counts = result.counts()
    assert list(counts.columns) == list(CATEGORIES) and counts.values.sum() == 16
    share = result.share_predictable("all")
    assert share == pytest.approx(np.mean([v.category == "predictable" and v.confidence >= 0.5
                                           for v in result.verdicts if v.scope == "all"]))
    assert result.share_predictable("all", min_confidence=0.0) == pytest.approx(
        np.mean([v.category == "predictable" for v in result.verdicts if v.scope == "all"]))
    assert result.predictable_text().startswith("predictable (confidence >= 0.5): ")
    d = json.loads(json.dumps(result.to_dict()))
    assert d["counts"]["all"]["predictable"] == counts.loc["all", "predictable"]
    assert len(d["verdicts"]) == 16


def test_progress_is_reported(builtin_testbed):
    seen = []
    reality_check(builtin_testbed, tasks=["copa"], progress=lambda d, t, w: seen.append((d, t, w)))
    # One step per series classified, one per series' inner backtests (fitted in batches), never backwards.
    assert seen[0] == (0, 2, "copa (all)") and seen[-1] == (2, 2, "done")
    assert ("inner backtests" in {w for _, _, w in seen}) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))


def test_bad_selection_fails_before_any_work(builtin_testbed):
    with pytest.raises(SelectionError, match="unknown x"):
        reality_check(builtin_testbed, x="nope")
    with pytest.raises(SelectionError, match="unknown task"):
        reality_check(builtin_testbed, tasks=["nope"])
    with pytest.raises(SelectionError, match="cannot split"):
        reality_check(builtin_testbed, by="colour")


def test_deterministic(builtin_testbed):
    a = reality_check(builtin_testbed, tasks=["copa", "piqa"]).frame()
    b = reality_check(builtin_testbed, tasks=["copa", "piqa"]).frame()
    assert a.equals(b)


def test_default_x_is_the_testbeds_own_when_it_has_no_c4_val(builtin_testbed):
    # Bug 2: reality_check used to insist on c4_val; now it uses Testbed.default_x() as backtests do.
    models = builtin_testbed.models.drop(columns="loss_c4_val")
    tb = Testbed.build(models, builtin_testbed.scores, builtin_testbed.tasks, "no-c4")
    result = reality_check(tb, tasks=["copa"])  # before: SelectionError: unknown x 'c4_val'
    assert "c4_val" not in tb.loss_names and result.x == tb.loss_names[0] == tb.default_x()
    assert len(result.verdicts) == 1
    assert reality_check(builtin_testbed, tasks=["copa"]).x == "c4_val"  # the built-in default is unchanged


def test_the_predictable_share_counts_only_confident_verdicts():
    # Issue 17: a badge "predictable 0.02" counted toward the share. Only verdicts of confidence >= 0.5 count, and
    # the share says so.
    from scalecheck.trends import RealityCheck, Verdict

    def v(task, category, confidence):
        return Verdict(task=task, scope="all", category=category, confidence=confidence, reason="", evidence={})

    rc = RealityCheck([v("a", "predictable", 0.9), v("b", "predictable", 0.02), v("c", "noisy", 0.8),
                       v("d", "insufficient-data", 1.0)])
    assert rc.n_predictable() == 1 and rc.n_with_verdict() == 3
    assert rc.share_predictable() == pytest.approx(1 / 3)
    assert rc.share_predictable(min_confidence=0.0) == pytest.approx(2 / 3)
    assert rc.predictable_text() == "predictable (confidence >= 0.5): 1/3 = 33%"
    summary = rc.summary().set_index("scope")
    assert summary.loc["all", "n_predictable_confident"] == 1 and summary.loc["all", "confidence_cut"] == 0.5
