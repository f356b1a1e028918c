"""The result of scoring a ladder on a suite (:class:`Evaluation`) and the output folder it writes.

:meth:`Evaluation.run` (the driver, :mod:`.driver`) scores every model of a ladder on every task at every setting (shots, seed, separator)
with an executor (:mod:`.executors`: local by default, or Ray), committing each chunk of examples to the
:class:`~.store.ResultStore` in one transaction as it arrives (the driver alone writes the store), and writes
the output folder from the store at the end (files replaced atomically, rows in a fixed order)::

    DIR/results.sqlite                  the store (unless another is given): reruns resume from it
    DIR/summary.csv                     one row per model x task x setting: each metric's mean and standard error
    DIR/scores.csv                      the long format of scalecheck.sources.plain, with the ladder's model
                                        columns: every analysis command reads DIR (or DIR/scores.csv) as a testbed
    DIR/<model>/<task>.<K>shot.jsonl    one object per task row: index, class_logprobs, loss, correct, ...
    DIR/run.json                        what was run: tasks (file, hash, format), settings, models and their keys
    DIR/timing.json                     seconds, tokens, executor and placements of this invocation (not
                                        deterministic; everything else is the same whatever the executor)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..schema import LOSS_PREFIX, Tables
from ..sources.evaluate_output import read_evaluate_output
from ..sources.ladder import Ladder, LadderModel
from ..sources.plain import read_long_file
from ..tables import ReportFiles
from .backends.base import BackendStats
from .metrics import MetricSummary, example_metrics, summarise
from .models import ModelSpec
from .plan import Setting, escape_separator
from .tasks import Task

SOURCE = "evaluate"

__all__ = ["Evaluation", "ModelResult", "model_result", "results_tables", "safe_name"]


@dataclass(frozen=True)
class ModelResult:
    """One model's scores on one task at one setting: per-example records and the metric means."""

    model: LadderModel
    model_key: str
    task: Task
    setting: Setting
    examples: tuple[dict, ...]
    metrics: tuple[MetricSummary, ...]
    params: float | None = None
    params_nonembed: float | None = None
    stats: BackendStats | None = None  # the model's, over the whole plan (None: not loaded in this run)
    seconds: float = 0.0  # the model's, from load to its last chunk, over the whole plan
    examples_scored: int = 0  # of this task and setting, in this run
    spec: ModelSpec | None = None  # what was loaded, and how (model_key is its key)

    def metric(self, name: str) -> MetricSummary:
        return next(m for m in self.metrics if m.metric == name)

    def to_dict(self) -> dict:
        return {"model": self.model.name, "model_key": self.model_key, "task": self.task.name,
                "shots": self.setting.shots, "variant": self.setting.variant,
                "metrics": [m.to_dict() for m in self.metrics], "examples_scored": self.examples_scored,
                "seconds": self.seconds, "stats": None if self.stats is None else self.stats.to_dict()}


def safe_name(name: str) -> str:
    """A folder name for a model id ("EleutherAI/pythia-70m" -> "EleutherAI__pythia-70m")."""
    return re.sub(r"[^A-Za-z0-9._=-]", "_", name.replace("/", "__")) or "model"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Evaluation:
    """The result of scoring a ladder on tasks at settings (see the module doc); results are model-major."""

    tasks: tuple[Task, ...]
    settings: tuple[Setting, ...]
    results: tuple[ModelResult, ...]
    output: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> Task:
        if len(self.tasks) != 1:
            raise ValueError(f"the evaluation holds {len(self.tasks)} tasks; use .tasks")
        return self.tasks[0]

    @property
    def setting(self) -> Setting:
        if len(self.settings) != 1:
            raise ValueError(f"the evaluation holds {len(self.settings)} settings; use .settings")
        return self.settings[0]

    def result(self, model: str, task: str | None = None, shots: int | None = None) -> ModelResult:
        for r in self.results:
            if r.model.name == model and task in (None, r.task.name) and shots in (None, r.setting.shots):
                return r
        raise KeyError((model, task, shots))

    @classmethod
    def run(cls, models: Ladder | Sequence[LadderModel], tasks: Task | Sequence[Task],
            settings: Setting | Sequence[Setting] | None = None, **options) -> Evaluation:
        """Score each model on each task at each setting, resuming from the store, and write ``output``.

        The driver (:func:`.driver.run_plan`, which documents the options) runs the plan and writes the store;
        the result is built from the records the store holds, so it is the same whatever ran them.
        """
        from .driver import run_plan

        run = run_plan(models, tasks, settings, **options)
        results = [model_result(m, run.keys[i], t, s, run.records[(i, ti, si)], params=run.params[i],
                                stats=run.stats.get(i), seconds=run.seconds.get(i, 0.0),
                                scored=run.scored.get((i, ti, si), 0), spec=run.specs[i])
                   for i, m in enumerate(run.models) for ti, t in enumerate(run.tasks)
                   for si, s in enumerate(run.settings)]
        ev = cls(run.tasks, run.settings, tuple(results), run.output, run.extra)
        if run.output is not None:
            ev.write(run.output)
        return ev

    # --- outputs ------------------------------------------------------------------------------------------

    def frame(self) -> pd.DataFrame:
        """One row per model x task x setting (the summary.csv table)."""
        return self.summary_frame()

    def summary_frame(self) -> pd.DataFrame:
        rows = []
        for r in self.results:
            row = {"model": r.model.name, "task": r.task.name, "format": r.task.format,
                   "shots": r.setting.shots, "variant": r.setting.variant, "n_examples": len(r.examples)}
            for m in r.metrics:
                row[m.metric] = m.value
                row[m.metric + "_stderr"] = m.stderr
            rows.append(row)
        return pd.DataFrame(rows)

    def scores_frame(self) -> pd.DataFrame:
        """The long format (scalecheck.sources.plain): one row per (model, task, setting, metric)."""
        rows = []
        for r in self.results:
            m = r.model
            task_type = "language modeling" if r.task.format == "sequence_prob" else "multiple choice"
            meta = {"source": SOURCE, "family": m.family, "corpus": m.corpus, "size": m.size,
                    "params": m.params if m.params is not None else r.params,
                    "params_nonembed": m.params_nonembed if m.params_nonembed is not None else r.params_nonembed,
                    "tokens": m.tokens, "flops": m.flops, "step": m.step, "holdout": m.holdout}
            meta.update({LOSS_PREFIX + k: v for k, v in m.losses.items()})
            for s in r.metrics:
                rows.append({"model": m.name, "task": r.task.name, "metric": s.metric, "value": s.value,
                             "stderr": s.stderr, "n_examples": s.n_examples, "chance": s.chance,
                             "higher_is_better": s.higher_is_better, "shots": r.setting.shots,
                             "variant": r.setting.variant, "task_type": task_type, **meta})
        return pd.DataFrame(rows)

    def tables(self) -> Tables:
        from ..sources.plain import split_long_frame

        return split_long_frame(self.scores_frame(), f"evaluation of {', '.join(t.name for t in self.tasks)}")

    @staticmethod
    def examples_file(model: str, task: str, setting: Setting) -> str:
        """Where a model's examples of a task at a setting go, relative to the output folder."""
        return f"{safe_name(model)}/{safe_name(task)}.{safe_name(setting.label)}.jsonl"

    def write(self, out: str | Path) -> ReportFiles:
        """Write the output folder (see the module doc); every file is replaced atomically. Returns the files
        written (as every result's ``write``): the tables summary.csv and scores.csv, then run.json, timing.json
        and the examples' files (``others``); ``paths`` lists them in that order."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        examples = []
        for r in self.results:
            path = out / self.examples_file(r.model.name, r.task.name, r.setting)
            path.parent.mkdir(exist_ok=True)
            _write_atomic(path, "".join(json.dumps(e) + "\n" for e in r.examples))
            examples.append(path)
        _write_atomic(out / "summary.csv", self.summary_frame().to_csv(index=False, float_format="%.17g"))
        _write_atomic(out / "scores.csv", self.scores_frame().to_csv(index=False, float_format="%.17g"))
        models = {}
        for r in self.results:
            models.setdefault(r.model.name, (r.model, r.model_key))
        info = {"tasks": [{"task": t.name, "task_file": str(t.path), "task_hash": t.content_hash,
                           "format": t.format, "n_examples": len(t)} for t in self.tasks],
                "settings": [{"shots": s.shots, "seed": s.seed, "separator": escape_separator(s.separator),
                              "variant": s.variant, "label": s.label} for s in self.settings],
                "models": [{"model": m.name, "location": m.location, "revision": m.revision,
                            "model_key": key, "folder": safe_name(m.name)} for m, key in models.values()]}
        _write_atomic(out / "run.json", json.dumps(info, indent=2) + "\n")
        # Timings, the executor and where models ran differ from run to run: they live apart from the
        # deterministic outputs above, which are byte-identical whatever executor produced them.
        timing = {}
        for r in self.results:
            timing.setdefault(r.model.name, {"seconds": r.seconds, "examples_scored": 0, "params": r.params,
                                             "params_nonembed": r.params_nonembed,
                                             "backend": None if r.stats is None else r.stats.to_dict()})
            timing[r.model.name]["examples_scored"] += r.examples_scored
        _write_atomic(out / "timing.json", json.dumps({**self.extra, "models": timing}, indent=2) + "\n")
        return ReportFiles(out, {"summary": out / "summary.csv", "scores": out / "scores.csv"},
                           others=(out / "run.json", out / "timing.json", *examples))

    def summary(self) -> pd.DataFrame:
        """One row per model x task x setting with each metric's mean and standard error (as every result's)."""
        return self.summary_frame()

    def summary_text(self) -> str:
        """The summary as lines of text, task by task."""
        lines = []
        for t in self.tasks:
            for s in self.settings:
                lines.append(f"{t.name} ({t.format}, {len(t)} examples, {s.shots} shots"
                             + (f", {s.variant}" if s.variant else "") + ")")
                for r in self.results:
                    if r.task is t and r.setting == s:
                        parts = [f"{m.metric} {m.value:.4f} ± {m.stderr:.4f}" for m in r.metrics]
                        lines.append(f"  {r.model.name}: " + ", ".join(parts))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"tasks": [{"task": t.name, "format": t.format, "task_hash": t.content_hash} for t in self.tasks],
                "settings": [{"shots": s.shots, "seed": s.seed, "separator": s.separator} for s in self.settings],
                "results": [r.to_dict() for r in self.results]}


def results_tables(source: str | Path | Evaluation) -> Tables:
    """The testbed tables of an evaluation: from an :class:`Evaluation` or its output folder."""
    if isinstance(source, Evaluation):
        return source.tables()
    path = Path(source)
    if path.is_dir():
        return read_evaluate_output(path)
    if not path.is_file():
        raise InputError(path, "no such evaluate output folder or scores file")
    return read_long_file(path)


def _example_row(task: Task, i: int, rec: dict) -> dict:
    ex = task.examples[i]
    row = {"index": i, "answer_index": ex.answer_index, "class_logprobs": rec["class_logprobs"]}
    if "other_class_logprobs" in rec:
        row["other_class_logprobs"] = rec["other_class_logprobs"]
    row.update(example_metrics(task.format, ex.answer_index, rec["class_logprobs"], rec.get("other_class_logprobs")))
    return row



def model_result(m: LadderModel, key: str, task: Task, setting: Setting, records: dict[int, dict], *,
                 params: tuple = (None, None), stats: BackendStats | None = None, seconds: float = 0.0,
                 scored: int = 0, spec: ModelSpec | None = None) -> ModelResult:
    """A model's result on a task at a setting from its per-example records (as the store holds them)."""
    examples = tuple(_example_row(task, i, records[i]) for i in range(len(task)))
    n_classes = [len(ex.classes) for ex in task.examples]
    metrics = tuple(summarise(task.format, task.metrics, list(examples), n_classes))
    return ModelResult(m, key, task, setting, examples, metrics, params[0], params[1], stats, seconds, scored, spec)
