"""Every output path is checked before the work starts, and every error is one line with exit 2 (issue 17, item 3).

Tests run as root, which ignores permission bits, so "unwritable" here is a path under a regular file: that
fails for root too (ENOTDIR).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from scalecheck.cli import main

# Every command that writes, with the arguments it needs to get as far as writing.
WRITING_COMMANDS = {
    "reality-check": ["reality-check", "--tasks", "copa", "--by", "none"],
    "backtest": ["backtest", "--tasks", "copa"],
    "sensitivity": ["sensitivity", "--tasks", "copa"],
    "inverse-scaling": ["inverse-scaling", "--tasks", "memo_trap"],
    "evaluate": ["evaluate", "--model", "no-such-model", "--task", "no-such-task"],
}


@pytest.fixture
def analyses_must_not_run(monkeypatch):
    """The work itself fails loudly: an output error must come before it."""
    def boom(*args, **kwargs):
        raise AssertionError("the analysis ran before the output path was checked")

    import scalecheck.backtest
    import scalecheck.evaluation
    import scalecheck.inverse_scaling
    import scalecheck.sensitivity
    import scalecheck.trends

    for module, name in ((scalecheck.trends, "reality_check"), (scalecheck.backtest, "backtest"),
                         (scalecheck.sensitivity, "sensitivity"), (scalecheck.inverse_scaling, "inverse_scaling"),
                         (scalecheck.evaluation, "resolve_tasks")):
        monkeypatch.setattr(module, name, boom)


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize("command", sorted(WRITING_COMMANDS))
def test_unwritable_output_folder_fails_first_in_one_line(command, tmp_path, capsys, analyses_must_not_run):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "out"  # under a regular file: unwritable even for root
    assert main([*WRITING_COMMANDS[command], "-o", str(out)]) == 2
    _one_line_error(capsys, str(out), "cannot write there")


@pytest.mark.parametrize("command", sorted(WRITING_COMMANDS))
def test_an_existing_file_where_a_folder_is_wanted(command, tmp_path, capsys, analyses_must_not_run):
    existing = tmp_path / "good.csv"
    existing.write_text("model,task,metric,value\n")
    assert main([*WRITING_COMMANDS[command], "-o", str(existing)]) == 2
    _one_line_error(capsys, str(existing), "is a file, not a folder")
    assert existing.read_text() == "model,task,metric,value\n"


def test_import_output_checked_before_reading(tmp_path, capsys, monkeypatch):
    import scalecheck.observations as observations

    monkeypatch.setattr(observations, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read first")))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["import", "gadre2024", "-o", str(blocker / "x.parquet")]) == 2
    _one_line_error(capsys, "cannot write there")
    assert main(["import", "gadre2024", "-o", str(tmp_path)]) == 2  # the reverse: a folder where a file is wanted
    _one_line_error(capsys, "is a folder, not a file")
    assert main(["import", "gadre2024", "-o", str(tmp_path / "x.xlsx")]) == 2  # would be Parquet under .xlsx
    _one_line_error(capsys, "'.xlsx'", ".parquet or .csv")


def test_a_failed_run_leaves_no_empty_output_folder(tmp_path, capsys):
    out = tmp_path / "new" / "deeper"
    assert main(["reality-check", "--tasks", "no-such-task", "-o", str(out)]) == 2
    _one_line_error(capsys, "no-such-task")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("argv, needle", [
    (["inverse-scaling", "--alpha", "-0.1"], "--alpha"),
    (["inverse-scaling", "--alpha", "2"], "--alpha"),
    (["inverse-scaling", "--alpha", "nan"], "--alpha"),
    (["backtest", "--level", "1.5"], "--level"),
    (["backtest", "--n-boot", "-5"], "--n-boot"),
    (["backtest", "--n-boot", "100000000"], "--n-boot"),
    (["reality-check", "--no-such-flag"], "--no-such-flag"),
])
def test_flag_out_of_range_is_one_line_exit_2(argv, needle, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "-o", str(tmp_path / "o")])
    assert stop.value.code == 2
    _one_line_error(capsys, needle)


def test_unexpected_errors_are_one_line_and_v_shows_the_traceback(tmp_path, monkeypatch):
    # An error nobody foresaw, in a subprocess as a user meets it: one line without -v, the traceback with it.
    script = (
        "import sys, scalecheck.trends as t\n"
        "def broken(*a, **k): raise ZeroDivisionError('something deep')\n"
        "t.reality_check = broken\n"
        "from scalecheck.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    base = [sys.executable, "-c", script]
    r = subprocess.run([*base, "reality-check", "--tasks", "copa", "-o", str(tmp_path / "o")], capture_output=True,
                       text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "ZeroDivisionError: something deep" in r.stderr
    assert "Traceback" not in r.stderr and "-v" in r.stderr
    r = subprocess.run([*base, "-v", "reality-check", "--tasks", "copa", "-o", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr
