"""The local executor: one model at a time in this process, in ladder order (the reference)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..backends import make_backend
from ..plan import EncodingCache, Setting, score
from ..tasks import Task
from .base import Event, Job, Options, Pending


class LocalExecutor:
    """One model at a time, in this process, in ladder order (the reference every other executor matches)."""

    name = "local"

    def describe(self) -> dict:
        import sys

        torch = sys.modules.get("torch")  # loaded by a model, if any ran
        return {"executor": self.name, "threads": None if torch is None else torch.get_num_threads()}

    def run(self, jobs: Sequence[Job], tasks: Sequence[Task], settings: Sequence[Setting], options: Options,
            pending: Pending) -> Iterator[Event]:
        cache = EncodingCache()  # models that share a tokenizer share the plan's token ids
        for job in jobs:
            if not job.todo:
                continue
            backend = make_backend(job.spec, batch_tokens=options.batch_tokens)
            yield Event("loaded", job.model, params=(backend.n_params, backend.n_params_nonembed))
            encoded = cache.get(backend, tasks, settings, job.work)
            for t, s, recs in score(backend, tasks, settings, job.work, options.chunk, encoded):
                yield Event("chunk", job.model, t, s, recs)
            yield Event("done", job.model, stats=backend.stats)
            del backend
