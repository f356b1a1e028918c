import numpy as np
import pandas as pd
import pytest

from scalecheck.backtest import PREDICTION_COLUMNS, Backtest, BacktestOptions, backtest
from scalecheck.backtest.synthetic import (
    SIZES,
    breakthrough_accuracy,
    exponential_accuracy,
    synthetic_testbed,
)
from scalecheck.errors import SelectionError
from scalecheck.laws.prediction import PredictionModel
from scalecheck.observations import Selection

N_BOOT = 0  # delta-method intervals, the default
FULL = PredictionModel(low=1.0, high=1.0, saturation=np.inf)  # the law delivers its whole predicted change


@pytest.fixture(scope="module")
def lawful():
    """Twenty draws of one task that follows the exponential law exactly, with binomial noise (n=1000)."""
    return synthetic_testbed({f"t{i}": exponential_accuracy for i in range(20)}, seed=1, holdout_sizes=(1e9, 3e9))


def test_frame_has_one_row_per_prediction(lawful):
    bt = backtest(lawful, tasks=["t0"], scheme="expanding", n_boot=N_BOOT)
    f = bt.frame()
    assert list(f.columns) == PREDICTION_COLUMNS
    # k = 2..5 sizes fitted; each predicts the 3 models of every larger size.
    assert sorted(f["k_sizes_fit"].unique()) == [2, 3, 4, 5]
    assert len(f) == sum(3 * (len(SIZES) - k) for k in range(2, len(SIZES)))
    assert f["usable"].all()
    # The interval is the predictive distribution's (scalecheck.laws.prediction) and the point its median.
    assert ((f["lo"] <= f["predicted"]) & (f["predicted"] <= f["hi"])).all()
    np.testing.assert_allclose(f["abs_error"], 100 * (f["predicted"] - f["actual"]).abs())
    np.testing.assert_allclose(f["signed_error"], 100 * (f["predicted"] - f["actual"]))
    assert (f["units"] == "points").all()


def test_lawful_task_is_predicted_well_and_covered_at_about_nominal_rate(lawful):
    # The calibrated prediction model as it is (adapt=False); the default adapts it to the testbed (below).
    bt = backtest(lawful, scheme="holdout", n_boot=N_BOOT, level=0.9, adapt=False)
    f = bt.frame()
    assert len(f) == 20 * 6  # 20 tasks x 6 held-out models
    coverage = f["covered"].astype(bool).mean()
    assert 0.8 <= coverage <= 0.98, coverage  # nominal 0.9; 120 correlated predictions
    # These laws deliver their whole change, more than the prior's median expects: the prior covers 0.32 at 50%
    # (0.975 at 90%). Adapted, the inner backtests widen it (never narrower): 0.475 at 50%, 0.99 at 90%, the
    # largest miss of the two levels halved.
    adapted = backtest(lawful, scheme="holdout", n_boot=N_BOOT, level=0.9).frame()
    assert (adapted["spread_multiplier"] > 1).all()

    def worst(frame):
        need = frame["level_to_cover"].astype(float)
        return max(abs(float((need <= lv).mean()) - lv) for lv in (0.5, 0.9))

    assert worst(adapted) < 0.6 * worst(f)
    s = bt.summary()
    assert set(s["task"]) == {f"t{i}" for i in range(20)}
    # The default point forecast is the predictive median, which expects part of the change (real laws mostly
    # stop short); with a model expecting the whole change, as this simulated law delivers, it is the law's own.
    full = backtest(lawful, scheme="holdout", n_boot=N_BOOT, level=0.9, prediction_model=FULL)
    assert full.frame()["abs_error"].mean() < 3.0  # points; the noise sd alone is ~1.5 points
    assert abs(full.by_form()["bias"].iloc[0]) < 2.0


def test_broken_law_gives_large_errors():
    tb = synthetic_testbed({"emergent": breakthrough_accuracy, "lawful": exponential_accuracy}, seed=2)
    s = backtest(tb, scheme="leave_largest_out", n_boot=N_BOOT).summary().set_index("task")
    assert s.loc["emergent", "mae"] > 10  # points
    assert s.loc["emergent", "mae"] > 4 * s.loc["lawful", "mae"]
    # Fitted on a flat floor, the law cannot know where the rise comes: either its interval misses the truth
    # or it is so wide (clipped to [0, 1]) that it says nothing; on the lawful task it is narrow.
    assert s.loc["emergent", "coverage"] < 0.5 or s.loc["emergent", "mean_interval_width"] > 50
    assert s.loc["lawful", "mean_interval_width"] < 25


def test_ladder_file_overrides_the_holdout_column(lawful, tmp_path):
    targets = lawful.models[lawful.models["params"] == 3e8]["model"].tolist()
    path = tmp_path / "ladder.yaml"
    path.write_text("models:\n" + "".join(f"  - name: {m}\n    holdout: true\n" for m in targets))
    f = backtest(lawful, tasks=["t0"], scheme="holdout", holdout=path, n_boot=0).frame()
    assert sorted(f["model"]) == sorted(targets)
    assert (f["k_sizes_fit"] == len(SIZES) - 1).all()


def test_declared_targets_must_exist(lawful):
    with pytest.raises(SelectionError, match="hold-out"):
        backtest(lawful, tasks=["t0"], scheme="holdout", holdout=["nope"])


def test_per_corpus_scopes_and_results_are_deterministic():
    tb = synthetic_testbed({"t": exponential_accuracy}, corpora=("a", "b"), seed=3)
    one = backtest(tb, by="corpus", scheme="leave_largest_out", n_boot=50, seed=7)
    # The classmethod takes what is analysed and how as two objects; the function's keywords build the same.
    two = Backtest.fit(tb, Selection(by="corpus"), BacktestOptions(scheme="leave_largest_out", n_boot=50, seed=7))
    pd.testing.assert_frame_equal(one.frame(), two.frame())
    assert set(one.frame()["scope"]) == {"a", "b"}
    d = one.to_dict()
    assert d["scheme"] == "leave_largest_out" and d["n_predictions"] == 6


def test_unknown_scheme_and_level(lawful):
    with pytest.raises(SelectionError):
        backtest(lawful, scheme="sideways")
    with pytest.raises(SelectionError):
        backtest(lawful, level=1.5)


def test_options_are_checked_when_made_and_keywords_override_them(lawful):
    """BacktestOptions fails on its own, before any data is read; a keyword beside an options object (or a
    selection) replaces that one field."""
    for bad in ({"scheme": "sideways"}, {"level": 0.0}, {"groups": "by_colour"}, {"forms": "exponentail"},
                {"forms": ()}, {"forms": ("exponential", "exponential")}):
        with pytest.raises(SelectionError):
            BacktestOptions(**bad)
    opts = BacktestOptions(forms="exponential", scheme="holdout", groups="pooled")
    assert opts.forms == ("exponential",)
    bt = backtest(lawful, options=opts, level=0.5, selection=Selection(tasks=("t0", "t1")), tasks=["t0"])
    assert bt.level == 0.5 and bt.scheme == "holdout" and bt.forms == ("exponential",)
    assert set(bt.frame()["task"]) == {"t0"} and set(bt.frame()["grouping"]) == {"pooled"}
    with pytest.raises(TypeError):
        backtest(lawful, n_bootstrap=10)  # a misspelt option is not silently ignored


def test_backtest_takes_a_form_object_or_a_fitting_function(lawful):
    from scalecheck.laws import FORMS, fit_series

    by_name = backtest(lawful, "exponential", scheme="holdout", tasks=["t0", "t1"]).frame()
    by_object = backtest(lawful, FORMS["exponential"], scheme="holdout", tasks=["t0", "t1"]).frame()
    pd.testing.assert_frame_equal(by_name, by_object)

    def huber_exponential(train):
        return fit_series(train, "exponential", loss="huber")

    class Mean:  # a baseline predictor: no interval, so coverage is not scored
        def __init__(self, train):
            self.value = float(np.mean(train.y))

        def predict(self, x):
            return np.full(np.shape(x), self.value)

    def mean_baseline(train):
        return Mean(train)

    bt = backtest(lawful, [FORMS["exponential"], huber_exponential, mean_baseline], scheme="holdout",
                  tasks=["t0", "t1"])
    assert bt.forms == ("exponential", "huber_exponential", "mean_baseline")
    per_form = bt.by_form().set_index("form")
    assert per_form.loc["mean_baseline", "mae"] > per_form.loc["exponential", "mae"]
    assert np.isnan(per_form.loc["mean_baseline", "coverage"]) and per_form.loc["huber_exponential", "coverage"] >= 0
    with pytest.raises(SelectionError, match="did you mean 'exponential'"):
        backtest(lawful, "exponentail", scheme="holdout")


def test_tasks_left_out_are_logged(caplog):
    import logging

    tb = synthetic_testbed({"a": exponential_accuracy, "b": exponential_accuracy}, seed=2)
    scores = tb.scores[tb.scores["task"] != "b"]
    extra = tb.scores[tb.scores["task"] == "b"].assign(metric="other")
    from scalecheck import Testbed

    tb2 = Testbed.build(tb.models, pd.concat([scores, extra]), None)
    with caplog.at_level(logging.INFO, logger="scalecheck"):
        bt = backtest(tb2, scheme="leave_largest_out", metric="accuracy")
    assert set(bt.frame()["task"]) == {"a"}
    assert any("left out 1 task" in r.getMessage() and "b" in r.getMessage() for r in caplog.records)
