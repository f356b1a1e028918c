"""Flags and flag combinations that would be ignored or give an empty result are refused in one line, exit 2
(issue 17, item 6)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecheck.cli import main


def _one_line(capsys, *needles):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_a_misspelt_metric_in_a_list_is_refused_not_dropped(tmp_path, capsys):
    assert main(["inverse-scaling", "--tasks", "memo_trap", "--metric", "acc,nope", "-o", str(tmp_path / "o")]) == 2
    _one_line(capsys, "unknown metric 'nope'", "acc_norm")
    assert main(["reality-check", "--metric", "acuracy", "-o", str(tmp_path / "o")]) == 2
    _one_line(capsys, "unknown metric 'acuracy'", "did you mean 'accuracy'")


def test_holdout_file_without_the_holdout_scheme(tmp_path, capsys):
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text("models:\n  - name: a\n    holdout: true\n")
    assert main(["backtest", "--holdout", str(ladder), "-o", str(tmp_path / "o")]) == 2
    _one_line(capsys, "--holdout", "--scheme holdout", "ignored")


def test_holdout_scheme_without_holdouts(tmp_path, capsys, builtin_testbed):
    f = tmp_path / "no_holdouts.parquet"
    tb = builtin_testbed.select(tasks=["copa"])
    from scalecheck import Testbed

    Testbed.build(tb.models.assign(holdout=False), tb.scores, tb.tasks, "plain").to_parquet(f)
    assert main(["backtest", str(f), "--scheme", "holdout", "-o", str(tmp_path / "o")]) == 2
    _one_line(capsys, "declares no hold-out models", "--holdout LADDER")
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_corpus_factor_without_a_corpus_column(tmp_path, capsys):
    assert main(["sensitivity", "--by", "none", "--factors", "corpus", "-o", str(tmp_path / "o")]) == 2
    _one_line(capsys, "--factors corpus", "--by none")
    # With another factor the run goes on, and says what it skipped.
    assert main(["sensitivity", "--tasks", "copa", "--by", "none", "--factors", "corpus", "x", "--xs", "c4_val",
                 "de-en", "-o", str(tmp_path / "o")]) == 0
    assert "the corpus factor is skipped" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["backtest", "--n-boot", "1e8"], ["backtest", "--n-boot", "-5"],
                                  ["inverse-scaling", "--alpha", "2"], ["sensitivity", "--level", "0"]])
def test_out_of_range_numbers(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "-o", str(tmp_path / "o")])
    assert stop.value.code == 2
    _one_line(capsys, argv[1])


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=8)))
def test_the_alpha_parser_takes_exactly_the_open_unit_interval(text):
    import argparse
    import math

    from scalecheck.cli._common import ALPHA

    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None and math.isfinite(value) and 0 < value < 1:
        assert ALPHA(text) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            ALPHA(text)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=-10**9, max_value=10**9))
def test_the_n_boot_parser_takes_a_sane_range(n):
    import argparse

    from scalecheck.cli._common import N_BOOT, N_BOOT_MAX

    if 0 <= n <= N_BOOT_MAX:
        assert N_BOOT(str(n)) == n
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            N_BOOT(str(n))
