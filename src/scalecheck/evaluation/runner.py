"""Score a ladder on a suite: models x tasks x settings, resumable, deduplicated, in one output folder.

:meth:`Evaluation.run` scores every model of a ladder on every task at every setting (shots, seed, separator)
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
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, ScalecheckError
from ..schema import LOSS_PREFIX, Tables
from ..sources.evaluate_output import read_evaluate_output
from ..sources.ladder_file import Ladder, LadderModel
from ..sources.plain import read_long_file
from .backends.base import BackendStats
from .executors.base import Event, Job, Options
from .executors.local import LocalExecutor
from .metrics import MetricSummary, example_metrics, summarise
from .models import ModelSpec
from .plan import Setting, Work, escape_separator
from .store import ResultStore
from .tasks import Task

SOURCE = "evaluate"

__all__ = ["Evaluation", "EvaluationInterrupted", "ModelResult", "PlanProgress", "Setting", "results_tables",
           "safe_name"]


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

    def metric(self, name: str) -> MetricSummary:
        return next(m for m in self.metrics if m.metric == name)

    def to_dict(self) -> dict:
        return {"model": self.model.name, "model_key": self.model_key, "task": self.task.name,
                "shots": self.setting.shots, "variant": self.setting.variant,
                "metrics": [m.to_dict() for m in self.metrics], "examples_scored": self.examples_scored,
                "seconds": self.seconds, "stats": None if self.stats is None else self.stats.to_dict()}


class PlanProgress:
    """What the driver tells a progress display (the CLI draws it with rich); this base shows nothing."""

    def start(self, total: int, done: int, models: int) -> None:
        """``total`` examples x settings x models in the plan, ``done`` of them already in the store."""

    def advance(self, n: int, description: str) -> None:
        """``n`` more examples scored; ``description`` says what runs now."""

    def finish(self) -> None:
        pass


class EvaluationInterrupted(KeyboardInterrupt):
    """Ctrl-C during :meth:`Evaluation.run`: ``saved`` of the plan's ``total`` records are in the ``store``
    (every chunk committed before the interrupt; a rerun of the same plan resumes from there)."""

    def __init__(self, saved: int, total: int, store: Path) -> None:
        self.saved, self.total, self.store = saved, total, Path(store)
        super().__init__(f"interrupted: {saved:,} of {total:,} examples of the plan are saved in {store}")


def _refuse_dropping(out: Path, store: Path, models: list[tuple[str, str]], tasks: Sequence[Task],
                     settings: Sequence[Setting]) -> None:
    """Refuse to rewrite an output folder whose tables hold models, tasks or settings this plan leaves out."""
    info = out / "run.json"
    if not info.is_file():
        return
    try:
        before = json.loads(info.read_text(encoding="utf-8"))
        old_models = [(m["model"], m["model_key"]) for m in before["models"]]
        old_tasks = [(t["task"], t["task_hash"]) for t in before["tasks"]]
        old_settings = [((s["shots"], s["seed"], s["separator"]), s.get("label", f"{s['shots']}shot"))
                        for s in before["settings"]]
    except (ValueError, KeyError, TypeError):
        raise InputError(info, "not the run.json of a scalecheck evaluation; give another --output") from None
    new_tasks = {(t.name, t.content_hash) for t in tasks}
    new_settings = {(s.shots, s.seed, escape_separator(s.separator)) for s in settings}
    dropped = [f"model {n!r}" for n, k in old_models if (n, k) not in set(models)]
    dropped += [f"task {n!r}" for n, h in old_tasks if (n, h) not in new_tasks]
    dropped += [f"setting {label}" for key, label in old_settings if key not in new_settings]
    if dropped:
        shown = ", ".join(dropped[:4]) + (f" and {len(dropped) - 4} more" if len(dropped) > 4 else "")
        raise ScalecheckError(
            f"{out} holds results of {shown}, which this run leaves out: its summary.csv and scores.csv would "
            f"no longer show them (they stay in {store}). Include them in this run (they come from the store "
            "at no cost), write to another --output, or give --overwrite")


def safe_name(name: str) -> str:
    """A folder name for a model id ("EleutherAI/pythia-70m" -> "EleutherAI__pythia-70m")."""
    return re.sub(r"[^A-Za-z0-9._=-]", "_", name.replace("/", "__")) or "model"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _as_tuple(x, kind) -> tuple:
    return (x,) if isinstance(x, kind) else tuple(x)


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
            settings: Setting | Sequence[Setting] | None = None, *, output: str | Path | None = None,
            store: str | Path | None = None, executor=None, device: str = "cpu", dtype: str | None = None,
            batch_tokens: int | None = None, chunk: int = 256, trust_remote_code: bool = False,
            add_special_tokens: bool | None = None, progress: PlanProgress | None = None,
            overwrite: bool = False, backend: str = "hf") -> Evaluation:
        """Score each model on each task at each setting (resuming from the store), then write ``output``.

        Everything that can be refused is refused before any model loads: too many shots for a task, two
        models or tasks of one name, an executor's infeasible request, and an ``output`` folder holding results
        of a plan this one leaves out (its tables would silently lose them; ``overwrite=True`` replaces them, the
        store keeps every record either way).

        ``backend``: the registered backend that loads and scores every model (:mod:`.backends`).
        Interrupted (Ctrl-C), it raises :class:`EvaluationInterrupted`, which says what the store holds.
        """
        ladder_models = tuple(models.models if isinstance(models, Ladder) else models)
        tasks = _as_tuple(tasks, Task)
        settings = tuple(dict.fromkeys(_as_tuple(Setting() if settings is None else settings, Setting)))
        if not ladder_models or not tasks or not settings:
            raise ScalecheckError("nothing to evaluate: give at least one model, task and setting")
        for kind, names in (("model", [m.name for m in ladder_models]), ("task", [t.name for t in tasks])):
            dup = next((n for n in names if names.count(n) > 1), None)
            if dup is not None:
                raise ScalecheckError(f"two {kind}s are named {dup!r}; names label the results")
        for t in tasks:
            for s in settings:
                t.demonstrations(0, s.shots, s.seed)  # too many shots for the task: refuse before loading
        if chunk < 1:
            raise ScalecheckError("chunk must be positive")
        from .backends import get_backend

        get_backend(backend)  # an unknown name: refused now, with the closest names
        if output is None and store is None:
            raise ValueError("give an output folder or a store")
        out = None if output is None else Path(output)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        store_path = Path(store) if store is not None else out / "results.sqlite"
        executor = executor or LocalExecutor()
        progress = progress or PlanProgress()
        specs = [ModelSpec.from_ladder(m, dtype=dtype, device=device, trust_remote_code=trust_remote_code,
                                       add_special_tokens=add_special_tokens, backend=backend)
                 for m in ladder_models]
        keys = [s.key() for s in specs]
        if out is not None and not overwrite:
            _refuse_dropping(out, store_path, [(m.name, k) for m, k in zip(ladder_models, keys, strict=True)],
                             tasks, settings)
        t_start = time.perf_counter()
        with ResultStore(store_path) as db:

            def pending(i: int) -> Job:
                work = []
                # A model listed twice (same weights, two names) is scored once, by its first entry.
                if keys.index(keys[i]) == i:
                    for ti, t in enumerate(tasks):
                        for si, s in enumerate(settings):
                            done = db.done(keys[i], t.content_hash, s.key(t))
                            if len(done) < len(t):
                                work.append(Work(ti, si, frozenset(done)))
                return Job(i, ladder_models[i], specs[i], tuple(work))

            jobs = [pending(i) for i in range(len(ladder_models))]
            total = len(ladder_models) * len(settings) * sum(len(t) for t in tasks)
            todo = sum(len(tasks[w.task]) - len(w.done) for j in jobs for w in j.work)
            scored: dict[tuple[int, int, int], int] = {}
            params: dict[int, tuple] = {}
            stats: dict[int, BackendStats] = {}
            seconds: dict[int, float] = {}
            loaded_at: dict[int, float] = {}
            placements: dict = {"_start": t_start}
            progress.start(total, total - todo, len(ladder_models))
            try:
                events = executor.run(jobs, tasks, settings, Options(batch_tokens, chunk), pending) \
                    if todo else iter(())
                for ev in events:
                    _handle(ev, db, tasks, settings, ladder_models, specs, keys, scored, params, stats,
                            loaded_at, seconds, placements, progress)
            except KeyboardInterrupt:
                saved = total - todo + sum(scored.values())
                raise EvaluationInterrupted(saved, total, store_path) from None
            finally:
                progress.finish()
            results = []
            for i, m in enumerate(ladder_models):
                p = params.get(i) or _known_params(db, keys[i])
                for ti, t in enumerate(tasks):
                    for si, s in enumerate(settings):
                        results.append(_result(db, m, keys[i], t, s, p, stats.get(i), seconds.get(i, 0.0),
                                               scored.get((i, ti, si), 0)))
        placements.pop("_start")
        extra = {**executor.describe(), "wall_seconds": time.perf_counter() - t_start, "placements": placements}
        ev = cls(tasks, settings, tuple(results), out, extra)
        if out is not None:
            ev.write(out)
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

    def write(self, out: Path) -> None:
        """Write the output folder (see the module doc); every file is replaced atomically."""
        out.mkdir(parents=True, exist_ok=True)
        for r in self.results:
            path = out / self.examples_file(r.model.name, r.task.name, r.setting)
            path.parent.mkdir(exist_ok=True)
            _write_atomic(path, "".join(json.dumps(e) + "\n" for e in r.examples))
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

    def summary(self) -> str:
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


def _handle(ev: Event, db: ResultStore, tasks, settings, models, specs, keys, scored, params, stats, loaded_at,
            seconds, placements, progress: PlanProgress) -> None:
    """The driver's side of an executor's event: the store is written here and nowhere else."""
    i = ev.model
    if ev.kind == "loaded":
        params[i] = ev.params
        loaded_at[i] = time.perf_counter()
        db.remember_model(keys[i], {**specs[i].identity(), "n_params": ev.params[0],
                                    "n_params_nonembed": ev.params[1]})
        # Where and when each model ran (timing.json): a timeline of the run, for executors that spread it.
        placements.setdefault(models[i].name, {}).update({**ev.placement, "loaded_at_s": round(
            loaded_at[i] - placements["_start"], 3)})
    elif ev.kind == "chunk":
        t, s = tasks[ev.task], settings[ev.setting]
        db.put(keys[i], t.content_hash, s.key(t), ev.records)
        scored[(i, ev.task, ev.setting)] = scored.get((i, ev.task, ev.setting), 0) + len(ev.records)
        progress.advance(len(ev.records), f"{models[i].name} · {t.name} · {s.label}")
    elif ev.kind == "done":
        stats[i] = ev.stats
        seconds[i] = seconds.get(i, 0.0) + time.perf_counter() - loaded_at.get(i, time.perf_counter())
        placements.setdefault(models[i].name, {})["done_at_s"] = round(time.perf_counter() - placements["_start"], 3)
    else:  # pragma: no cover  (an executor's bug)
        raise ValueError(f"unknown event {ev.kind!r}")


def _known_params(db: ResultStore, key: str) -> tuple:
    meta = db.db.execute("SELECT identity FROM models WHERE model_key=?", (key,)).fetchone()
    if meta is None:
        return (None, None)
    ident = json.loads(meta[0])
    return ident.get("n_params"), ident.get("n_params_nonembed")


def _example_row(task: Task, i: int, rec: dict) -> dict:
    ex = task.examples[i]
    row = {"index": i, "answer_index": ex.answer_index, "class_logprobs": rec["class_logprobs"]}
    if "other_class_logprobs" in rec:
        row["other_class_logprobs"] = rec["other_class_logprobs"]
    row.update(example_metrics(task.format, ex.answer_index, rec["class_logprobs"], rec.get("other_class_logprobs")))
    return row


def _result(db: ResultStore, m: LadderModel, key: str, task: Task, setting: Setting, params: tuple,
            stats: BackendStats | None, seconds: float, scored: int) -> ModelResult:
    records = db.records(key, task.content_hash, setting.key(task))
    n = len(task)
    if len(records) != n:
        raise InputError(db.path, f"store holds {len(records)} of {n} examples for {m.name} on {task.name} "
                                  f"({setting.label})")
    examples = tuple(_example_row(task, i, records[i]) for i in range(n))
    n_classes = [len(ex.classes) for ex in task.examples]
    metrics = tuple(summarise(task.format, task.metrics, list(examples), n_classes))
    return ModelResult(m, key, task, setting, examples, metrics, params[0], params[1], stats, seconds, scored)
