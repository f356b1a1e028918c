"""The Ray executor: one Ray Core actor per model across a cluster (``pip install 'scalecheck[ray]'``).

Each model gets one actor (``num_cpus``, ``num_gpus`` from the ladder's ``gpus`` or from its size and the GPUs'
memory), which loads the model once, scores every pending task and setting of the plan, streams each chunk of
records back as it finishes (an actor method that yields), and is then ended with ``ray.kill`` (deleting a model
inside a long-lived process does not reliably free GPU memory). Models go largest first, and smaller ones fill
the resources left over. Before anything is submitted, every request is checked against the cluster's nodes
(``ray.nodes()``): a request no node can hold is refused in one line, never left pending forever.

The driver alone writes the SQLite store (SQLite has one writer; its WAL mode does not work over a network
filesystem), so results are safe whatever happens to the workers. An actor that dies (its node lost, killed,
out of memory) is started again, up to ``max_restarts`` times, on the work the store does not yet hold: chunks
are fixed by the task and setting, so the redone chunks are batched, and scored, exactly as they would have
been, and nothing is lost or written twice.

``import ray`` happens only when the executor runs (workers import :mod:`..plan` and :mod:`..backends`, which
import neither ray nor torch at module import time).

Start a cluster and point at it::

    ray start --head --num-gpus 8                          # on the head node
    ray start --address HEAD:6379                          # on every other node
    scalecheck evaluate --executor ray --address HEAD:6379 --ladder pythia.yaml --task memo-trap ...

Every node needs scalecheck (with its ``eval`` extra) installed and the models' weights staged (or a shared
hub cache): concurrent hub downloads from several workers collide.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterator, Sequence

from ...errors import ScalecheckError
from ..backends import make_backend
from ..models import BYTES
from ..plan import EncodingCache, Setting, score
from ..tasks import Task
from .base import Event, Job, Options, Pending

# Weights plus activations, the key/value cache of a batch and the CUDA context: 1.3x the weights is what an
# inference-only scorer needs at the default batch budget (the budget halves on out-of-memory anyway).
_MEMORY_OVERHEAD = 1.3
# For a local cluster of our own: its workers do the run's work, so they run at the driver's priority (Ray starts
# workers at niceness 15, where any other busy process on a shared machine starves them).
LOCAL_SYSTEM_CONFIG = {"worker_niceness": 0}


class ModelWorker:
    """What runs inside a model's actor: load once, then stream the records of every pending chunk."""

    def __init__(self, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, int(threads)))  # one per CPU the actor holds: actors share the node
        # The rest of a worker's start-up (seconds of CPU): done now, so that an actor started ahead of its turn
        # (see RayExecutor) has it behind it when its turn comes.
        try:
            import transformers.modeling_utils  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401
        except ImportError:  # load() says what is missing, in one line
            pass

    def load(self, spec, batch_tokens: int | None, factory=None) -> dict:
        try:  # "auto" devices are resolved here, by the actor's own devices (make_backend)
            self.backend = make_backend(spec, batch_tokens=batch_tokens, factory=factory)
        except ScalecheckError as exc:  # as a plain ScalecheckError: InputError's signature does not unpickle
            raise ScalecheckError(str(exc)) from None
        import ray

        return {"params": (self.backend.n_params, self.backend.n_params_nonembed),
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "pid": os.getpid(),
                "node": ray.get_runtime_context().get_node_id()}

    def score(self, plan: tuple, work, chunk: int, encoded=None):
        """``encoded``: (tokenizer fingerprint, token ids of the work) from the driver, used when this model's
        tokenizer has that fingerprint (else this worker tokenises)."""
        tasks, settings = plan
        ids = encoded[1] if encoded is not None and encoded[0] == self.backend.fingerprint() else None
        yield from score(self.backend, tasks, settings, work, chunk, ids)

    def stats(self):
        return self.backend.stats


_REMOTE = None


def _remote_worker(backlog: int):
    """The actor class (Ray imported only now); ``backlog`` chunks may wait unread before a worker pauses."""
    global _REMOTE
    import ray

    if _REMOTE is None or _REMOTE[0] != backlog:
        def streamed(self, plan, work, chunk, encoded=None):
            yield from ModelWorker.score(self, plan, work, chunk, encoded)

        # Backpressure: a worker runs at most `backlog` chunks ahead of the driver's reading (bounded memory).
        cls = type("ModelWorker", (ModelWorker,), {
            "score": ray.method(num_returns="streaming", _generator_backpressure_num_objects=backlog)(streamed)})
        cls.__module__ = __name__
        _REMOTE = (backlog, ray.remote(cls))
    return _REMOTE[1]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class RayExecutor:
    """Run each model of a plan in its own Ray actor (see the module doc).

    ``address``: a running cluster ("auto", "HOST:6379", "ray://HOST:10001"); None starts a local one unless
    Ray is already initialised in this process (then that cluster is used and left running).
    ``cpus_per_model``: CPUs (and torch threads) of each actor. ``gpus_per_model``: GPUs of every actor,
    overriding the ladder's ``gpus`` and the estimate from the model's size and ``gpu_memory`` (GiB per GPU;
    default: measured on the cluster when a model needs an estimate). ``max_restarts``: per model.
    ``ahead``: on a one-node cluster, how many CPU-only models' actors may start before a CPU is free for them
    (default: as many as models run at once; 0: none).
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, cpus_per_model: float = 1, gpus_per_model: float | None = None,
                 gpu_memory: float | None = None, max_restarts: int = 3, backlog: int = 8,
                 init_options: dict | None = None, ahead: int | None = None) -> None:
        if cpus_per_model <= 0 or (gpus_per_model is not None and gpus_per_model < 0):
            raise ScalecheckError("CPUs per model must be positive and GPUs per model not negative")
        self.address = address
        self.cpus_per_model = cpus_per_model
        self.gpus_per_model = gpus_per_model
        self.gpu_memory = gpu_memory
        self.max_restarts = max_restarts
        self.backlog = backlog
        self.init_options = init_options or {}
        self.ahead = ahead
        self.restarts: dict[str, int] = {}
        self.actors: dict[str, object] = {}  # live actors by model name (tests kill one to check recovery)
        self.placements: dict[str, dict] = {}
        self.started_ahead: list[str] = []  # models whose actor started before a CPU was free for it

    def describe(self) -> dict:
        return {"executor": self.name, "address": self.address, "restarts": dict(self.restarts),
                "started_ahead": list(self.started_ahead)}

    # --- resources -----------------------------------------------------------------------------------------

    def gpus_for(self, job: Job, measured_memory) -> float:
        """GPUs one copy of the model needs: given, from the ladder, else from its size and the GPUs' memory."""
        if self.gpus_per_model is not None:
            return self.gpus_per_model
        if job.spec.gpus is not None:
            return job.spec.gpus
        if not job.spec.on_gpu:
            return 0
        params = job.ladder_model.params
        if params is None:
            return 1
        need = params * BYTES[job.spec.dtype] * _MEMORY_OVERHEAD
        return float(max(1, math.ceil(need / (measured_memory() * 2**30))))

    def _measure_gpu_memory(self) -> float:
        """GiB of one GPU: as given, else asked of a GPU worker of the cluster (once)."""
        if self.gpu_memory is None:
            import ray

            if ray.cluster_resources().get("GPU", 0) < 1:
                raise ScalecheckError("the cluster has no GPU; run on the CPU (--device cpu) or add GPU nodes")

            @ray.remote(num_gpus=1)
            def total_memory() -> float:
                import torch

                return torch.cuda.get_device_properties(0).total_memory / 2**30

            try:
                self.gpu_memory = float(ray.get(total_memory.remote(), timeout=300))
            except Exception as exc:  # noqa: BLE001
                raise ScalecheckError(f"cannot measure the GPUs' memory ({_first_line(exc)}); "
                                      "give --gpu-memory GIB or each model's gpus in the ladder") from None
        return self.gpu_memory

    def check_feasible(self, requests: dict[int, tuple[float, float]], jobs: Sequence[Job]) -> None:
        """Refuse, in one line, a request that no node of the cluster can ever hold."""
        import ray

        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        if not nodes:
            raise ScalecheckError("the Ray cluster has no live node")
        for i, (cpus, gpus) in requests.items():
            if not any(n.get("CPU", 0) >= cpus and n.get("GPU", 0) >= gpus for n in nodes):
                best = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)))
                raise ScalecheckError(
                    f"model {jobs[i].ladder_model.name!r} needs {gpus:g} GPU(s) and {cpus:g} CPU(s) on one node, "
                    f"but the largest node of the Ray cluster has {best.get('GPU', 0):g} GPU(s) and "
                    f"{best.get('CPU', 0):g} CPU(s) ({len(nodes)} node(s)); nothing was submitted")

    # --- running -------------------------------------------------------------------------------------------

    def run(self, jobs: Sequence[Job], tasks: Sequence[Task], settings: Sequence[Setting], options: Options,
            pending: Pending) -> Iterator[Event]:
        try:
            import ray
        except ImportError:
            raise ScalecheckError("the Ray executor needs Ray: pip install 'scalecheck[ray]'") from None
        started = False
        if not ray.is_initialized():
            # Ray's own settings, named apart from the scoring `options` passed on to the actors below.
            init = dict(self.init_options)
            if self.address is None:
                init.setdefault("_system_config", dict(LOCAL_SYSTEM_CONFIG))
            try:
                ray.init(address=self.address, include_dashboard=False, **init)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ScalecheckError(f"cannot reach the Ray cluster at {self.address or 'a new local one'}: "
                                      f"{_first_line(exc)}") from None
            started = True
        try:
            yield from self._run(ray, jobs, tasks, settings, options, pending)
        finally:
            for actor in list(self.actors.values()):
                ray.kill(actor)
            self.actors.clear()
            if started:
                ray.shutdown()

    def _run(self, ray, jobs, tasks, settings, options, pending) -> Iterator[Event]:
        sched = self._schedule(ray, jobs)
        plan_ref = ray.put((tuple(tasks), tuple(settings)))
        encodings = _DriverEncodings(ray, tasks, settings)
        worker_cls = _remote_worker(self.backlog)
        events: queue.Queue = queue.Queue()

        def launch(job: Job, gate: threading.Event | None = None) -> None:
            cpus, gpus = sched.requests[job.model]
            actor = worker_cls.options(num_cpus=cpus if gate is None else 0, num_gpus=gpus, max_restarts=0,
                                       name=None).remote(max(1, int(cpus)))
            self.actors[job.ladder_model.name] = actor
            threading.Thread(target=self._drain, daemon=True,
                             args=(ray, actor, job, plan_ref, options, events, encodings, gate)).start()

        while sched.waiting or sched.running or sched.warming:
            self._start(sched, launch)
            kind, i, payload = events.get()
            if i not in sched.running:
                continue  # a message from an actor already given up on
            yield from self._handle(ray, kind, i, payload, sched, jobs, pending, launch)

    def _schedule(self, ray, jobs: Sequence[Job]) -> _Schedule:
        """What this run must score, what each model asks of the cluster, and what the cluster has free."""
        todo = [j for j in jobs if j.todo]
        requests = {j.model: (self.cpus_per_model, self.gpus_for(j, self._measure_gpu_memory)) for j in todo}
        self.check_feasible(requests, jobs)
        total = ray.cluster_resources()
        free = {"CPU": total.get("CPU", 0.0), "GPU": total.get("GPU", 0.0)}
        ahead = self.ahead if self.ahead is not None else max(1, int(free["CPU"] // self.cpus_per_model))
        if len([n for n in ray.nodes() if n.get("Alive")]) != 1:
            ahead = 0
        # Largest first (unknown sizes after known ones), then ladder order.
        waiting = sorted(todo, key=lambda j: (-(j.ladder_model.params or 0), j.model))
        return _Schedule(requests, free, waiting, ahead)

    def _start(self, sched: _Schedule, launch) -> None:
        """Start every model whose turn has come, and start ahead those that may (see :class:`_Schedule`)."""
        for i, (job, gate) in list(sched.warming.items()):  # started ahead, in their turn: largest first
            if sched.fits(job) or not sched.running:
                del sched.warming[i]
                sched.admit(job)
                gate.set()
        for job in list(sched.waiting):
            # A lone job always starts (the check in _schedule proved some node can hold it).
            if not sched.warming and (sched.fits(job) or not sched.running):
                sched.waiting.remove(job)
                sched.admit(job)
                launch(job)
        for job in list(sched.waiting):
            if len(sched.warming) >= sched.ahead or sched.starting:
                break
            if sched.requests[job.model][1] == 0:
                sched.waiting.remove(job)
                sched.warming[job.model] = (job, threading.Event())
                self.started_ahead.append(job.ladder_model.name)
                launch(job, sched.warming[job.model][1])

    def _handle(self, ray, kind: str, i: int, payload, sched: _Schedule, jobs: Sequence[Job], pending: Pending,
                launch) -> Iterator[Event]:
        """One message of an actor, as the driver's events; a dead actor's rest started again."""
        name = jobs[i].ladder_model.name
        if kind == "loaded":
            sched.starting.discard(i)
            self.placements[name] = {k: payload.get(k) for k in ("cuda_visible_devices", "pid", "node")}
            yield Event("loaded", i, params=payload["params"], placement=dict(self.placements[name]))
        elif kind == "chunk":
            t, s, recs = payload
            yield Event("chunk", i, t, s, recs)
        elif kind == "done":
            sched.starting.discard(i)
            ray.kill(self.actors.pop(name))
            sched.release(i)
            yield Event("done", i, stats=payload)
        elif kind == "died":
            sched.starting.discard(i)
            ray.kill(self.actors.pop(name))
            self.restarts[name] = self.restarts.get(name, 0) + 1
            if self.restarts[name] > self.max_restarts:
                raise ScalecheckError(f"the worker of model {name!r} died {self.restarts[name]} times "
                                      f"(last: {_first_line(payload)}); what it scored is kept in the store")
            again = pending(i)  # the store now holds every chunk the dead actor delivered
            if not again.todo:
                sched.release(i)
                return
            sched.running[i] = again
            sched.starting.add(i)
            launch(again)
        else:  # "failed": an error of the model or the input, the same on any worker: not retried
            raise payload

    @staticmethod
    def _drain(ray, actor, job: Job, plan_ref, options: Options, events: queue.Queue, encodings,
               gate: threading.Event | None = None) -> None:
        """In a driver thread: run one actor's work and pass what it streams to the driver's loop; an actor
        started ahead of its turn loads only once its ``gate`` opens."""
        from ray.exceptions import RayActorError, RayTaskError

        from ..backends import get_backend

        try:
            factory = get_backend(job.spec.backend)  # shipped to the actor: its registry has only built-ins
            # The driver tokenises while the actor starts (a new process importing torch: seconds of CPU).
            if gate is None:
                loading = actor.load.remote(job.spec, options.batch_tokens, factory)
                encoded = encodings(job)
            else:
                encoded = encodings(job)
                gate.wait()
                loading = actor.load.remote(job.spec, options.batch_tokens, factory)
            info = ray.get(loading)
            events.put(("loaded", job.model, info))
            for ref in actor.score.remote(plan_ref, job.work, options.chunk, encoded):
                events.put(("chunk", job.model, ray.get(ref)))
            events.put(("done", job.model, ray.get(actor.stats.remote())))
        except RayActorError as exc:  # the actor died (killed, node lost, out of memory): redo its rest
            events.put(("died", job.model, exc))
        except RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, ScalecheckError) else ScalecheckError(
                f"model {job.ladder_model.name!r} failed on its Ray worker: {_first_line(exc.cause or exc)}")
            events.put(("failed", job.model, cause))
        except Exception as exc:  # noqa: BLE001  anything else stops the run with one line
            events.put(("failed", job.model, ScalecheckError(
                f"model {job.ladder_model.name!r}: {type(exc).__name__}: {_first_line(exc)}")))


class _Schedule:
    """One run's scheduling state: the models waiting (largest first), those running (holding their CPUs and
    GPUs), those still loading, and those started ahead of their turn.

    Started ahead, holding nothing yet (``warming``): on one node (our count of free CPUs is then the node's), a
    CPU-only model's actor starts while others score, so that its start-up (a process importing torch and
    transformers, as long as a tiny model's scoring) is behind it when a CPU frees; it waits on its gate to load
    and score. Only once every running actor has loaded (start-ups all at once only delay the first models), and
    not for GPU models (Ray assigns GPUs only when an actor is created).
    """

    def __init__(self, requests: dict[int, tuple[float, float]], free: dict[str, float], waiting: list[Job],
                 ahead: int) -> None:
        self.requests, self.free, self.waiting, self.ahead = requests, free, waiting, ahead
        self.running: dict[int, Job] = {}
        self.warming: dict[int, tuple[Job, threading.Event]] = {}
        self.starting: set[int] = set()  # admitted, not loaded yet

    def fits(self, job: Job) -> bool:
        cpus, gpus = self.requests[job.model]
        return cpus <= self.free["CPU"] + 1e-9 and gpus <= self.free["GPU"] + 1e-9

    def admit(self, job: Job) -> None:
        self.running[job.model] = job
        self.starting.add(job.model)
        self.free["CPU"] -= self.requests[job.model][0]
        self.free["GPU"] -= self.requests[job.model][1]

    def release(self, i: int) -> None:
        del self.running[i]
        self.free["CPU"] += self.requests[i][0]
        self.free["GPU"] += self.requests[i][1]


class _DriverEncodings:
    """The driver's side of tokenisation: each model's work tokenised once per distinct tokenizer (a ladder's
    models usually share one), put in the object store once and handed to every actor that needs it, so no
    actor spends its CPU tokenising. A tokenizer the driver cannot load (the model is staged on the workers
    only) leaves the actor to tokenise for itself."""

    def __init__(self, ray, tasks, settings) -> None:
        self.ray, self.tasks, self.settings = ray, tasks, settings
        self.cache = EncodingCache()
        self.lock = threading.Lock()
        self.tokenizing = threading.Lock()  # one tokenizer call at a time (a fast tokenizer is not re-entrant)
        self.encoders: dict = {}
        self.refs: dict = {}

    def __call__(self, job: Job):
        from ..backends.hf import Encoder, load_tokenizer

        spec = job.spec
        where = (spec.location, spec.revision, spec.trust_remote_code, spec.add_special_tokens)
        try:
            with self.tokenizing:
                encoder = self.encoders.get(where)
                if encoder is None:
                    encoder = self.encoders[where] = Encoder(load_tokenizer(spec), spec.add_special_tokens)
                ids = self.cache.get(encoder, self.tasks, self.settings, job.work)
        except Exception:  # noqa: BLE001  the actor tokenises instead (and reports any real error itself)
            return None
        key = (encoder.fingerprint(), tuple(sorted(ids)))
        with self.lock:
            if key not in self.refs:
                self.refs[key] = self.ray.put((key[0], ids))
            return self.refs[key]
