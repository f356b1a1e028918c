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
    overview = pd.read_csv(out / "inverse_scaling_overview.csv").set_index(["task", "metric"])
    assert overview.loc[("memo_trap", "acc"), "over_scale"] == "inverse*"
    assert overview.loc[("memo_trap", "acc"), "decline_from"] == "smallest to largest"
    assert (out / "inverse_scaling.html").stat().st_size > 10_000
    # Every metric the source reports is analysed (the harness's acc and acc_norm), each with its figures.
    assert {p.name for p in (out / "figures").glob("*.png")} == {
        f"{task}-{metric}{kind}.png" for task in ("memo_trap", "neqa") for metric in ("acc", "acc_norm")
        for kind in ("", "_heatmap")}


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
    # An alpha out of (0, 1) was a "math domain error" traceback, and an unknown metric beside a known one was dropped.
    for args in (["--tasks", "nope"], [str(flat)], ["--alpha", "-0.1"], ["--metric", "acc,nope"]):
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


def test_evaluate_output_with_loss_and_two_shot_counts(tmp_path):
    # The long format `scalecheck evaluate` writes (scores.csv), for a ladder without token counts.
    import numpy as np

    from scalecheck.inverse_scaling.synthetic import draw_ladder

    tb = draw_ladder(["inverse"], seed=4, n_steps=1)
    m = tb.models.set_index("model")
    rows = []
    for r in tb.scores.itertuples():
        for shots, acc in ((0, r.value), (3, min(1.0, 1.25 - r.value))):
            meta = {"model": r.model, "task": "memo-trap", "shots": shots, "variant": "", "n_examples": 1000,
                    "source": "evaluate", "family": "sim", "size": m.loc[r.model, "size"],
                    "params": m.loc[r.model, "params"], "task_type": "multiple choice"}
            rows.append({**meta, "metric": "accuracy", "value": acc, "stderr": np.sqrt(acc * (1 - acc) / 999),
                         "chance": 0.5, "higher_is_better": True})
            rows.append({**meta, "metric": "loss", "value": -np.log(max(acc, 0.01)), "stderr": 0.01,
                         "chance": np.log(2), "higher_is_better": False})
    out = tmp_path / "eval"
    out.mkdir()
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    assert main(["import", "evaluate", str(out), "-o", str(tmp_path / "e.parquet")]) == 0
    assert main(["inverse-scaling", str(tmp_path / "e.parquet"), "-o", str(tmp_path / "rep")]) == 0
    tests = pd.read_csv(tmp_path / "rep" / "inverse_scaling.csv")
    assert set(tests["x"]) == {"params"}  # no tokens, so no FLOPs: parameters are the scale axis
    assert {(m, s) for m, s in zip(tests["metric"], tests["shots"], strict=True)} == {
        ("accuracy", 0), ("accuracy", 3), ("loss", 0), ("loss", 3)}
    t = tests.set_index(["metric", "shots"])
    assert t.loc[("accuracy", 0), "term"] == "inverse" and t.loc[("loss", 0), "term"] == "inverse"
    demo = pd.read_csv(tmp_path / "rep" / "inverse_scaling_demonstrations.csv")
    assert demo.set_index("metric").loc["accuracy", "turned_around"]
    html = (tmp_path / "rep" / "inverse_scaling.html").read_text()
    assert "Loss and accuracy side by side" in html and "few-shot" in html
