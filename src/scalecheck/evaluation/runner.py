"""Score a ladder of models on a task: resumable, deduplicated, written where the testbed can read it.

:meth:`Evaluation.run` scores every model of a ladder on a :class:`~.tasks.Task` at a setting (shots, seed),
committing each chunk of examples to the :class:`~.store.ResultStore` in one transaction, and writes the
output folder from the store at the end (files replaced atomically, rows in a fixed order)::

    DIR/results.sqlite          the store (unless another is given): reruns resume from it
    DIR/summary.csv             one row per model: each metric's mean and standard error
    DIR/scores.csv              the long format of scalecheck.sources.plain, with the ladder's model columns:
                                `scalecheck import csv DIR/scores.csv` or `scalecheck.load("evaluate", DIR)`
    DIR/<model>/examples.jsonl  one object per task row: index, class_logprobs, loss, correct, ...
    DIR/run.json                what was run: task file, hash, format, setting, models and their keys
    DIR/timing.json             seconds, tokens and forward passes of this invocation (not deterministic)
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..schema import LOSS_PREFIX, Tables
from ..sources.evaluate_output import read_evaluate_output
from ..sources.ladder_file import Ladder, LadderModel
from ..sources.plain import read_long_file
from .backend import BackendStats, HFBackend, ModelSpec
from .metrics import MetricSummary, example_metrics, summarise
from .store import ResultStore
from .tasks import FEWSHOT_SEPARATOR, Task

SOURCE = "evaluate"


@dataclass(frozen=True)
class Setting:
    """How a task is posed: demonstrations in front of each prompt, their seed and separator."""

    shots: int = 0
    seed: int = 0
    separator: str = FEWSHOT_SEPARATOR

    def key(self, task: Task) -> str:
        return json.dumps({"format": task.format, "shots": self.shots, "seed": self.seed,
                           "separator": self.separator}, sort_keys=True)

    @property
    def variant(self) -> str:
        return "" if self.seed == 0 else f"seed={self.seed}"


@dataclass(frozen=True)
class ModelResult:
    """One model's scores on the task: per-example records and the metric means."""

    model: LadderModel
    model_key: str
    examples: tuple[dict, ...]
    metrics: tuple[MetricSummary, ...]
    params: float | None = None
    params_nonembed: float | None = None
    stats: BackendStats | None = None
    seconds: float = 0.0
    examples_scored: int = 0

    def metric(self, name: str) -> MetricSummary:
        return next(m for m in self.metrics if m.metric == name)

    def to_dict(self) -> dict:
        return {"model": self.model.name, "model_key": self.model_key,
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
    """The result of scoring a ladder on a task at a setting (see the module doc)."""

    task: Task
    setting: Setting
    results: tuple[ModelResult, ...]
    output: Path | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def run(cls, models: Ladder | list[LadderModel], task: Task, setting: Setting = Setting(), *,
            output: str | Path | None = None, store: str | Path | None = None, device: str = "cpu",
            dtype: str | None = None, batch_tokens: int | None = None, chunk: int = 256, trust_remote_code: bool = False,
            add_special_tokens: bool | None = None, progress: bool = False) -> Evaluation:
        """Score each model (resuming from the store), then write ``output`` if given."""
        ladder_models = list(models.models if isinstance(models, Ladder) else models)
        task.demonstrations(0, setting.shots, setting.seed)  # too many shots for the task: refuse before loading
        if output is None and store is None:
            raise ValueError("give an output folder or a store")
        out = None if output is None else Path(output)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        store_path = Path(store) if store is not None else out / "results.sqlite"
        results = []
        with ResultStore(store_path) as db:
            for m in ladder_models:
                spec = ModelSpec(m.location, m.revision, dtype or m.dtype or "float32", device,
                                 trust_remote_code, add_special_tokens)
                results.append(_score_model(db, m, spec, task, setting, batch_tokens, chunk, progress))
        ev = cls(task, setting, tuple(results), out)
        if out is not None:
            ev.write(out)
        return ev

    # --- outputs ------------------------------------------------------------------------------------------

    def summary_frame(self) -> pd.DataFrame:
        rows = []
        for r in self.results:
            row = {"model": r.model.name, "task": self.task.name, "format": self.task.format,
                   "shots": self.setting.shots, "n_examples": len(r.examples)}
            for m in r.metrics:
                row[m.metric] = m.value
                row[m.metric + "_stderr"] = m.stderr
            rows.append(row)
        return pd.DataFrame(rows)

    def scores_frame(self) -> pd.DataFrame:
        """The long format (scalecheck.sources.plain): one row per (model, metric) with the model's columns."""
        rows = []
        task_type = "language modeling" if self.task.format == "sequence_prob" else "multiple choice"
        for r in self.results:
            m = r.model
            meta = {"source": SOURCE, "family": m.family, "corpus": m.corpus, "size": m.size,
                    "params": m.params if m.params is not None else r.params,
                    "params_nonembed": m.params_nonembed if m.params_nonembed is not None else r.params_nonembed,
                    "tokens": m.tokens, "flops": m.flops, "step": m.step, "holdout": m.holdout}
            meta.update({LOSS_PREFIX + k: v for k, v in m.losses.items()})
            for s in r.metrics:
                rows.append({"model": m.name, "task": self.task.name, "metric": s.metric, "value": s.value,
                             "stderr": s.stderr, "n_examples": s.n_examples, "chance": s.chance,
                             "higher_is_better": s.higher_is_better, "shots": self.setting.shots,
                             "variant": self.setting.variant, "task_type": task_type, **meta})
        return pd.DataFrame(rows)

    def tables(self) -> Tables:
        from ..sources.plain import split_long_frame

        return split_long_frame(self.scores_frame(), f"evaluation of {self.task.name}")

    def write(self, out: Path) -> None:
        """Write the output folder (see the module doc); every file is replaced atomically."""
        out.mkdir(parents=True, exist_ok=True)
        for r in self.results:
            d = out / safe_name(r.model.name)
            d.mkdir(exist_ok=True)
            _write_atomic(d / "examples.jsonl", "".join(json.dumps(e) + "\n" for e in r.examples))
        _write_atomic(out / "summary.csv", self.summary_frame().to_csv(index=False, float_format="%.17g"))
        _write_atomic(out / "scores.csv", self.scores_frame().to_csv(index=False, float_format="%.17g"))
        info = {"task": self.task.name, "task_file": str(self.task.path), "task_hash": self.task.content_hash,
                "format": self.task.format, "n_examples": len(self.task), "shots": self.setting.shots,
                "seed": self.setting.seed, "separator": self.setting.separator,
                "models": [{"model": r.model.name, "location": r.model.location, "model_key": r.model_key,
                            "folder": safe_name(r.model.name)} for r in self.results]}
        _write_atomic(out / "run.json", json.dumps(info, indent=2) + "\n")
        # Timings differ from run to run; they live apart from the deterministic outputs above.
        timing = {r.model.name: {"seconds": r.seconds, "examples_scored": r.examples_scored, "params": r.params,
                                 "params_nonembed": r.params_nonembed,
                                 "backend": None if r.stats is None else r.stats.to_dict()} for r in self.results}
        _write_atomic(out / "timing.json", json.dumps(timing, indent=2) + "\n")

    def summary(self) -> str:
        lines = [f"{self.task.name} ({self.task.format}, {len(self.task)} examples, {self.setting.shots} shots)"]
        for r in self.results:
            parts = [f"{m.metric} {m.value:.4f} ± {m.stderr:.4f}" for m in r.metrics]
            lines.append(f"  {r.model.name}: " + ", ".join(parts))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"task": self.task.name, "format": self.task.format, "task_hash": self.task.content_hash,
                "shots": self.setting.shots, "seed": self.setting.seed,
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


def _requests(task: Task, setting: Setting) -> list[list[tuple[str, str]]]:
    """Per example: its (context, continuation) pairs, the prompt's classes then the other prompt's."""
    out = []
    for ex in task.examples:
        prompt, other = task.prompts(ex, setting.shots, setting.seed, setting.separator)
        pairs = [(prompt, c) for c in ex.classes]
        if other is not None:
            pairs += [(other, c) for c in ex.classes]
        out.append(pairs)
    return out


def _record(task: Task, i: int, logprobs: list[float]) -> dict:
    n = len(task.examples[i].classes)
    rec = {"class_logprobs": logprobs[:n]}
    if len(logprobs) > n:
        rec["other_class_logprobs"] = logprobs[n:]
    return rec


def _example_row(task: Task, i: int, rec: dict) -> dict:
    ex = task.examples[i]
    row = {"index": i, "answer_index": ex.answer_index, "class_logprobs": rec["class_logprobs"]}
    if "other_class_logprobs" in rec:
        row["other_class_logprobs"] = rec["other_class_logprobs"]
    row.update(example_metrics(task.format, ex.answer_index, rec["class_logprobs"], rec.get("other_class_logprobs")))
    return row


def _progress_bar(enabled: bool):
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

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Speed(),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled, transient=False)


def _score_model(db: ResultStore, m: LadderModel, spec: ModelSpec, task: Task, setting: Setting,
                 batch_tokens: int | None, chunk: int, progress: bool) -> ModelResult:
    t0 = time.perf_counter()
    key = spec.key()
    skey = setting.key(task)
    done = db.done(key, task.content_hash, skey)
    n = len(task)
    stats, params, nonembed, scored = None, None, None, 0
    meta = db.db.execute("SELECT identity FROM models WHERE model_key=?", (key,)).fetchone()
    if meta is not None:
        ident = json.loads(meta[0])
        params, nonembed = ident.get("n_params"), ident.get("n_params_nonembed")
    if len(done) < n:
        backend = HFBackend(spec, batch_tokens=batch_tokens)
        params, nonembed = backend.n_params, backend.n_params_nonembed
        db.remember_model(key, {**spec.identity(), "n_params": params, "n_params_nonembed": nonembed})
        pairs = _requests(task, setting)
        flat = [p for ps in pairs for p in ps]
        encoded = backend.encode_pairs(flat)
        per_ex, k = [], 0
        for ps in pairs:
            per_ex.append(encoded[k:k + len(ps)])
            k += len(ps)
        # Chunks are fixed by the task and setting alone (longest prompt first, then row), not by what is
        # done, so that a resumed run batches every example exactly as an uninterrupted one would.
        order = sorted(range(n), key=lambda i: (-max(len(c) + len(t) for c, t in per_ex[i]), i))
        chunks = [order[j:j + chunk] for j in range(0, n, chunk)]
        with _progress_bar(progress) as bar:
            job = bar.add_task(f"{m.name} · {task.name}", total=n, completed=len(done), resumed=len(done))
            for ch in chunks:
                todo = [i for i in ch if i not in done]
                if not todo:
                    continue
                reqs = [r for i in todo for r in per_ex[i]]
                lps = backend.loglikelihoods(reqs)
                recs, k = [], 0
                for i in todo:
                    recs.append((i, _record(task, i, lps[k:k + len(per_ex[i])])))
                    k += len(per_ex[i])
                db.put(key, task.content_hash, skey, recs)
                scored += len(todo)
                bar.advance(job, len(todo))
        stats = backend.stats
        del backend
    records = db.records(key, task.content_hash, skey)
    if len(records) != n:
        raise InputError(db.path, f"store holds {len(records)} of {n} examples for {m.name}")
    examples = tuple(_example_row(task, i, records[i]) for i in range(n))
    n_classes = [len(ex.classes) for ex in task.examples]
    metrics = tuple(summarise(task.format, task.metrics, list(examples), n_classes))
    return ModelResult(m, key, examples, metrics, params, nonembed, stats, time.perf_counter() - t0, scored)
