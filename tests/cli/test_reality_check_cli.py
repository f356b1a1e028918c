"""`scalecheck reality-check`: the main job from the command line."""

import subprocess
import sys

import pandas as pd

from scalecheck.cli import main


def test_reality_check_writes_the_report(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reality-check", "--tasks", "hellaswag", "mmlu", "--output", str(out)]) == 0
    printed = capsys.readouterr()
    assert "share of predictable tasks" in printed.out and "hellaswag" in printed.out
    df = pd.read_csv(out / "verdicts.csv")
    assert sorted(df["scope"].unique()) == ["all", "c4_original", "rpj", "rw_original"]
    assert {"task", "scope", "category", "confidence", "n_models"} <= set(df.columns)
    assert (out / "report.html").stat().st_size > 10_000
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["hellaswag.png", "mmlu.png"]


def test_reality_check_pooled_only_on_an_imported_file(tmp_path, builtin_testbed):
    f = tmp_path / "tb.parquet"
    builtin_testbed.select(tasks=["piqa"]).to_parquet(f)
    out = tmp_path / "rep"
    assert main(["reality-check", str(f), "--by", "none", "--x", "params", "-o", str(out)]) == 0
    df = pd.read_csv(out / "verdicts.csv")
    assert list(df["scope"]) == ["all"] and df.loc[0, "task"] == "piqa"


def test_bad_x_is_one_line_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "reality-check", "--x", "nope", "-o",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown x" in r.stderr and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr


def test_help_teaches():
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "reality-check", "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "examples:" in r.stdout and "breakthrough" in r.stdout


def test_testbed_by_built_in_name_and_default_x_without_c4_val(tmp_path, builtin_testbed, capsys):
    # TESTBED may be a built-in name; and a file without c4_val uses its own first loss (bug 2).
    out = tmp_path / "rep"
    assert main(["reality-check", "gadre2024", "--tasks", "copa", "--by", "none", "-o", str(out)]) == 0
    from scalecheck import Testbed

    tb = builtin_testbed.select(tasks=["copa"])
    f = tmp_path / "no_c4.parquet"
    Testbed.build(tb.models.drop(columns="loss_c4_val"), tb.scores, tb.tasks, "no-c4").to_parquet(f)
    assert main(["reality-check", str(f), "--by", "none", "-o", str(out)]) == 0
    assert pd.read_csv(out / "verdicts.csv")["task"].tolist() == ["copa"]
    capsys.readouterr()
    assert main(["reality-check", "gadre2042", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "gadre2042" in err and "did you mean 'gadre2024'" in err and len(err.strip().splitlines()) == 1


def test_every_analysis_command_takes_the_shared_options():
    from scalecheck.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    shared = {"--x", "--by", "--tasks", "--checkpoints", "--shots", "--variant", "--metric", "--seed", "--output"}
    for name in ("reality-check", "backtest", "sensitivity"):
        p = sub.choices[name]
        flags = {s for a in p._actions for s in a.option_strings}
        assert shared <= flags, (name, shared - flags)
        x = next(a for a in p._actions if "--x" in a.option_strings)
        assert x.default is None  # every command: the testbed's default_x
        assert "--level" in flags or "--level" in (p.epilog or ""), name  # or the help says why not


def test_cli_names_match_the_library():
    from scalecheck.backtest import SCHEMES
    from scalecheck.cli import backtest as cli_backtest
    from scalecheck.cli import sensitivity as cli_sensitivity
    from scalecheck.laws import FORMS
    from scalecheck.sensitivity import FACTORS

    assert tuple(cli_backtest.SCHEMES) == tuple(SCHEMES)
    assert tuple(cli_backtest.FORMS) == tuple(sorted(FORMS))
    assert tuple(cli_sensitivity.FACTORS) == tuple(FACTORS)
