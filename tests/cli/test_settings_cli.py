"""A testbed with several settings: the analysis commands print the setting they picked, or refuse in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from scalecheck.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "observations"))
from test_settings import _testbed  # noqa: E402


def test_reality_check_and_backtest_print_the_setting_they_use(tmp_path, capsys):
    f = tmp_path / "two_shots.parquet"
    _testbed({"arc": [(0, "", 8), (5, "", 8)], "crows": [(0, "", 8)]}).to_parquet(f)
    for command in ("reality-check", "backtest"):
        assert main([command, str(f), "--x", "params", "--by", "none", "-o", str(tmp_path / command)]) == 0
        err = capsys.readouterr().err
        assert "shots: 0 (of 0, 5; the setting every task has) - pass --shots to choose" in err, err
    v = pd.read_csv(tmp_path / "reality-check" / "verdicts.csv")
    assert not (v["category"] == "insufficient-data").any()
    assert set(pd.read_csv(tmp_path / "backtest" / "backtest.csv")["task"]) == {"arc", "crows"}


def test_a_tie_is_one_line_naming_the_flag(tmp_path, capsys):
    f = tmp_path / "tie.parquet"
    _testbed({"arc": [(5, "mc", 8), (5, "rc", 8)]}).to_parquet(f)
    assert main(["reality-check", str(f), "--x", "params", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--variant mc or --variant rc" in err
    assert main(["reality-check", str(f), "--x", "params", "--variant", "rc", "-o", str(tmp_path / "o")]) == 0
