"""Executors: who runs a plan's models. The driver (:meth:`.runner.Evaluation.run`) alone writes the store.

An executor turns jobs (one per model: its spec and pending work) into a stream of :class:`Event`: a model was
loaded, a chunk of records was scored, a model is done. The driver writes each chunk to the SQLite store in one
transaction as it arrives, so whatever the executor, nothing scored is lost and a rerun resumes from the store.

- :class:`LocalExecutor` (the default, and the reference): one model at a time in this process, in ladder order.
- :class:`~.ray_executor.RayExecutor`: one Ray actor per model across a cluster (``scalecheck[ray]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .backend import BackendStats, ModelSpec
from .plan import EncodingCache, Record, Setting, Work, score
from .tasks import Task

if TYPE_CHECKING:  # a Ray worker imports this module: the sources (and pandas) stay out of it
    from ..sources.ladder_file import LadderModel


@dataclass(frozen=True)
class Job:
    """One model of the plan and the work it still has (empty when the store holds everything)."""

    model: int  # index in the plan's models
    ladder_model: LadderModel
    spec: ModelSpec
    work: tuple[Work, ...]

    @property
    def todo(self) -> bool:
        return bool(self.work)


@dataclass(frozen=True)
class Event:
    """What an executor reports: ``loaded`` (params), ``chunk`` (task, setting, records) or ``done`` (stats)."""

    kind: str
    model: int
    task: int = -1
    setting: int = -1
    records: list[Record] = field(default_factory=list)
    params: tuple[int | None, int | None] = (None, None)
    stats: BackendStats | None = None
    placement: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    """How models are loaded and scored, whatever the executor."""

    batch_tokens: int | None = None
    chunk: int = 256


# pending(model index) -> the job as the store now stands (an executor asks again after a worker died).
Pending = Callable[[int], Job]


class LocalExecutor:
    """One model at a time, in this process, in ladder order (the reference every other executor matches)."""

    name = "local"

    def describe(self) -> dict:
        import sys

        torch = sys.modules.get("torch")  # loaded by a model, if any ran
        return {"executor": self.name, "threads": None if torch is None else torch.get_num_threads()}

    def run(self, jobs: Sequence[Job], tasks: Sequence[Task], settings: Sequence[Setting], options: Options,
            pending: Pending) -> Iterator[Event]:
        from .backend import HFBackend

        cache = EncodingCache()  # models that share a tokenizer share the plan's token ids
        for job in jobs:
            if not job.todo:
                continue
            backend = HFBackend(job.spec, batch_tokens=options.batch_tokens)
            yield Event("loaded", job.model, params=(backend.n_params, backend.n_params_nonembed))
            encoded = cache.get(backend.encoder, tasks, settings, job.work)
            for t, s, recs in score(backend, tasks, settings, job.work, options.chunk, encoded):
                yield Event("chunk", job.model, t, s, recs)
            yield Event("done", job.model, stats=backend.stats)
            del backend
