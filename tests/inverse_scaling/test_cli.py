import subprocess
import sys

import pandas as pd

from scalecheck.cli import main


def test_inverse_scaling_command_writes_the_report(tmp_path, capsys):
    out = tmp_path / "is"
    assert main(["inverse-scaling", "--tasks", "memo_trap", "neqa", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "memo_trap" in text and "inverse*" in text
    tests = pd.read_csv(out / "inverse_scaling.csv")
    assert set(tests["analysis"]) == {"scale", "scale@checkpoint", "training"}
    overview = pd.read_csv(out / "inverse_scaling_overview.csv").set_index("task")
    assert overview.loc["memo_trap", "over_scale"] == "inverse*"
    assert (out / "inverse_scaling.html").stat().st_size > 10_000
    assert {p.name for p in (out / "figures").glob("*.png")} == {
        "memo_trap.png", "memo_trap_heatmap.png", "neqa.png", "neqa_heatmap.png"}


def test_a_built_in_testbed_by_name_in_other_commands(tmp_path, capsys):
    out = tmp_path / "rc"
    assert main(["reality-check", "michaelov2023", "--x", "params", "--by", "none", "--tasks", "memo_trap",
                 "--output", str(out)]) == 0
    v = pd.read_csv(out / "verdicts.csv")
    assert v["n_models"].tolist() == [8]  # the final checkpoints
    assert main(["reality-check", "michaelov2023", "--x", "tokens", "--by", "size", "--checkpoints", "all",
                 "--tasks", "memo_trap", "--output", str(out)]) == 0
    v = pd.read_csv(out / "verdicts.csv").set_index("scope")
    assert len(v) == 9 and v.loc["12b", "n_models"] == 8  # all models, then each size's training curve


def test_bad_requests_exit_2_in_one_line(tmp_path):
    flat = tmp_path / "no_scale.csv"
    flat.write_text("model,task,metric,value\na,t,acc,0.5\nb,t,acc,0.6\n")
    for args in (["--tasks", "nope"], [str(flat)]):
        r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "inverse-scaling", *args, "-o", str(tmp_path)],
                           capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("model,task,metric,value\na,t,acc,oops\n")
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "inverse-scaling", str(bad), "-o", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "line 2" in r.stderr and "value" in r.stderr


def test_the_command_module_imports_nothing_heavy():
    # Other command modules pull in pandas and matplotlib already; this one adds nothing at import time.
    import ast
    from pathlib import Path

    import scalecheck.cli.inverse_scaling as mod

    tree = ast.parse(Path(mod.__file__).read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name.split(".")[0] for n in top for a in n.names} | {(n.module or "").split(".")[0] for n in top
                                                                    if isinstance(n, ast.ImportFrom)}
    assert not names & {"pandas", "scipy", "matplotlib", "statsmodels", "numpy", "rich"}, names
    code = "import sys, scalecheck.cli; scalecheck.cli.build_parser(); print('statsmodels' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr
