"""Every executor from the command line, as a user runs it: ``scalecheck evaluate`` in a fresh process with no Ray
started beforehand.

- ``--executor local``: the reference.
- ``--executor ray`` without ``--address``: the command starts a local cluster of its own, and stops it.
- ``--executor ray --address``: a real two-node cluster the test starts itself (Ray's multi-node harness,
  ``ray.cluster_utils.Cluster``: a head and a worker node, each with its own raylet and object store, one CPU each,
  on loopback); one model's actor runs on each node. Then again with the worker node killed mid-run: its model's
  work is redone on the head node, and nothing is lost or scored twice.

Every Ray run's outputs are byte-identical to the local run's. Each test's Ray lives in a temporary folder of its
own (``RAY_TMPDIR``), so that "every Ray process is gone at the end" is checked on that run's processes alone.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from tinymodels import build_model, task_rows, write_task

SRC = str(Path(__file__).resolve().parents[2] / "src")
N = 60  # task rows; two models at 2 shots: 240 records in all
CHUNK = 2


def _env(ray_tmp: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_ADDRESS")}
    env.update({"PYTHONPATH": os.pathsep.join([SRC] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                       if p and p != SRC]),
                "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "RAY_AUTH_MODE": "disabled",
                # Ray's defaults size the object store from the machine's memory; payloads here are a few floats.
                "RAY_DEFAULT_OBJECT_STORE_MEMORY_PROPORTION": "0.02"})
    if ray_tmp is not None:
        env["RAY_TMPDIR"] = str(ray_tmp)
    return env


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = tmp_path_factory.mktemp("cliexec")
    task = write_task(root / "toy_classification.jsonl", task_rows(N, 11))
    models = {a: build_model(root / a, a, seed=i, hidden=64, layers=3) for i, a in enumerate(("gpt2", "neox"))}
    ladder = root / "ladder.yaml"
    ladder.write_text("family: toy\nmodels:\n" + "".join(
        f"  - name: {a}\n    path: {p}\n    params: {(i + 1) * 1e5}\n" for i, (a, p) in enumerate(models.items())))
    local = root / "local"
    res = subprocess.run(_cli(ladder, task, local, "--executor", "local"), env=_env(), capture_output=True,
                         text=True, timeout=180)
    return ladder, task, local, res


def _cli(ladder, task, out, *extra) -> list[str]:
    return [sys.executable, "-m", "scalecheck.cli", "evaluate", "--ladder", str(ladder), "--task", str(task),
            "--shots", "2", "--chunk", str(CHUNK), "--no-progress", "-o", str(out), *extra]


def _files(out: Path) -> dict:
    """Every output but the store and timing.json (seconds, pids, the executor's name)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "timing.json" and not p.name.startswith("results.sqlite")}


def _store(out: Path) -> list:
    with sqlite3.connect(out / "results.sqlite") as con:
        return con.execute("SELECT model_key, task_hash, setting, example, record FROM results "
                           "ORDER BY model_key, task_hash, setting, example").fetchall()


def _scored_now(out: Path) -> int:
    return sum(m["examples_scored"] for m in json.loads((out / "timing.json").read_text())["models"].values())


def _ray_processes(ray_tmp: Path) -> list:
    """Live processes of a Ray that keeps its files under ``ray_tmp`` (raylet, GCS, workers, ...)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(str(ray_tmp) in part for part in p.info["cmdline"] or ()):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _gone(ray_tmp: Path, wait: float = 20.0) -> list:
    deadline = time.monotonic() + wait
    while (left := _ray_processes(ray_tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [" ".join(p.cmdline()[:2]) for p in left if p.is_running()]


@pytest.fixture
def ray_tmp():
    # Short: Ray's socket paths live under it and a Unix socket path is limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="sc-ray-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_local_executor_from_the_command_line(plan):
    ladder, task, local, res = plan
    assert res.returncode == 0, res.stderr
    assert len(_store(local)) == 2 * N and _scored_now(local) == 2 * N
    assert set(_files(local)) == {"summary.csv", "scores.csv", "run.json", "gpt2/toy.2shot.jsonl",
                                  "neox/toy.2shot.jsonl"}


def test_ray_without_an_address_starts_and_stops_its_own_cluster(plan, tmp_path, ray_tmp):
    ladder, task, local, _ = plan
    out = tmp_path / "ray"
    res = subprocess.run(_cli(ladder, task, out, "--executor", "ray"), env=_env(ray_tmp), capture_output=True,
                         text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    assert _files(out) == _files(local) and _store(out) == _store(local)
    timing = json.loads((out / "timing.json").read_text())
    assert timing["executor"] == "ray" and timing["address"] is None and timing["restarts"] == {}
    assert (ray_tmp / "ray").is_dir()  # the run's Ray lived here ...
    assert _gone(ray_tmp) == []  # ... and the command stopped every process of it


@pytest.fixture
def two_nodes(ray_tmp, monkeypatch):
    """A head and a worker node on this machine (loopback, one CPU each), whose workers import this checkout."""
    from ray.cluster_utils import Cluster

    for k, v in _env(ray_tmp).items():
        monkeypatch.setenv(k, v)
    # Node failures noticed in about a second (the defaults take several).
    config = {"health_check_period_ms": 300, "health_check_failure_threshold": 3, "health_check_timeout_ms": 300}
    node = {"num_cpus": 1, "object_store_memory": 80 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False,
                                                            "_system_config": config})
    worker = cluster.add_node(**node)
    try:
        cluster.wait_for_nodes()
        yield cluster, worker, ray_tmp
    finally:
        cluster.shutdown()
        monkeypatch.undo()
        assert _gone(ray_tmp) == []  # `ray stop`: nothing of the cluster is left running


def test_ray_on_a_two_node_cluster_then_with_a_worker_node_killed_mid_run(plan, tmp_path, two_nodes):
    ladder, task, local, _ = plan
    cluster, worker, ray_tmp = two_nodes
    env = _env(ray_tmp)

    # 1. Both nodes score, one model each; the results are the local run's, byte for byte.
    out = tmp_path / "cluster"
    res = subprocess.run(_cli(ladder, task, out, "--executor", "ray", "--address", cluster.address), env=env,
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    assert _files(out) == _files(local) and _store(out) == _store(local)
    timing = json.loads((out / "timing.json").read_text())
    assert timing["address"] == cluster.address and timing["restarts"] == {}
    nodes = {p["node"] for p in timing["placements"].values()}
    assert len(nodes) == 2 and worker.node_id in nodes

    # 2. The worker node dies (its raylet, object store and actor killed) while its model is scoring.
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(ladder, task, out, "--executor", "ray", "--address", cluster.address), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = out / "results.sqlite"
    deadline = time.monotonic() + 240
    counts: dict[str, int] = {}
    while proc.poll() is None and time.monotonic() < deadline:
        counts = _progress(db)
        # A model scoring and no model finished: whichever model the worker node holds is then unfinished (scoring,
        # or still loading) when the node dies, so it must be relaunched once. (Waiting for both to score failed
        # under load: one model often scores all its rows before the other has loaded; with a total count alone,
        # the worker's model could finish first and its node die with nothing left to redo.)
        if any(CHUNK <= c <= N - 4 * CHUNK for c in counts.values()) and all(c < N for c in counts.values()):
            break
        time.sleep(0.01)
    cluster.remove_node(worker, allow_graceful=False)
    stdout, stderr = proc.communicate(timeout=180)
    assert counts and all(c < N for c in counts.values()), f"the kill should land mid-run ({counts})"
    assert proc.returncode == 0, stderr[-3000:]
    timing = json.loads((out / "timing.json").read_text())
    assert list(timing["restarts"].values()) == [1], timing["restarts"]
    # Nothing lost, nothing scored twice: every record written once (the store's key would hide a second write;
    # the count of records written in this run would not), and the outputs are the local run's.
    assert _scored_now(out) == 2 * N
    assert _files(out) == _files(local) and _store(out) == _store(local)
    # Where the restarted model ran afterwards is not asserted: a worker killed after delivering its last chunk
    # (the other model still scoring) counts as a restart with nothing left to relaunch, so its placement stays
    # the dead node's (seen once in CI). The store checks above are what the kill must not break.


def _progress(db: Path) -> dict[str, int]:
    """Records committed so far per model (those that have committed any) of a running evaluation's store."""
    try:
        with sqlite3.connect(db, timeout=0.05) as con:
            return dict(con.execute("SELECT model_key, count(*) FROM results GROUP BY model_key").fetchall())
    except sqlite3.Error:
        return {}
