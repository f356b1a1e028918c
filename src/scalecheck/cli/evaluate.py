"""``evaluate``: score a ladder of models (or one model) on a suite of Inverse Scaling Prize tasks."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..errors import ScalecheckError
from ._common import HelpFormatter, check_output_dir

DESCRIPTION = """\
Score every model of a ladder on every task of a suite, at every shot count, in the Inverse Scaling Prize's
formats (classification, sequence_prob, logodds, absolute_logodds; CSV or JSONL), exactly as
lm-evaluation-harness tokenises and scores, with each prompt run once for all its answer classes. The plan is
models x tasks x settings; each model is loaded once. Results go to one SQLite store in DIR as each batch
finishes: an interrupted run resumes where it stopped, and a rerun of finished work costs nothing.

examples:
  scalecheck evaluate --ladder pythia.yaml --task memo-trap_classification.jsonl --output out/memo-trap
  scalecheck evaluate --ladder pythia.yaml --task prize_data/ --shots 0 1 5 --output out/prize
  scalecheck evaluate --ladder pythia.yaml --task memo-trap neqa --task-dir prize_data/ --output out/two
  scalecheck evaluate --model EleutherAI/pythia-70m --revision step1000 step143000 --task neqa -o out/ckpt
  scalecheck evaluate --ladder pythia.yaml --task prize_data/ --executor ray --address HEAD:6379 -o out/prize
  scalecheck reality-check out/prize --x params --shots 0      # any analysis command reads DIR as a testbed

--task takes task files, folders of task files, and the Prize's task names (memo-trap, neqa, sig-figs, ...):
a name is looked up in --task-dir, else fetched from the Hugging Face dataset that mirrors the Prize's release
(needs the network; each file is checked against the release's SHA-256). Every task is read and checked before
any model loads.

Few-shot prompts join the demonstrations and the test prompt with --separator: three newlines by default, as the
Prize's data-release README describes its k-shot prompts; '\\n\\n' (a blank line) is lm-evaluation-harness's
default fewshot_delimiter. The separator is part of the results key and of the testbed's variant.

DIR gets summary.csv (one row per model x task x setting), scores.csv (the long format, with the Prize's loss
and accuracy), run.json, timing.json, results.sqlite and MODEL/TASK.KSHOT.jsonl (one object per task row:
index, class_logprobs, loss, correct, ...).

Executors: local (default: one model at a time in this process) or ray (one actor per model on a Ray cluster,
`pip install 'scalecheck[ray]'`; start one with `ray start --head` and give its --address, or omit --address
for a local cluster on this machine). GPUs per model come from the ladder's `gpus`, else from the model's size
and the GPUs' memory; a model no node can hold is refused before anything runs.

A GGUF file's weights are dequantised once and kept, as a plain Hugging Face folder keyed by the file's content
hash and the dtype, in $SCALECHECK_CACHE (default ~/.cache/scalecheck; SCALECHECK_CACHE=off keeps nothing): later
runs load it in about a second instead of dequantising again. A hub id is fetched only if the hub answers within
3 s or the model is in the local Hugging Face cache; offline, the command says so at once.

A ladder file (YAML, or TOML on Python 3.11+) lists the models with their params, tokens and known
validation losses; see scalecheck.sources.ladder_file.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a ladder of models on a suite of Inverse Scaling Prize tasks",
                       description=DESCRIPTION, formatter_class=HelpFormatter)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--ladder", metavar="LADDER",
                       help="ladder file (YAML or TOML), or a built-in ladder's name (`scalecheck ladders`)")
    which.add_argument("--model", nargs="+", metavar="PATH_OR_ID",
                       help="models: local folders, .gguf files or hub ids")
    p.add_argument("--revision", nargs="+", default=None, metavar="REV",
                   help="checkpoints: score each model at each hub revision (stepN sets the step)")
    p.add_argument("--task", nargs="+", required=True, metavar="TASK",
                   help="task files, folders of task files, or Prize task names")
    p.add_argument("--task-dir", default=None, metavar="DIR",
                   help="folder of the Prize's release files, where task names are looked up first")
    p.add_argument("--format", default=None, choices=["classification", "sequence_prob", "logodds",
                                                      "absolute_logodds"],
                   help="task format; default: from the file name (*_classification.jsonl) or its columns")
    p.add_argument("--name", default=None, help="task name in the results (one task only); default: from the file")
    p.add_argument("--shots", nargs="+", type=int, default=[0], metavar="K",
                   help="demonstrations before each prompt; several give one setting each")
    p.add_argument("--seed", type=int, default=0, help="seed of the demonstrations' draw")
    p.add_argument("--separator", default="\\n\\n\\n", metavar="TEXT",
                   help="between demonstrations and before the prompt; escapes \\n \\t \\\\ (Prize: three newlines)")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--store", default=None, metavar="DB",
                   help="results database to use instead of DIR/results.sqlite (share one across outputs)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, or auto (cuda when available)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64", "float16", "bfloat16"],
                   help="model dtype; default: the ladder's, else float32")
    p.add_argument("--batch-tokens", type=int, default=None,
                   help="tokens per forward batch (default: 2048 on cpu; on cuda sized from free memory); "
                        "halves on out-of-memory")
    p.add_argument("--chunk", type=int, default=256, help="examples per committed transaction")
    p.add_argument("--add-bos", choices=["tokenizer", "yes", "no"], default="tokenizer",
                   help="special tokens: as the tokenizer adds them (lm-evaluation-harness's default), or forced")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: the cores not busy with other work, i.e. the core count "
                        "less the load average, at least 1; torch's own default of every core scored at half the "
                        "speed of one thread, or worse, on a busy 2-core machine); with --executor ray: CPUs and "
                        "threads of each model's actor (default 1)")
    p.add_argument("--backend", default="hf", metavar="NAME",
                   help="registered backend that loads and scores the models (scalecheck.evaluation.backends; "
                        "default hf: Hugging Face transformers)")
    p.add_argument("--trust-remote-code", action="store_true", help="run code shipped with the model (off)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: one model at a time here; ray: one actor per model on a Ray cluster")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="Ray cluster to use (HOST:6379, auto); default: start a local one")
    p.add_argument("--gpus-per-model", type=float, default=None, metavar="G",
                   help="GPUs of every model's actor (default: the ladder's gpus, else from size and GPU memory)")
    p.add_argument("--gpu-memory", type=float, default=None, metavar="GIB",
                   help="memory of one GPU for sizing models (default: measured on the cluster)")
    p.add_argument("--overwrite", action="store_true",
                   help="rewrite the tables of an output folder that holds other models, tasks or settings "
                        "(default: refuse; the store keeps their records either way)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_evaluate, evaluate_parser=p)


def resolve_ladder_spec(spec: str):
    """The one place a --ladder value becomes a Ladder: a ladder file (built-in ladder names resolve here too)."""
    from ..sources.ladder_file import resolve_ladder

    return resolve_ladder(spec, require_location=True)


def _models(args):
    from ..evaluation.models import checkpoints
    from ..sources.ladder import LadderModel

    if args.ladder:
        models = list(resolve_ladder_spec(args.ladder).models)
    else:
        models = []
        for m in args.model:
            local = Path(m).expanduser()
            if local.is_file() and local.suffix.lower() == ".gguf":
                models.append(LadderModel(name=local.stem, path=local.resolve()))
            elif local.is_dir():
                models.append(LadderModel(name=local.resolve().name, path=local.resolve()))
            else:
                models.append(LadderModel(name=m, id=m))
    if args.revision:
        models = checkpoints(models, args.revision)
    return models


def _executor(args):
    if args.executor == "local":
        if args.address or args.gpus_per_model is not None or args.gpu_memory is not None:
            raise ScalecheckError("--address, --gpus-per-model and --gpu-memory need --executor ray")
        return None
    from ..evaluation.executors.ray import RayExecutor

    return RayExecutor(args.address, cpus_per_model=args.threads or 1, gpus_per_model=args.gpus_per_model,
                       gpu_memory=args.gpu_memory)


def resume_command(args: argparse.Namespace) -> str:
    """The command line that reruns ``args`` (every option that differs from its default), for the shell."""
    parts = ["scalecheck", "evaluate"]
    for action in args.evaluate_parser._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or action.dest == "help" or value is None or value == action.default:
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            parts.append(flag)
        else:
            parts += [flag, *map(str, value if isinstance(value, list) else [value])]
    return shlex.join(parts)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation import Evaluation, Setting, resolve_tasks
    from ..evaluation.driver import EvaluationInterrupted
    from ..evaluation.plan import unescape_separator

    check_output_dir(args.output)  # before tasks are read or a model loads
    if any(k < 0 for k in args.shots):
        raise ScalecheckError("--shots must be >= 0")
    if args.chunk < 1 or (args.batch_tokens is not None and args.batch_tokens < 1):
        raise ScalecheckError("--chunk and --batch-tokens must be positive")
    if args.threads is not None and args.threads < 1:
        raise ScalecheckError("--threads must be >= 1")
    separator = unescape_separator(args.separator)
    if not separator:
        raise ScalecheckError("--separator must not be empty")
    # Everything is read and checked before any model loads (or a cluster is reached).
    tasks = resolve_tasks(args.task, task_dir=args.task_dir, format=args.format)
    if args.name is not None:
        if len(tasks) != 1:
            raise ScalecheckError("--name names one task; the suite has several")
        import dataclasses

        tasks = [dataclasses.replace(tasks[0], name=args.name)]
    models = _models(args)
    settings = [Setting(shots=k, seed=args.seed, separator=separator) for k in dict.fromkeys(args.shots)]
    executor = _executor(args)
    device = args.device
    if executor is None:
        import torch

        from ..evaluation.backends.hf import default_threads

        torch.set_num_threads(args.threads or default_threads())
    # device "auto" is resolved where each model loads (make_backend), on the machine that loads it.
    add = {"tokenizer": None, "yes": True, "no": False}[args.add_bos]
    bar = None if args.no_progress else RichPlanProgress()
    try:
        ev = Evaluation.run(models, tasks, settings, output=args.output, store=args.store, executor=executor,
                            device=device, dtype=args.dtype, batch_tokens=args.batch_tokens, chunk=args.chunk,
                            trust_remote_code=args.trust_remote_code, add_special_tokens=add, progress=bar,
                            overwrite=args.overwrite, backend=args.backend)
    except EvaluationInterrupted as stop:
        if bar is not None:
            bar.close()
        print(f"scalecheck evaluate: {stop}; resume with: {resume_command(args)}", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    _print_tables(ev)
    print(f"wrote {args.output}")
    return 0


def _print_tables(ev) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for task in ev.tasks:
        for s in ev.settings:
            table = Table(title=f"{task.name}: {task.format}, {len(task)} examples, {s.shots} shots"
                          + (f", {s.variant}" if s.variant else ""))
            table.add_column("model")
            for m in task.metrics:
                table.add_column(m, justify="right")
            table.add_column("scored now", justify="right")
            for r in ev.results:
                if r.task is task and r.setting == s:
                    table.add_row(r.model.name, *[f"{r.metric(m).value:.4g} ± {r.metric(m).stderr:.2g}"
                                                  for m in task.metrics], str(r.examples_scored))
            console.print(table)


class RichPlanProgress:
    """One bar over the whole plan (models x tasks x settings x examples), with rate and time left: a
    :data:`scalecheck.progress.Progress` (``progress(done, total, what)``); :meth:`close` stops it."""

    def __call__(self, done: int, total: int, what: str) -> None:
        if not hasattr(self, "bar"):
            self._start(done, total)
        self.bar.update(self.job, completed=done, total=total, description=what)

    def _start(self, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        class Speed(ProgressColumn):
            """Examples scored per second in this run (those found done in the store do not count)."""

            def render(self, task):
                done_now = task.completed - task.fields.get("resumed", 0)
                rate = done_now / task.elapsed if task.elapsed else 0.0
                return f"{rate:.1f} examples/s"

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Speed(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=False)
        self.bar.start()
        self.job = self.bar.add_task("", total=total, completed=done, resumed=done)

    def close(self) -> None:
        if hasattr(self, "bar"):
            self.bar.stop()
