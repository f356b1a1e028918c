"""Killed mid-run (SIGKILL), rerun: nothing lost or duplicated, and the output equals an uninterrupted run's."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from tinymodels import WORDS, build_model

import scalecheck
from scalecheck.evaluation import Evaluation, Setting, read_task, results_tables
from scalecheck.sources.ladder_file import LadderModel, read_ladder

N = 120


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import random

    root = tmp_path_factory.mktemp("resume")
    model = build_model(root / "neox", "neox", hidden=64, layers=3)
    rng = random.Random(5)
    rows = [{"prompt": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))) + ":",
             "classes": repr([" " + rng.choice(WORDS) for _ in range(3)]), "answer_index": rng.randrange(3)}
            for _ in range(N)]
    task = root / "toy_classification.jsonl"
    task.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root, model, task


def _cli(model, task, out):
    return [sys.executable, "-m", "scalecheck.cli", "evaluate", "--model", str(model), "--task", str(task),
            "--shots", "2", "--chunk", "2", "--batch-tokens", "512", "--no-progress", "--output", str(out)]


def _rows_in(db) -> int:
    try:
        with sqlite3.connect(db, timeout=0.05) as con:
            return con.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def _outputs(out):
    return {p: (out / p).read_bytes() for p in ("neox/toy.2shot.jsonl", "summary.csv", "scores.csv", "run.json")}


def test_sigkill_then_rerun_equals_an_uninterrupted_run(setup):
    root, model, task = setup
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    full = root / "full"
    subprocess.run(_cli(model, task, full), check=True, env=env, capture_output=True, timeout=300)

    out = root / "killed"
    proc = subprocess.Popen(_cli(model, task, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = out / "results.sqlite"
    deadline = time.monotonic() + 240
    while _rows_in(db) < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _rows_in(db)
    assert 0 < killed_at < N, f"the kill should land mid-run (found {killed_at} rows committed)"
    assert not (out / "summary.csv").exists()

    res = subprocess.run(_cli(model, task, out), env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with sqlite3.connect(db) as con:
        examples = [r[0] for r in con.execute("SELECT example FROM results ORDER BY example")]
    assert examples == list(range(N))  # none lost, none twice
    assert _outputs(out)["neox/toy.2shot.jsonl"].count(b"\n") == N
    # run.json names the output's own paths only through the task file, which both runs share.
    assert _outputs(out) == _outputs(full)


def test_rerun_of_finished_work_loads_nothing(setup, tmp_path):
    root, model, task = setup
    t = read_task(task)
    m = [LadderModel(name="neox", path=model, params=1e5, tokens=1e6, losses={"toy_val": 3.0})]
    first = Evaluation.run(m, t, Setting(shots=1), output=tmp_path, chunk=50)
    assert first.results[0].examples_scored == N and first.results[0].stats is not None
    again = Evaluation.run(m, t, Setting(shots=1), output=tmp_path, chunk=50)
    assert again.results[0].examples_scored == 0 and again.results[0].stats is None  # the model was not loaded
    assert again.results[0].examples == first.results[0].examples
    # Another setting or an edited task file is other work, never served from the store.
    other = Evaluation.run(m, t, Setting(shots=2), output=tmp_path / "two", store=tmp_path / "results.sqlite")
    assert other.results[0].examples_scored == N
    edited = tmp_path / "toy_classification.jsonl"
    edited.write_bytes(task.read_bytes() + b'{"prompt": "x:", "classes": "[\' a\', \' b\']", "answer_index": 0}\n')
    grown = Evaluation.run(m, read_task(edited), Setting(shots=1), output=tmp_path / "edited",
                           store=tmp_path / "results.sqlite")
    assert grown.results[0].examples_scored == N + 1


def test_outputs_join_the_testbed(setup, tmp_path):
    root, model, task = setup
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(f"family: toy\ncorpus: synthetic\nmodels:\n  - name: small\n    path: {model}\n"
                      f"    params: 1.0e5\n    tokens: 2.0e6\n    losses: {{toy_val: 3.1}}\n"
                      f"  - name: big\n    path: {model}\n    params: 4.0e5\n    tokens: 8.0e6\n")
    ev = Evaluation.run(read_ladder(ladder), read_task(task), Setting(), output=tmp_path / "out", chunk=100)
    tables = results_tables(tmp_path / "out")
    s = tables.scores.set_index(["model", "metric"])
    assert set(tables.scores["metric"]) == {"loss", "accuracy", "class_mass"}
    assert s.loc[("small", "accuracy"), "chance"] == pytest.approx(1 / 3)
    assert s.loc[("small", "accuracy"), "n_examples"] == N and bool(s.loc[("small", "loss"), "higher_is_better"]) is False
    acc = ev.results[0].metric("accuracy")
    assert s.loc[("small", "accuracy"), "value"] == pytest.approx(acc.value, rel=1e-15)
    assert s.loc[("small", "accuracy"), "stderr"] == pytest.approx(acc.stderr, rel=1e-15)
    models = tables.models.set_index("model")
    assert models.loc["big", "flops"] == pytest.approx(6 * 4e5 * 8e6) and models.loc["small", "loss_toy_val"] == 3.1
    assert (tables.scores["shots"] == 0).all() and set(tables.tasks["task"]) == {"toy"}
    # The same through the registry, the testbed and the plain importer.
    testbed = scalecheck.load("evaluate", tmp_path / "out")
    series = testbed.series("toy", x="params", metric="accuracy")
    assert list(series.x) == [1e5, 4e5]
    assert scalecheck.load("csv", tmp_path / "out" / "scores.csv").scores.shape == testbed.scores.shape
    assert results_tables(ev).scores.equals(tables.scores)
