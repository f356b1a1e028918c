import pandas as pd

from scalecheck.backtest import PREDICTION_COLUMNS, backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.cli import main
from scalecheck.report.backtest import write_backtest_report


def test_backtest_command_writes_csv_and_report(tmp_path, capsys):
    out = tmp_path / "bt"
    rc = main(["backtest", "--tasks", "hellaswag", "arc_easy", "--scheme", "holdout", "--by", "corpus",
               "--n-boot", "0", "-o", str(out)])
    assert rc == 0
    frame = pd.read_csv(out / "backtest.csv")
    assert list(frame.columns) == PREDICTION_COLUMNS
    assert set(frame["task"]) == {"hellaswag", "arc_easy"}
    assert set(frame["scope"]) == {"c4_original", "rpj", "rw_original"}
    assert len(frame) == 2 * 9  # two tasks x the nine declared 1.4B/6.9B runs
    summary = pd.read_csv(out / "backtest_summary.csv")
    assert {"task", "scope", "form", "mae", "bias", "coverage"} <= set(summary.columns)
    html = (out / "backtest.html").read_text()
    assert "Backtest: will the law extrapolate?" in html and "data:image/png;base64," in html
    out_text = capsys.readouterr().out
    assert "auto" in out_text and "inner backtest" in out_text


def test_backtest_command_errors_are_one_line(tmp_path, capsys):
    rc = main(["backtest", "--scheme", "holdout", "--holdout", str(tmp_path / "missing.yaml"), "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "missing.yaml" in err and len(err.strip().splitlines()) == 1
    rc = main(["backtest", "--x", "no_such_loss", "-o", str(tmp_path)])
    assert rc == 2 and "no_such_loss" in capsys.readouterr().err


def test_report_escapes_task_names(tmp_path):
    tb = synthetic_testbed({"<script>alert(1)</script>": exponential_accuracy}, seed=1)
    files = write_backtest_report(backtest(tb, scheme="expanding", n_boot=0), tmp_path)
    html = files["html"].read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_figure_handles_predictions_without_an_interval():
    from scalecheck.report.backtest import predicted_vs_actual_png

    frame = pd.DataFrame({"actual": [0.3, 0.5, 0.7], "predicted": [0.32, 0.45, 0.71], "lo": [0.2, float("nan"), 0.6],
                          "hi": [0.4, float("nan"), 0.8], "covered": pd.array([True, pd.NA, True], dtype="boolean"),
                          "usable": [True, True, True]})
    png = predicted_vs_actual_png(frame, "t")
    assert png.startswith(b"\x89PNG")


def test_help_teaches(capsys):
    import pytest

    for command in ("backtest", "sensitivity"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "examples:" in text and f"scalecheck {command}" in text


def test_groups_flag_names_the_laws_groupings():
    from scalecheck.cli import backtest as cli_backtest
    from scalecheck.laws.groups import GROUPINGS

    assert tuple(cli_backtest.GROUPINGS) == GROUPINGS


def test_auto_form_candidates_named_in_the_help_are_the_laws():
    from scalecheck.cli import backtest as cli_backtest
    from scalecheck.laws.select import DEFAULT_CANDIDATES

    assert tuple(cli_backtest.AUTO_CANDIDATES) == DEFAULT_CANDIDATES
