"""The Ray executor on a local cluster (2 CPUs, 4 logical GPUs, one per test session): byte-identical to the
local executor, GPUs assigned per actor, a killed actor restarted with nothing lost or duplicated, and an
infeasible request refused in one line before anything is submitted."""

import json
import sqlite3

import pytest
from tinymodels import RAY_GPUS, build_model, task_rows, write_task

from scalecheck.cli import main
from scalecheck.evaluation import Evaluation, PlanProgress, Setting, resolve_tasks
from scalecheck.evaluation.ray_executor import RayExecutor
from scalecheck.sources.ladder import read_ladder

SETTINGS = [Setting(0), Setting(1)]
CHUNK = 4


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = tmp_path_factory.mktemp("rayplan")
    tasks = root / "tasks"
    tasks.mkdir()
    write_task(tasks / "gamma_classification.jsonl", task_rows(20, 7))
    write_task(tasks / "delta_sequence-probability.jsonl", task_rows(12, 8, "sequence_prob"))
    models = {a: build_model(root / a, a, seed=i) for i, a in enumerate(("gpt2", "neox", "llama"))}
    ladder = root / "ladder.yaml"
    ladder.write_text("family: toy\nmodels:\n" + "".join(
        f"  - name: {a}\n    path: {p}\n    params: {(i + 1) * 1e5}\n    gpus: {2 if a == 'llama' else 1}\n"
        for i, (a, p) in enumerate(models.items())))
    reference = root / "local"
    Evaluation.run(read_ladder(ladder), resolve_tasks([str(tasks)]), SETTINGS, output=reference, chunk=CHUNK)
    return ladder, tasks, reference


def _files(out):
    """Every output file but the store and the timings (which hold seconds, pids and the executor's name)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in ("timing.json",) and not p.name.startswith("results.sqlite")}


def _storetask_rows(out):
    with sqlite3.connect(out / "results.sqlite") as con:
        return con.execute("SELECT model_key, task_hash, setting, example, record FROM results "
                           "ORDER BY model_key, task_hash, setting, example").fetchall()


def _run(plan, out, executor, progress=None):
    ladder, tasks, _ = plan
    return Evaluation.run(read_ladder(ladder), resolve_tasks([str(tasks)]), SETTINGS, output=out, chunk=CHUNK,
                          executor=executor, progress=progress)


def test_ray_results_are_byte_identical_to_the_local_executor(ray_cluster, plan, tmp_path):
    ladder, tasks, reference = plan
    ex = RayExecutor()
    ev = _run(plan, tmp_path, ex)
    assert _files(tmp_path) == _files(reference) and len(_files(reference)) == 3 * 4 + 3
    assert _storetask_rows(tmp_path) == _storetask_rows(reference)
    assert len(_storetask_rows(tmp_path)) == 3 * 2 * (20 + 12)
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["executor"] == "ray" and timing["restarts"] == {}
    # One actor (process) per model, none of them the driver.
    pids = {p["pid"] for p in ev.extra["placements"].values()}
    assert len(pids) == 3 and __import__("os").getpid() not in pids


def test_gpus_are_assigned_per_actor(ray_cluster, plan, tmp_path):
    ex = RayExecutor()
    _run(plan, tmp_path, ex)
    devices = {m: p["cuda_visible_devices"] for m, p in ex.placements.items()}
    # The ladder asks 2 GPUs for llama and 1 for the others (the models run on the CPU; Ray still assigns).
    assert sorted(devices) == ["gpt2", "llama", "neox"]
    assert len(devices["llama"].split(",")) == 2 and len(devices["gpt2"].split(",")) == 1
    ids = [int(d) for v in devices.values() for d in v.split(",")]
    assert all(0 <= d < RAY_GPUS for d in ids)
    # --gpus-per-model overrides the ladder; 0 GPUs: an actor that sees none.
    ex0 = RayExecutor(gpus_per_model=0)
    _run(plan, tmp_path / "cpu", ex0)
    assert {p["cuda_visible_devices"] in (None, "") for p in ex0.placements.values()} == {True}


class KillOnce(PlanProgress):
    """Kills the first model's actor when its first chunk arrives (the driver has written it by then)."""

    def __init__(self, executor):
        self.executor, self.killed = executor, None

    def advance(self, n, description):
        if self.killed is None and self.executor.actors:
            import ray

            model, actor = sorted(self.executor.actors.items())[0]
            ray.kill(actor)
            self.killed = description.split(" · ")[0]


def test_an_actor_killed_mid_run_is_restarted_and_nothing_is_lost_or_duplicated(ray_cluster, plan, tmp_path):
    ladder, tasks, reference = plan
    ex = RayExecutor(backlog=1)  # the worker runs at most one chunk ahead: the kill lands mid-run
    progress = KillOnce(ex)
    ev = _run(plan, tmp_path, ex, progress)
    assert progress.killed is not None and ex.restarts == {progress.killed: 1}
    assert _files(tmp_path) == _files(reference) and _storetask_rows(tmp_path) == _storetask_rows(reference)
    killed = [r for r in ev.results if r.model.name == progress.killed]
    # The restarted actor scored the rest, not everything again: the first chunk came from the dead one.
    assert 0 < sum(r.examples_scored for r in killed) <= 2 * (20 + 12)


def test_an_infeasible_request_is_refused_in_one_line(ray_cluster, plan, tmp_path, capsys):
    ladder, tasks, _ = plan
    big = tmp_path / "big.yaml"
    big.write_text(ladder.read_text().replace("gpus: 2", "gpus: 8"))
    code = main(["evaluate", "--ladder", str(big), "--task", str(tasks), "--executor", "ray", "--no-progress",
                 "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "'llama' needs 8 GPU(s)" in err and "nothing was submitted" in err
    assert "has 4 GPU(s)" in err
    code = main(["evaluate", "--ladder", str(ladder), "--task", str(tasks), "--executor", "ray", "--threads", "3",
                 "--no-progress", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "needs 2 GPU(s) and 3 CPU(s)" in err and "\n" not in err
    with sqlite3.connect(tmp_path / "o" / "results.sqlite") as con:
        assert con.execute("SELECT count(*) FROM results").fetchone()[0] == 0
