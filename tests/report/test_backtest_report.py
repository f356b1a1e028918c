"""The backtest report shows the reliability estimated before the targets beside what then happened (issue 20)."""

import numpy as np

from scalecheck.backtest import backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.report.backtest import reliability_table, write_backtest_report


def _saturating(loss):
    """Rises like the law over the small sizes, then flattens: the law's extrapolation overshoots."""
    return 0.25 + 0.3 / (1 + np.exp(12.0 * (loss - 3.3)))


def test_the_report_lists_each_tasks_reliability_highest_first(tmp_path):
    tb = synthetic_testbed({"good": exponential_accuracy, "bad": _saturating, "<b>odd</b>": exponential_accuracy},
                           seed=3, holdout_sizes=(3e9,))
    bt = backtest(tb, scheme="holdout", forms=["auto"])
    table = reliability_table(bt)
    assert list(table.columns[:5]) == ["task", "scope", "form", "estimated_skill", "reading before the targets"]
    assert len(table) == 3 and table["estimated_skill"].is_monotonic_decreasing
    assert table["reading before the targets"].str.startswith("held in ").all()
    assert {"mae", "coverage", "n_predictions"} <= set(table.columns)
    html = write_backtest_report(bt, tmp_path / "bt").html.read_text()
    assert "How far to trust each extrapolation" in html
    for reading in table["reading before the targets"]:
        assert reading in html
    assert "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>odd</b>" not in html


def test_an_expanding_backtest_keeps_the_split_that_saw_all_but_the_largest_size():
    tb = synthetic_testbed({"good": exponential_accuracy}, seed=1)
    bt = backtest(tb, scheme="expanding", forms=["auto"])
    last = bt.predictions[bt.predictions["k_sizes_fit"] == bt.predictions["k_sizes_fit"].max()]
    table = reliability_table(bt)
    assert len(table) == 1
    assert table["estimated_skill"].iloc[0] == last["estimated_skill"].iloc[0]


def test_fixed_forms_have_no_estimate_and_no_table():
    tb = synthetic_testbed({"good": exponential_accuracy}, seed=1, holdout_sizes=(3e9,))
    assert reliability_table(backtest(tb, scheme="holdout", forms=["exponential"])).empty
