"""The driver: runs a plan (models x tasks x settings) with an executor, writing the store as results arrive.

:func:`run_plan` (run by :meth:`.result.Evaluation.run`) checks everything that can be refused before any model
loads, asks the store what is already done, hands the executors one :class:`~.executors.Job` per model, and writes
each chunk of records they report to the :class:`~.store.ResultStore` in one transaction (the driver alone
writes the store). Its per-run state lives in one small class, :class:`PlanRun`, which it returns with the plan's
records read back from the store; :meth:`.result.Evaluation.run` turns them into the result and writes the output
folder (the result imports the driver, never the other way round).

Progress is reported through the package's one protocol, :data:`scalecheck.progress.Progress`:
``progress(done, total, what)`` with examples x settings x models done (those already in the store count as
done from the start).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, ScalecheckError
from ..progress import Progress, report
from ..sources.ladder import Ladder, LadderModel
from .backends import get_backend
from .backends.base import BackendStats
from .executors.base import Event, Job, Options
from .executors.local import LocalExecutor
from .models import ModelSpec
from .plan import Setting, Work, escape_separator
from .store import ResultStore
from .tasks import Task

__all__ = ["EvaluationInterrupted", "PlanRun", "run_plan"]


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


def _as_tuple(x, kind) -> tuple:
    return (x,) if isinstance(x, kind) else tuple(x)


class PlanRun:
    """The driver's state over one run: what each model loaded, scored and took, where it ran; the store,
    written here and nowhere else; and at the end, the plan's records as the store holds them."""

    def __init__(self, db: ResultStore, models: Sequence[LadderModel], specs: Sequence[ModelSpec],
                 keys: Sequence[str], tasks: Sequence[Task], settings: Sequence[Setting], total: int, done: int,
                 progress: Progress | None) -> None:
        self.db, self.models, self.specs, self.keys = db, models, specs, keys
        self.tasks, self.settings = tasks, settings
        self.total, self.done, self.progress = total, done, progress
        self.start = time.perf_counter()
        self.scored: dict[tuple[int, int, int], int] = {}
        self.params: dict[int, tuple] = {}
        self.stats: dict[int, BackendStats] = {}
        self.seconds: dict[int, float] = {}
        self.loaded_at: dict[int, float] = {}
        self.placements: dict[str, dict] = {}  # where and when each model ran (timing.json)
        self.records: dict[tuple[int, int, int], dict[int, dict]] = {}  # (model, task, setting) -> records
        self.output: Path | None = None
        self.extra: dict = {}

    def handle(self, ev: Event) -> None:
        i = ev.model
        now = time.perf_counter()
        if ev.kind == "loaded":
            self.params[i] = ev.params
            self.loaded_at[i] = now
            self.db.remember_model(self.keys[i], {**self.specs[i].identity(), "n_params": ev.params[0],
                                                  "n_params_nonembed": ev.params[1]})
            self.placements.setdefault(self.models[i].name, {}).update(
                {**ev.placement, "loaded_at_s": round(now - self.start, 3)})
        elif ev.kind == "chunk":
            t, s = self.tasks[ev.task], self.settings[ev.setting]
            self.db.put(self.keys[i], t.content_hash, s.key(t), ev.records)
            key = (i, ev.task, ev.setting)
            self.scored[key] = self.scored.get(key, 0) + len(ev.records)
            self.done += len(ev.records)
            report(self.progress, self.done, self.total, f"{self.models[i].name} · {t.name} · {s.label}")
        elif ev.kind == "done":
            self.stats[i] = ev.stats
            self.seconds[i] = self.seconds.get(i, 0.0) + now - self.loaded_at.get(i, now)
            self.placements.setdefault(self.models[i].name, {})["done_at_s"] = round(now - self.start, 3)
        else:  # pragma: no cover  (an executor's bug)
            raise ValueError(f"unknown event {ev.kind!r}")

    def read_back(self) -> None:
        """The plan's records from the store (whoever scored them, in whatever order), and the parameter
        counts of models not loaded in this run."""
        for i, m in enumerate(self.models):
            if i not in self.params:
                self.params[i] = self._known_params(self.keys[i])
            for ti, t in enumerate(self.tasks):
                for si, s in enumerate(self.settings):
                    records = self.db.records(self.keys[i], t.content_hash, s.key(t))
                    if len(records) != len(t):
                        raise InputError(self.db.path, f"store holds {len(records)} of {len(t)} examples for "
                                                       f"{m.name} on {t.name} ({s.label})")
                    self.records[(i, ti, si)] = records

    def _known_params(self, key: str) -> tuple:
        ident = self.db.model_identity(key) or {}
        return ident.get("n_params"), ident.get("n_params_nonembed")


def run_plan(models: Ladder | Sequence[LadderModel], tasks: Task | Sequence[Task],
             settings: Setting | Sequence[Setting] | None = None, *, output: str | Path | None = None,
             store: str | Path | None = None, executor=None, device: str = "cpu", dtype: str | None = None,
             batch_tokens: int | None = None, chunk: int = 256, trust_remote_code: bool = False,
             add_special_tokens: bool | None = None, progress: Progress | None = None,
             overwrite: bool = False, backend: str = "hf") -> PlanRun:
    """Score each model on each task at each setting (resuming from the store); return the run and its records.

    Everything that can be refused is refused before any model loads: too many shots for a task, two
    models or tasks of one name, an unknown backend, an executor's infeasible request, and an ``output`` folder
    holding results of a plan this one leaves out (its tables would silently lose them; ``overwrite=True``
    replaces them, the store keeps every record either way).

    ``backend``: the registered backend that loads and scores every model (:mod:`.backends`). ``progress``:
    called as ``progress(done, total, what)`` (:mod:`scalecheck.progress`). Interrupted (Ctrl-C), it raises
    :class:`EvaluationInterrupted`, which says what the store holds.
    """
    ladder_models = tuple(models.models if isinstance(models, Ladder) else models)
    tasks = _as_tuple(tasks, Task)
    settings = tuple(dict.fromkeys(_as_tuple(Setting() if settings is None else settings, Setting)))
    _check_plan(ladder_models, tasks, settings, chunk, backend)
    if output is None and store is None:
        raise ValueError("give an output folder or a store")
    out = None if output is None else Path(output)
    store_path = Path(store) if store is not None else out / "results.sqlite"
    executor = executor or LocalExecutor()
    specs = [ModelSpec.from_ladder(m, dtype=dtype, device=device, trust_remote_code=trust_remote_code,
                                   add_special_tokens=add_special_tokens, backend=backend) for m in ladder_models]
    keys = [s.key() for s in specs]
    if out is not None:
        if not overwrite:
            _refuse_dropping(out, store_path, [(m.name, k) for m, k in zip(ladder_models, keys, strict=True)],
                             tasks, settings)
        out.mkdir(parents=True, exist_ok=True)
    with ResultStore(store_path) as db:

        def pending(i: int) -> Job:
            return _pending(db, i, ladder_models, specs, keys, tasks, settings)

        jobs = [pending(i) for i in range(len(ladder_models))]
        total = len(ladder_models) * len(settings) * sum(len(t) for t in tasks)
        todo = sum(len(tasks[w.task]) - len(w.done) for j in jobs for w in j.work)
        run = PlanRun(db, ladder_models, specs, keys, tasks, settings, total, total - todo, progress)
        names = f"{len(ladder_models)} model{'s' if len(ladder_models) != 1 else ''}"
        report(progress, run.done, total, names if todo else f"{names}: all in the store")
        try:
            events = executor.run(jobs, tasks, settings, Options(batch_tokens, chunk), pending) if todo else ()
            for ev in events:
                run.handle(ev)
        except KeyboardInterrupt:
            raise EvaluationInterrupted(run.done, total, store_path) from None
        run.read_back()
    run.output = out
    run.extra = {**executor.describe(), "wall_seconds": time.perf_counter() - run.start,
                 "placements": run.placements}
    return run


def _check_plan(models: Sequence[LadderModel], tasks: Sequence[Task], settings: Sequence[Setting], chunk: int,
                backend: str) -> None:
    """Refuse, before any model loads, a plan that cannot run (see :func:`run_plan`)."""
    if not models or not tasks or not settings:
        raise ScalecheckError("nothing to evaluate: give at least one model, task and setting")
    for kind, names in (("model", [m.name for m in models]), ("task", [t.name for t in tasks])):
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ScalecheckError(f"two {kind}s are named {dup!r}; names label the results")
    for t in tasks:
        for s in settings:
            t.demonstrations(0, s.shots, s.seed)  # too many shots for the task: refuse before loading
    if chunk < 1:
        raise ScalecheckError("chunk must be positive")
    get_backend(backend)  # an unknown name: refused now, with the closest names


def _pending(db: ResultStore, i: int, models: Sequence[LadderModel], specs: Sequence[ModelSpec],
             keys: Sequence[str], tasks: Sequence[Task], settings: Sequence[Setting]) -> Job:
    """Model ``i``'s work that the store does not hold yet."""
    work = []
    # A model listed twice (same weights, two names) is scored once, by its first entry.
    if keys.index(keys[i]) == i:
        for ti, t in enumerate(tasks):
            for si, s in enumerate(settings):
                done = db.done(keys[i], t.content_hash, s.key(t))
                if len(done) < len(t):
                    work.append(Work(ti, si, frozenset(done)))
    return Job(i, models[i], specs[i], tuple(work))
