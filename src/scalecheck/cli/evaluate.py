"""``evaluate``: score a ladder of models (or one model) on an Inverse Scaling Prize task file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ScalecheckError
from ._common import HelpFormatter

DESCRIPTION = """\
Score every model of a ladder on a task file in one of the Inverse Scaling Prize's formats (classification,
sequence_prob, logodds, absolute_logodds; CSV or JSONL), exactly as lm-evaluation-harness tokenises and scores,
with each prompt run once for all its answer classes. Results go to an SQLite store in DIR as each batch
finishes: an interrupted run resumes where it stopped, and a rerun of finished work costs nothing.

examples:
  scalecheck evaluate --ladder pythia.yaml --task memo-trap_classification.jsonl --output out/memo-trap
  scalecheck evaluate --ladder pythia.yaml --task neqa_classification.jsonl --shots 5 --output out/neqa-5
  scalecheck evaluate --model ./models/tiny --task my_task.csv --format sequence_prob --output out/mine
  scalecheck import evaluate out/memo-trap -o memo-trap.parquet      # then reality-check it

DIR gets summary.csv (one row per model: each metric with its standard error), scores.csv (the long format:
`scalecheck import csv DIR/scores.csv`), run.json, results.sqlite and, per model, MODEL/examples.jsonl (one
object per task row: index, class_logprobs, loss, correct, ...). Use one DIR per task and setting.

A ladder file (YAML, or TOML on Python 3.11+) lists the models with their params, tokens and known
validation losses; see scalecheck.sources.ladder_file.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a ladder of models on an Inverse Scaling Prize task file",
                       description=DESCRIPTION, formatter_class=HelpFormatter)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--ladder", metavar="LADDER", help="ladder file (YAML or TOML) of the models to score")
    which.add_argument("--model", metavar="PATH_OR_ID", help="one model: a local folder or a hub id")
    p.add_argument("--revision", default=None, help="hub revision of --model")
    p.add_argument("--task", required=True, metavar="FILE", help="task file (.jsonl or .csv)")
    p.add_argument("--format", default=None, choices=["classification", "sequence_prob", "logodds",
                                                      "absolute_logodds"],
                   help="task format; default: from the file name (*_classification.jsonl) or its columns")
    p.add_argument("--name", default=None, help="task name in the results; default: from the file name")
    p.add_argument("--shots", type=int, default=0, metavar="K", help="demonstrations before each prompt")
    p.add_argument("--seed", type=int, default=0, help="seed of the demonstrations' draw")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--store", default=None, metavar="DB",
                   help="results database to use instead of DIR/results.sqlite (share one across outputs)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, or auto (cuda when available)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64", "float16", "bfloat16"],
                   help="model dtype; default: the ladder's, else float32")
    p.add_argument("--batch-tokens", type=int, default=None,
                   help="tokens per forward batch (default: 2048 on cpu, 16384 on cuda); halves on out-of-memory")
    p.add_argument("--chunk", type=int, default=256, help="examples per committed transaction")
    p.add_argument("--add-bos", choices=["tokenizer", "yes", "no"], default="tokenizer",
                   help="special tokens: as the tokenizer adds them (lm-evaluation-harness's default), or forced")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: torch's choice; 1 can be much faster on a busy machine)")
    p.add_argument("--trust-remote-code", action="store_true", help="run code shipped with the model (off)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..evaluation import Evaluation, Setting, read_task
    from ..sources.ladder_file import LadderModel, read_ladder

    if args.shots < 0:
        raise ScalecheckError("--shots must be >= 0")
    if args.chunk < 1 or (args.batch_tokens is not None and args.batch_tokens < 1):
        raise ScalecheckError("--chunk and --batch-tokens must be positive")
    task = read_task(args.task, format=args.format, name=args.name)
    if args.ladder:
        models = list(read_ladder(args.ladder).models)
    else:
        local = Path(args.model).expanduser()
        if local.is_dir():
            models = [LadderModel(name=local.resolve().name, path=local.resolve(), revision=args.revision)]
        else:
            models = [LadderModel(name=args.model, id=args.model, revision=args.revision)]
    device = args.device
    if args.threads is not None:
        import torch

        if args.threads < 1:
            raise ScalecheckError("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    add = {"tokenizer": None, "yes": True, "no": False}[args.add_bos]
    ev = Evaluation.run(models, task, Setting(shots=args.shots, seed=args.seed), output=args.output,
                        store=args.store, device=device, dtype=args.dtype, batch_tokens=args.batch_tokens,
                        chunk=args.chunk, trust_remote_code=args.trust_remote_code, add_special_tokens=add,
                        progress=not args.no_progress)
    table = Table(title=f"{task.name}: {task.format}, {len(task)} examples, {args.shots} shots")
    table.add_column("model")
    for m in task.metrics:
        table.add_column(m, justify="right")
    table.add_column("scored now", justify="right")
    for r in ev.results:
        table.add_row(r.model.name, *[f"{r.metric(m).value:.4g} ± {r.metric(m).stderr:.2g}" for m in task.metrics],
                      str(r.examples_scored))
    Console().print(table)
    print(f"wrote {args.output}")
    return 0
