"""benchmarks/gpu_check.sh, the GPU readiness check, run here through its CPU dry path (``--device cpu``) on a tiny
model: the script's own logic (reference run, parity, agreement, matmul rate, the checks and the final JSON line)
is what is tested; on a GPU machine the same script runs the real model on CUDA."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tinymodels import build_model, task_rows, write_task

ROOT = Path(__file__).resolve().parents[2]


def _check(tmp_path, *extra):
    model = build_model(tmp_path / "tiny", "llama", seed=6)
    task = write_task(tmp_path / "t_classification.jsonl", task_rows(6, 9))
    env = {**os.environ, "PY": sys.executable, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--device", "cpu", "--model",
                          str(model), "--task", str(task), "--rows", "4", "--shots", "1", "--matmul-size", "64",
                          *extra], env=env, capture_output=True, text=True, timeout=300)
    return res, json.loads(res.stdout.strip().splitlines()[-1])


def test_the_dry_run_compares_every_dtype_with_the_cpu_reference_and_names_a_failed_check(tmp_path):
    # One run (each loads the model once per dtype): a tolerance no run can meet shows the failure path too.
    res, out = _check(tmp_path, "--dtypes", "float32", "float64", "--fp32-tol", "-1")
    assert res.returncode == 1, res.stderr[-2000:]
    assert out["benchmark"] == "gpu_check" and out["device_name"] == "cpu (dry run)"
    assert out["ok"] is False and out["failed"] == ["float32 parity 0 / agreement 1.000"]
    f32, f64 = out["results"]["float32"], out["results"]["float64"]
    assert f32["max_abs_diff"] == 0.0 and f32["agreement"] == 1.0 and f32["examples"] == 4  # the reference itself
    assert 0 < f64["max_abs_diff"] < 1e-3 and f64["agreement"] == 1.0
    assert f32["tokens_per_s"] > 0 and f32["matmul_tflops"] > 0 and 0 < f32["share_of_matmul_rate"]
