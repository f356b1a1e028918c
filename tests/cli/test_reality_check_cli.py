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
