"""scalecheck evaluate vs lm-evaluation-harness: same numbers, less wall time.

Builds a ~25M-parameter GPT-NeoX model locally (a byte-level BPE tokenizer trained on the two tasks' text,
random weights with a wide initialisation so that predictions are far from uniform), then scores the Inverse
Scaling Prize's memo-trap and NeQA files at 0 and 5 shots twice, end to end as subprocesses:

* lm-evaluation-harness (``lm_eval --model hf ... --log_samples``, offline) on a custom task YAML whose
  jsonl holds the prompts exactly as scalecheck builds them (the demonstrations are drawn by scalecheck so
  that both tools see the same text; lm-eval then runs 0-shot on them);
* ``python -m scalecheck.cli evaluate --model DIR --task FILE --shots K``.

It compares every class log-probability (lm-eval's ``resps``) with ours and the predictions row by row, and
prints a final JSON line: the max absolute difference, the prediction agreement, both tools' wall times per
setting and at 5 shots in total, our tokens per second, and our achieved FLOP/s as a fraction of a torch
float32 matrix-multiply rate measured here.

Measured on the 2-core development machine (shared with other jobs), ``--threads 1``, 24 Nov 2026: max
|difference| 1.05e-5, predictions 2472/2472 the same, 5-shot wall time 131 s vs lm-eval's 311 s (2.37x:
memo-trap 2.94x, NeQA 1.53x; NeQA's classes are single tokens, for which lm-eval too runs each prompt once),
achieved 0.81 of the single-thread matmul rate. Timings move with the machine's load; the numbers do not.

Needs the ``bench`` extra (``pip install -e ".[bench]"``: lm-eval). Run:

    .venv/bin/python benchmarks/eval_vs_lm_eval.py [--rows N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import shared_data_dir  # benchmarks/_shared.py

from scalecheck.evaluation import read_task

TASKS = {"memo-trap": "memo-trap_classification.jsonl", "neqa": "neqa_classification.jsonl"}
SHOTS = (0, 5)


def build_model(folder: Path, texts: list[str]) -> int:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

    if (folder / "config.json").is_file():
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8192, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    wrapped.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = GPTNeoXConfig(vocab_size=len(wrapped), hidden_size=512, num_hidden_layers=6, num_attention_heads=8,
                        intermediate_size=2048, max_position_embeddings=2048, bos_token_id=0, eos_token_id=0,
                        initializer_range=0.1)
    model = GPTNeoXForCausalLM(cfg)
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def matmul_rate(n: int = 2048, reps: int = 10) -> float:
    """float32 FLOP/s of torch's matrix multiply on this machine (best of a few timed repeats)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def lm_eval_task(folder: Path, name: str, task, shots: int) -> None:
    """A jsonl of scalecheck's k-shot prompts and an lm-eval task YAML that reads it as 0-shot multiple choice."""
    rows = []
    for ex in task.examples:
        prompt, _ = task.prompts(ex, shots)
        rows.append(json.dumps({"prompt": prompt, "classes": list(ex.classes), "answer_index": ex.answer_index}))
    data = folder / f"{name}.jsonl"
    data.write_text("\n".join(rows) + "\n")
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\ndoc_to_text: prompt\ndoc_to_choice: classes\n"
        "doc_to_target: answer_index\ntarget_delimiter: \"\"\nmetric_list:\n  - metric: acc\n")


def run(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        sys.exit(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-3000:]}")
    return wall


def lm_eval_logprobs(out: Path, name: str) -> dict[int, list[float]]:
    files = glob.glob(str(out / "**" / f"samples_{name}_*.jsonl"), recursive=True)
    if not files:
        sys.exit(f"lm-eval wrote no samples for {name} under {out}")
    got = {}
    for line in Path(sorted(files)[-1]).read_text().splitlines():
        s = json.loads(line)
        got[int(s["doc_id"])] = [float(r[0][0]) for r in s["resps"]]
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=None, help="use only the first N rows of each task (a smoke run)")
    ap.add_argument("--workdir", default=None, help="where the model and outputs go (default: a temp folder)")
    ap.add_argument("--lm-eval-batch-size", default="32")
    ap.add_argument("--threads", type=int, default=None,
                    help="CPU threads for both tools and the matmul rate (OMP_NUM_THREADS); default: torch's choice")
    args = ap.parse_args()
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs lm-evaluation-harness: pip install -e '.[bench]'")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="scalecheck-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = shared_data_dir() / "inverse_scaling"
    tasks = {}
    for name, file in TASKS.items():
        src = data / file
        if args.rows:
            src2 = work / file
            src2.write_text("".join(src.read_text().splitlines(keepends=True)[: args.rows]))
            src = src2
        tasks[name] = (src, read_task(src))
    texts = [ex.prompt + c for _, t in tasks.values() for ex in t.examples for c in ex.classes]
    model = work / "model"
    build_model(model, texts)

    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "HF_DATASETS_CACHE": str(work / "hf_datasets")}
    if args.threads:
        import torch

        env["OMP_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    bindir = Path(sys.executable).parent
    lm_eval_bin = str(bindir / "lm_eval")
    results = {}
    max_diff, agree, rows, naive_tokens, fed_tokens, fwd_seconds, ours_wall_total = 0.0, 0, 0, 0, 0, 0.0, 0.0
    n_nonembed = None
    for shots in SHOTS:
        for name, (src, task) in tasks.items():
            key = f"{name}_{shots}shot"
            tdir = work / "lm_eval_tasks" / key
            tdir.mkdir(parents=True, exist_ok=True)
            lname = f"isp_{name.replace('-', '_')}_{shots}shot"
            lm_eval_task(tdir, lname, task, shots)
            lout = work / "lm_eval_out" / key
            ours_out = work / "ours" / key
            # Fresh outputs: a leftover results store would make our rerun free, and old samples would be read.
            for d in (lout, ours_out):
                shutil.rmtree(d, ignore_errors=True)
            lm_wall = run([lm_eval_bin, "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
                           "--tasks", lname, "--include_path", str(tdir), "--device", "cpu",
                           "--batch_size", args.lm_eval_batch_size, "--log_samples", "--output_path", str(lout)], env)
            ours_wall = run([sys.executable, "-m", "scalecheck.cli", "evaluate", "--model", str(model), "--task",
                             str(src), "--shots", str(shots), "--output", str(ours_out), "--no-progress"], env)
            ref = lm_eval_logprobs(lout, lname)
            ours = [json.loads(x) for x in (ours_out / "model" / "examples.jsonl").read_text().splitlines()]
            d = 0.0
            same = 0
            for r in ours:
                theirs = ref[r["index"]]
                d = max(d, *(abs(a - b) for a, b in zip(r["class_logprobs"], theirs, strict=True)))
                same += max(range(len(theirs)), key=lambda j, t=theirs: (t[j], -j)) == \
                    max(range(len(theirs)), key=lambda j, o=r["class_logprobs"]: (o[j], -j))
            timing = json.loads((ours_out / "timing.json").read_text())["model"]
            st = timing["backend"]
            n_nonembed = timing["params_nonembed"]
            # What a naive scorer feeds the model: every prompt once per class.
            naive = sum(len(q) for q in _naive_lengths(model, task, shots))
            results[key] = {"rows": len(ours), "max_abs_diff": d, "agree": same, "wall_ours_s": round(ours_wall, 2),
                            "wall_lm_eval_s": round(lm_wall, 2), "speedup": round(lm_wall / ours_wall, 2),
                            "tokens_fed": st["tokens"], "tokens_naive": naive, "forward_s": round(st["seconds"], 2)}
            print(json.dumps({key: results[key]}), flush=True)
            max_diff, agree, rows = max(max_diff, d), agree + same, rows + len(ours)
            naive_tokens += naive
            fed_tokens += st["tokens"]
            fwd_seconds += st["seconds"]
            ours_wall_total += ours_wall
    five = [k for k in results if k.endswith("_5shot")]
    ours5 = sum(results[k]["wall_ours_s"] for k in five)
    lm5 = sum(results[k]["wall_lm_eval_s"] for k in five)
    rate = matmul_rate()
    achieved = 2 * n_nonembed * fed_tokens / fwd_seconds
    print(json.dumps({
        "benchmark": "eval_vs_lm_eval", "model_params_nonembed": n_nonembed, "rows": rows,
        "threads": args.threads or "default", "lm_eval_batch_size": args.lm_eval_batch_size,
        "max_abs_logprob_diff": max_diff, "prediction_agreement": agree / rows,
        "wall_ours_5shot_s": round(ours5, 2), "wall_lm_eval_5shot_s": round(lm5, 2),
        "speedup_5shot": round(lm5 / ours5, 2),
        "tokens_per_s_scored": round(naive_tokens / ours_wall_total, 1),
        "tokens_per_s_fed": round(fed_tokens / fwd_seconds, 1),
        "matmul_flops_per_s": rate, "achieved_flops_per_s": achieved, "flops_fraction_of_matmul": achieved / rate,
        "settings": results,
    }))


def _naive_lengths(model: Path, task, shots: int):
    """Token lengths of prompt+class for every class: what a scorer without prompt reuse runs."""
    from transformers import AutoTokenizer

    tok = _naive_lengths.cache.get(model) or AutoTokenizer.from_pretrained(model)
    _naive_lengths.cache[model] = tok
    texts = [task.prompts(ex, shots)[0] + c for ex in task.examples for c in ex.classes]
    return tok(texts)["input_ids"]


_naive_lengths.cache = {}

if __name__ == "__main__":
    main()
