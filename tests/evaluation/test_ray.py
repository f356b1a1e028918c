"""The Ray executor on a local cluster (2 CPUs, 4 logical GPUs, one per test session): byte-identical to the
local executor, GPUs assigned per actor, a killed actor restarted with nothing lost or duplicated, and an
infeasible request refused in one line before anything is submitted."""

import json
import os
import sqlite3

import pytest
from tinymodels import RAY_GPUS, build_model, task_rows, write_task

from scalecheck.cli import main
from scalecheck.evaluation import Evaluation, Setting, resolve_tasks
from scalecheck.evaluation.executors.ray import RayExecutor
from scalecheck.sources.ladder_file import read_ladder

SETTINGS = [Setting(0), Setting(1)]
CHUNK = 4


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = tmp_path_factory.mktemp("rayplan")
    tasks = root / "tasks"
    tasks.mkdir()
    write_task(tasks / "gamma_classification.jsonl", task_rows(20, 7))
    write_task(tasks / "delta_sequence-probability.jsonl", task_rows(12, 8, "sequence_prob"))
    # Two models, so that both actors start at once on the 2-CPU cluster (a worker's start, importing torch, is
    # most of these tests' time).
    models = {a: build_model(root / a, a, seed=i) for i, a in enumerate(("gpt2", "llama"))}
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


def _store_rows(out):
    with sqlite3.connect(out / "results.sqlite") as con:
        return con.execute("SELECT model_key, task_hash, setting, example, record FROM results "
                           "ORDER BY model_key, task_hash, setting, example").fetchall()


def _run(plan, out, executor, progress=None):
    ladder, tasks, _ = plan
    return Evaluation.run(read_ladder(ladder), resolve_tasks([str(tasks)]), SETTINGS, output=out, chunk=CHUNK,
                          executor=executor, progress=progress)


def test_ray_results_are_byte_identical_and_gpus_assigned_per_actor(ray_cluster, plan, tmp_path):
    ladder, tasks, reference = plan
    ex = RayExecutor()
    ev = _run(plan, tmp_path, ex)
    assert _files(tmp_path) == _files(reference) and len(_files(reference)) == 2 * 4 + 3
    assert _store_rows(tmp_path) == _store_rows(reference)
    assert len(_store_rows(tmp_path)) == 2 * 2 * (20 + 12)
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["executor"] == "ray" and timing["restarts"] == {}
    # One actor (process) per model, none of them the driver.
    pids = {p["pid"] for p in ev.extra["placements"].values()}
    assert len(pids) == 2 and os.getpid() not in pids
    # The ladder asks 2 GPUs for llama and 1 for gpt2 (the models run on the CPU; Ray still assigns them):
    # both ran at once, on distinct devices.
    devices = {m: p["cuda_visible_devices"] for m, p in ex.placements.items()}
    assert len(devices["llama"].split(",")) == 2 and len(devices["gpt2"].split(",")) == 1
    ids = [int(d) for v in devices.values() for d in v.split(",")]
    assert len(set(ids)) == 3 and all(0 <= d < RAY_GPUS for d in ids)


def test_a_cpu_model_waiting_for_a_cpu_starts_its_actor_ahead_and_scores_identically(ray_cluster, plan, tmp_path):
    ladder, tasks, reference = plan
    # 1.5 CPUs each (one torch thread) on the 2-CPU cluster: one model scores at a time, and the next one's actor
    # starts (imports torch) while the first scores, then loads and scores only once the first is done.
    ex = RayExecutor(cpus_per_model=1.5, gpus_per_model=0)
    ev = _run(plan, tmp_path, ex)
    assert _files(tmp_path) == _files(reference) and _store_rows(tmp_path) == _store_rows(reference)
    first, second = sorted(ev.extra["placements"], key=lambda m: ev.extra["placements"][m]["loaded_at_s"])
    assert ex.started_ahead == [second]
    assert ev.extra["placements"][second]["loaded_at_s"] >= ev.extra["placements"][first]["done_at_s"]


def test_gpus_per_model_from_the_ladder_or_the_size_and_memory(plan):
    ladder, _, _ = plan
    from scalecheck.evaluation.executors import Job
    from scalecheck.evaluation.models import ModelSpec
    from scalecheck.sources.ladder_file import LadderModel

    def job(params=None, gpus=None, device="cuda", dtype="bfloat16"):
        return Job(0, LadderModel(name="m", id="m", params=params, gpus=gpus),
                   ModelSpec("m", dtype=dtype, device=device, gpus=gpus), ())

    ex = RayExecutor(gpu_memory=80)
    memory = ex._measure_gpu_memory  # given: never asks the cluster
    assert ex.gpus_for(job(7e9), memory) == 1  # 7B in bfloat16: 18 GB with the overhead
    assert ex.gpus_for(job(70e9), memory) == 3  # 70B: 182 GB over 80 GiB GPUs
    assert ex.gpus_for(job(70e9, gpus=4), memory) == 4  # the ladder's word wins
    assert ex.gpus_for(job(70e9, device="cpu"), memory) == 0
    assert ex.gpus_for(job(None), memory) == 1  # size unknown: one GPU
    assert RayExecutor(gpus_per_model=2).gpus_for(job(7e9), memory) == 2


class KillOnce:
    """A progress callback that kills a model's actor when its first chunk arrives (the driver has written that
    chunk by then)."""

    def __init__(self, executor):
        self.executor, self.killed = executor, None

    def __call__(self, done, total, what):
        model = what.split(" · ")[0]
        if self.killed is None and model in self.executor.actors:
            import ray

            ray.kill(self.executor.actors[model])
            self.killed = model


def test_an_actor_killed_mid_run_is_restarted_and_nothing_is_lost_or_duplicated(ray_cluster, plan, tmp_path):
    ladder, tasks, reference = plan
    ex = RayExecutor(backlog=1)  # the worker runs at most one chunk ahead: the kill lands mid-run
    progress = KillOnce(ex)
    ev = _run(plan, tmp_path, ex, progress)
    assert progress.killed is not None and ex.restarts == {progress.killed: 1}
    assert _files(tmp_path) == _files(reference) and _store_rows(tmp_path) == _store_rows(reference)
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
    assert code == 2 and "'gpt2' needs 1 GPU(s) and 3 CPU(s)" in err and "\n" not in err
    with sqlite3.connect(tmp_path / "o" / "results.sqlite") as con:
        assert con.execute("SELECT count(*) FROM results").fetchone()[0] == 0
