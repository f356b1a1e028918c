import pandas as pd

from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.cli import main
from scalecheck.report.sensitivity import write_sensitivity_report
from scalecheck.sensitivity import sensitivity


def test_sensitivity_command_on_the_builtin_testbed(tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(["sensitivity", "--tasks", "hellaswag", "piqa", "copa", "-o", str(out)])
    assert rc == 0
    v = pd.read_csv(out / "sensitivity_verdicts.csv")
    # baseline + 7 other validation sets + 3 corpora, for each of 3 tasks
    assert len(v) == 3 * (1 + 7 + 3)
    assert set(v["factor"]) == {"baseline", "x", "corpus"}
    ranks = pd.read_csv(out / "sensitivity_corpus_ranks.csv")
    assert len(ranks) == 3 * 8 * 3  # tasks x validation sets x corpus pairs
    s = pd.read_csv(out / "sensitivity_summary.csv").iloc[0]
    assert s["n_tasks"] == 3 and s["x_tasks_tested"] == 3
    html = (out / "sensitivity.html").read_text()
    assert "Sensitivity: Validation set used as x" in html and "data:image/png;base64," in html
    assert "tasks change verdict" in capsys.readouterr().out


def test_sensitivity_command_bad_factor_and_x(tmp_path, capsys):
    rc = main(["sensitivity", "--x", "nope", "-o", str(tmp_path)])
    assert rc == 2 and "nope" in capsys.readouterr().err


def test_sensitivity_report_escapes(tmp_path):
    tb = synthetic_testbed({"<b>bold</b>": exponential_accuracy}, corpora=("<i>a</i>", "b"), seed=2,
                           extra_losses={"other": lambda c4, corpus: c4 + 0.1})
    files = write_sensitivity_report(sensitivity(tb), tmp_path)
    html = files["html"].read_text()
    assert "<b>bold</b>" not in html and "<i>a</i>" not in html


def test_sensitivity_command_by_none_pools_and_a_typo_is_an_error(tmp_path, capsys):
    # Bug 3 from the command line: `--by none` pools (no corpus rows), `--by corpu` is a one-line error.
    out = tmp_path / "s"
    assert main(["sensitivity", "--tasks", "copa", "--by", "none", "--factors", "corpus", "x", "-o", str(out)]) == 0
    v = pd.read_csv(out / "sensitivity_verdicts.csv")
    assert "corpus" not in set(v["factor"]) and len(v) == 8  # baseline + 7 other validation sets
    capsys.readouterr()
    assert main(["sensitivity", "--tasks", "copa", "--by", "corpu", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "corpu" in err and "did you mean 'corpus'" in err and len(err.strip().splitlines()) == 1
