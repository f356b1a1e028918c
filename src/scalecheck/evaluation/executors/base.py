"""Executors: who runs a plan's models. The driver (:func:`..driver.evaluate`) alone writes the store.

An executor turns jobs (one per model: its spec and pending work) into a stream of :class:`Event`: a model was
loaded, a chunk of records was scored, a model is done. The driver writes each chunk to the SQLite store in one
transaction as it arrives, so whatever the executor, nothing scored is lost and a rerun resumes from the store.

- :class:`~.local.LocalExecutor` (the default, and the reference): one model at a time in this process, in ladder
  order.
- :class:`~.ray.RayExecutor`: one Ray actor per model across a cluster (``scalecheck[ray]``).

Both build their backends through :func:`~..backends.make_backend` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..backends.base import BackendStats
from ..models import ModelSpec
from ..plan import Record, Setting, Work
from ..tasks import Task

if TYPE_CHECKING:  # a Ray worker imports this module: the sources (and pandas) stay out of it
    from ...sources.ladder import LadderModel


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


class Executor(Protocol):
    """Who runs a plan's models: turns jobs into a stream of :class:`Event` (see the module doc)."""

    name: str

    def describe(self) -> dict:
        """What timing.json records of this executor (its name, and where it ran)."""

    def run(self, jobs: Sequence[Job], tasks: Sequence[Task], settings: Sequence[Setting], options: Options,
            pending: Pending) -> Iterator[Event]:
        """Score every job's work; ``pending(model)`` gives a job as the store now stands (after a worker died)."""
