import numpy as np
import pandas as pd
import pytest

from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.errors import SelectionError
from scalecheck.observations import Selection
from scalecheck.sensitivity import (
    Sensitivity,
    SensitivityOptions,
    matched_loss_comparison,
    sensitivity,
    trend_sign,
)


def _flat(loss):
    return 0.25 + 0.0 * loss


@pytest.fixture(scope="module")
def flipping():
    """Two tasks that improve as C4 loss falls. ``c4_shifted`` orders models exactly as C4 does; ``inverted``
    falls as C4 rises (a validation set on which bigger models look worse), so it reverses every trend."""
    return synthetic_testbed({"rising": exponential_accuracy, "also_rising": exponential_accuracy, "flat": _flat},
                             seed=4, extra_losses={"c4_shifted": lambda c4, corpus: c4 + 0.2,
                                                   "inverted": lambda c4, corpus: 10.0 - c4})


def test_trend_sign(flipping):
    assert trend_sign(flipping.series("rising", "c4_val"))[2] == 1
    assert trend_sign(flipping.series("rising", "inverted"))[2] == -1
    assert trend_sign(flipping.series("flat", "c4_val"))[2] == 0


def test_one_validation_set_flips_the_trend_sign_and_only_it(flipping):
    sens = sensitivity(flipping, factors=("x",))
    changed = sens.sign_changes("x")
    assert sorted(changed["task"]) == ["also_rising", "rising"]
    assert set(changed["setting"]) == {"inverted"}
    # The same order of models under another name changes nothing.
    same = sens.verdicts[(sens.verdicts["setting"] == "c4_shifted")]
    assert not same["flipped"].any() and not same["sign_changed"].any()
    s = sens.counts()
    assert s["x_tasks_sign_changed"] == 2 and s["x_tasks_tested"] == 3
    assert s["corpus_tasks_tested"] == 0  # factor not asked for


def test_verdict_flips_are_counted_against_the_baseline(flipping):
    sens = Sensitivity.fit(flipping, options=SensitivityOptions(factors=("x",)))
    v = sens.verdicts
    base = v[v["factor"] == "baseline"].set_index("task")["category"]
    inverted = v[v["setting"] == "inverted"].set_index("task")
    for task in ("rising", "also_rising"):
        confident = inverted.loc[task, "confidence"] >= 0.5 and inverted.loc[task, "baseline_confidence"] >= 0.5
        assert (inverted.loc[task, "category"] != base[task] and confident) == inverted.loc[task, "flipped"]
    assert sens.counts()["x_flips"] == int(v["flipped"].sum())
    per = sens.per_setting().set_index("setting")
    assert per.loc["inverted", "n_sign_changed"] == 2 and per.loc["c4_shifted", "n_sign_changed"] == 0


def test_a_flip_counts_only_between_confident_verdicts():
    # Issue 17: "26 of 46 tasks change verdict" counted flips to verdicts of confidence 0.07. Against a confident
    # baseline, a change to an unconfident verdict (or from one) is no flip; a change between confident ones is.
    import pandas as pd

    from scalecheck.sensitivity.engine import _against_baseline

    rows = pd.DataFrame({"task": ["t", "t", "t", "u", "u"],
                         "factor": ["baseline", "x", "x", "baseline", "x"],
                         "setting": ["c4", "a", "b", "c4", "a"],
                         "category": ["predictable", "noisy", "trendless", "noisy", "predictable"],
                         "confidence": [0.9, 0.45, 0.8, 0.3, 0.95], "trend_sign": [1, 1, 0, 1, 1]})
    v = _against_baseline(rows).set_index(["task", "setting"])
    assert not v.loc[("t", "a"), "flipped"]  # to a 0.45 verdict
    assert v.loc[("t", "b"), "flipped"]  # 0.9 predictable -> 0.8 trendless
    assert not v.loc[("u", "a"), "flipped"]  # from a 0.3 baseline
    assert list(v["confident"]) == [True, False, True, False, False]


@pytest.fixture(scope="module")
def two_corpora():
    """Corpus a scores 5 points more than b at equal C4 loss; on ``flattering`` its loss reads 0.8 lower, so at
    matched ``flattering`` loss a's models are really weaker ones and b comes out ahead."""
    def acc(loss, corpus):
        return exponential_accuracy(loss) + (0.05 if corpus == "a" else 0.0)

    return synthetic_testbed({"task": acc}, corpora=("a", "b"), seed=5, n_examples=20000,
                             extra_losses={"flattering": lambda c4, corpus: c4 - (0.8 if corpus == "a" else 0.0),
                                           "fair": lambda c4, corpus: c4 + 0.1})


def test_corpus_rank_reversal_at_matched_loss(two_corpora):
    sens = sensitivity(two_corpora, factors=("x",))
    ranks = sens.corpus_ranks.set_index("x_name")
    assert ranks.loc["c4_val", "diff"] > 0.02 and ranks.loc["c4_val", "decided"]
    assert ranks.loc["flattering", "diff"] < -0.02 and ranks.loc["flattering", "decided"]
    rev = sens.rank_reversals.set_index("x_name")
    assert rev.loc["flattering", "reversed_decided"]
    assert not rev.loc["fair", "reversed"]
    assert sens.counts()["rank_reversals_decided"] == 1


def test_matched_loss_comparison_direct(two_corpora):
    a = two_corpora.series("task", "c4_val", where={"corpus": "a"})
    b = two_corpora.series("task", "c4_val", where={"corpus": "b"})
    cmp = matched_loss_comparison(a, b)
    assert 0.03 < cmp["diff"] < 0.07
    assert min(a.x.max(), b.x.max()) > cmp["loss_at"] > max(a.x.min(), b.x.min())


def test_corpus_factor_and_settings(two_corpora):
    sens = sensitivity(two_corpora, factors=("corpus", "setting"))
    v = sens.verdicts
    assert set(v.loc[v["factor"] == "corpus", "setting"]) == {"a", "b"}
    assert sens.corpus_ranks.empty and sens.rank_reversals.empty
    d = sens.to_dict()
    assert d["summary"]["corpus_tasks_tested"] == 1 and isinstance(d["headline"], list)


def test_setting_factor_compares_metrics():
    tb = synthetic_testbed({"t": exponential_accuracy}, seed=6)
    # The same task scored a second way (0-shot): flat at chance, with binomial noise (n=1000).
    scores = tb.scores.copy()
    rng = np.random.default_rng(0)
    extra = scores.assign(shots=0, value=rng.binomial(1000, 0.25, len(scores)) / 1000)
    scores["shots"] = 5
    from scalecheck import Testbed

    tb2 = Testbed.build(tb.models, __import__("pandas").concat([scores, extra]), tb.tasks.assign(shots=5))
    sens = sensitivity(tb2, factors=("setting",))
    row = sens.verdicts[sens.verdicts["factor"] == "setting"].iloc[0]
    assert row["shots"] == 0 and row["trend_sign"] == 0 and row["baseline_sign"] == 1
    assert row["flipped"]


def test_unknown_factor(flipping):
    with pytest.raises(SelectionError):
        sensitivity(flipping, factors=("weather",))
    assert np.isfinite(sensitivity(flipping, factors=(), tasks=["rising"]).verdicts["rho"]).all()


def test_best_corpus_per_validation_set(two_corpora):
    best = sensitivity(two_corpora, factors=("x",)).best_corpus().set_index("task")
    assert list(best.columns)[0] == "c4_val"
    assert best.loc["task", "c4_val"] == "a" and best.loc["task", "flattering"] == "b"
    assert best.loc["task", "fair"] == "a"


def test_an_unknown_by_is_an_error_and_none_pools(flipping):
    # Bug 3: an unknown `by` (a typo, or the CLI's "none" passed through) used to give 0 corpus comparisons
    # silently.
    with pytest.raises(SelectionError, match="cannot split by 'corpu'.*did you mean 'corpus'"):
        sensitivity(flipping, by="corpu", factors=("corpus",))
    with pytest.raises(SelectionError, match="use None to pool"):
        sensitivity(flipping, by="none", factors=("corpus",))
    two = synthetic_testbed({"rising": exponential_accuracy}, corpora=("a", "b"), seed=5,
                            extra_losses={"other": lambda c4, corpus: c4 + 0.1})
    pooled = sensitivity(two, by=None, factors=("x", "corpus"))
    assert pooled.by is None and pooled.counts()["corpus_tasks_tested"] == 0 and len(pooled.corpus_ranks) == 0
    split = sensitivity(two, factors=("x", "corpus"))
    assert split.counts()["corpus_tasks_tested"] == 1 and len(split.corpus_ranks) == 2


def test_the_classmethod_takes_a_selection_and_options(flipping):
    """Sensitivity.fit: what (a Selection; default corpora as the groups) and how (SensitivityOptions, checked when
    made); sensitivity()'s keywords build the same."""
    with pytest.raises(SelectionError, match="weather"):
        SensitivityOptions(factors=("x", "weather"))
    with pytest.raises(SelectionError):
        SensitivityOptions(form="exponentail")
    opts = SensitivityOptions(factors=("x",), xs="inverted")
    assert opts.xs == ("inverted",) and opts.factors == ("x",)
    by_class = Sensitivity.fit(flipping, Selection(by="corpus", tasks=("rising",)), opts)
    by_keywords = sensitivity(flipping, tasks=["rising"], factors=("x",), xs=["inverted"])
    pd.testing.assert_frame_equal(by_class.frame(), by_keywords.frame())
    assert by_class.by == "corpus" and Sensitivity.fit(flipping, options=opts).by == "corpus"
    assert set(by_class.frame()["task"]) == {"rising"}
