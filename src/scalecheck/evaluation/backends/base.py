"""The scoring contract and the registry of backends, as lm-evaluation-harness names its ``LM`` and ``register_model``.

A backend is a :class:`Scorer`: built from a :class:`~scalecheck.evaluation.models.ModelSpec` by the factory
registered under its name (``spec.backend``, ``"hf"`` by default), it tokenises ``(context, continuation)`` pairs
(:meth:`Scorer.encode_pairs`), scores token-id requests (:meth:`Scorer.loglikelihoods`) and names its tokenizer
(:meth:`Scorer.fingerprint`: two scorers with one fingerprint tokenise alike, so a driver tokenises a plan once for
both). Every executor builds its backends through :func:`make_backend` and nowhere else.

A new backend::

    from scalecheck.evaluation.backends import register_backend, check_backend

    register_backend("vllm", VLLMScorer)         # VLLMScorer(spec, batch_tokens=None) -> a Scorer
    check_backend("vllm", ModelSpec("EleutherAI/pythia-70m", backend="vllm"))   # the contract, on a real model

:func:`check_backend` runs the contract the plan and the executors rely on (as :func:`scalecheck.laws.check_form`
does for law forms); the tests run it over every registered backend.
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ...errors import ScalecheckError, did_you_mean

if TYPE_CHECKING:
    from ..models import ModelSpec

Request = tuple[tuple[int, ...], tuple[int, ...]]  # (context token ids, continuation token ids)


@dataclass
class BackendStats:
    """What a backend did: tokens fed to the model (without padding), forward passes, seconds in them."""

    requests: int = 0
    unique_requests: int = 0
    contexts: int = 0
    tokens: int = 0
    padded_tokens: int = 0
    forwards: int = 0
    oom_retries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@runtime_checkable
class Scorer(Protocol):
    """A loaded model that scores continuations: what the plan (:func:`..plan.score`) and the executors use."""

    spec: ModelSpec
    stats: BackendStats
    n_params: int | None  # parameters, and less the embeddings (None: the backend cannot tell)
    n_params_nonembed: int | None

    def encode_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Request]:
        """Token ids of each (context, continuation), split at their boundary."""

    def loglikelihoods(self, requests: Sequence[Request]) -> list[float]:
        """Summed natural-log probability of each continuation given its context (0 for no tokens), in order;
        the same value for a request whatever else is in the call."""

    def fingerprint(self) -> str:
        """Identifies the tokenisation: equal fingerprints give equal :meth:`encode_pairs`."""


Factory = Callable[..., Scorer]  # factory(spec, *, batch_tokens=None) -> Scorer

# name -> factory, or "module:attribute" imported on first use (a backend's heavy imports wait for its first model).
_BACKENDS: dict[str, Factory | str] = {"hf": "scalecheck.evaluation.backends.hf:HFBackend"}


def register_backend(name: str, factory: Factory | str | None = None, *, replace: bool = False):
    """Make a backend known by ``name`` (``ModelSpec(..., backend=name)``); usable as a decorator.

    ``factory(spec, *, batch_tokens=None)`` returns a :class:`Scorer`; a ``"module:attribute"`` string is imported
    on first use. A name already taken is an error unless ``replace=True``. Run :func:`check_backend` on it first.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a backend needs a non-empty name")

    def add(f):
        if name in _BACKENDS and not replace and _BACKENDS[name] is not f:
            raise ValueError(f"backend {name!r} is already registered (pass replace=True to replace it)")
        _BACKENDS[name] = f
        return f

    return add if factory is None else add(factory)


def unregister_backend(name: str) -> None:
    _BACKENDS.pop(name, None)


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def get_backend(name: str) -> Factory:
    """The factory registered as ``name``; an unknown name is refused in one line with the closest names."""
    try:
        found = _BACKENDS[name]
    except (KeyError, TypeError):
        raise ScalecheckError(f"unknown backend {name!r}{did_you_mean(name, _BACKENDS)}; known: "
                              f"{', '.join(backend_names())}") from None
    if isinstance(found, str):
        module, attr = found.split(":")
        found = _BACKENDS[name] = getattr(importlib.import_module(module), attr)
    return found


def make_backend(spec: ModelSpec, *, batch_tokens: int | None = None, factory: Factory | None = None) -> Scorer:
    """The one place a model is loaded: the spec's backend builds a :class:`Scorer` of it, on this machine's
    devices (``device="auto"`` is resolved here). ``factory``: the backend's factory as the driver found it in
    its registry (a Ray worker's registry holds only the built-in backends)."""
    return (factory or get_backend(spec.backend))(spec.resolved(), batch_tokens=batch_tokens)


# --- the contract ------------------------------------------------------------------------------------------------

_PAIRS = [("The capital of France is", " Paris"), ("The capital of France is", " London"),
          ("Q: Is the sky green?\nA:", " No"), ("Q: Is the sky green?\nA:", " Yes, it is green"),
          ("Repeat after me: cat dog cat dog", " cat dog"), ("", "Hello there"), ("A list: 1, 2, 3,", " 4, 5"),
          ("trailing space ", "word")]


def _fail(name: str, what: str) -> AssertionError:
    return AssertionError(f"backend {name!r} breaks the scoring contract: {what}")


def check_backend(backend: str | Factory, spec: ModelSpec, *, tolerance: float = 1e-4, seed: int = 0) -> Scorer:
    """Check a backend against the contract the plan and the executors rely on; raise AssertionError saying what
    breaks, else return the loaded scorer.

    On ``spec`` (a small model will do): it builds a :class:`Scorer`; ``fingerprint`` is a stable string;
    ``encode_pairs`` gives one pair of int tuples per pair, a non-empty continuation for a non-empty one, and the
    same ids again; ``loglikelihoods`` gives one finite value <= 0 per request, 0 for an empty continuation, and
    the same value for a request alone, in a batch, shuffled, or repeated (within ``tolerance`` nats: batching
    may change float rounding, never the result); parameter counts are positive integers or None; ``stats``
    counts requests.
    """
    name = backend if isinstance(backend, str) else getattr(backend, "__name__", repr(backend))
    factory = get_backend(backend) if isinstance(backend, str) else backend
    try:
        scorer = factory(spec, batch_tokens=None)
    except ScalecheckError as exc:
        raise _fail(name, f"cannot build a scorer of {spec.location!r}: {exc}") from None
    _check_surface(name, scorer)
    requests = _check_encoding(name, scorer)
    _check_scores(name, scorer, requests, tolerance, seed)
    return scorer


def _check_surface(name: str, scorer) -> None:
    """The scorer's attributes and methods, its fingerprint and its parameter counts."""
    for attr in ("spec", "stats", "n_params", "n_params_nonembed"):
        if not hasattr(scorer, attr):
            raise _fail(name, f"the scorer has no {attr!r}")
    if not isinstance(scorer, Scorer):
        raise _fail(name, "the scorer lacks encode_pairs, loglikelihoods or fingerprint")
    fp = scorer.fingerprint()
    if not isinstance(fp, str) or not fp or scorer.fingerprint() != fp:
        raise _fail(name, "fingerprint() is not one stable, non-empty string")
    for attr in ("n_params", "n_params_nonembed"):
        v = getattr(scorer, attr)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
            raise _fail(name, f"{attr} is {v!r}, not a positive integer or None")


def _check_encoding(name: str, scorer: Scorer) -> list[Request]:
    """``encode_pairs`` on the test pairs: two tuples of ints each, non-empty where the text is, the same ids
    again; returns the requests."""
    requests = scorer.encode_pairs(_PAIRS)
    if len(requests) != len(_PAIRS):
        raise _fail(name, f"encode_pairs gave {len(requests)} requests for {len(_PAIRS)} pairs")
    for (ctx_text, cont_text), req in zip(_PAIRS, requests, strict=True):
        ok = isinstance(req, tuple) and len(req) == 2 and all(
            isinstance(part, tuple) and all(isinstance(t, int) and not isinstance(t, bool) for t in part)
            for part in req)
        if not ok:
            raise _fail(name, f"encode_pairs gave {req!r} for {(ctx_text, cont_text)!r}, not two tuples of ints")
        if not req[0] or (cont_text and not req[1]):
            raise _fail(name, f"encode_pairs gave an empty context or continuation for {(ctx_text, cont_text)!r}")
    if scorer.encode_pairs(_PAIRS) != requests:
        raise _fail(name, "encode_pairs gives other ids for the same pairs")
    return requests


def _check_scores(name: str, scorer: Scorer, requests: list[Request], tolerance: float, seed: int) -> None:
    """``loglikelihoods``: finite values <= 0, counted in the stats, 0 for an empty continuation, and the same
    value for a request alone, in a batch, shuffled or repeated."""
    before = scorer.stats.requests
    together = scorer.loglikelihoods(requests)
    if len(together) != len(requests):
        raise _fail(name, f"loglikelihoods gave {len(together)} values for {len(requests)} requests")
    if not all(isinstance(v, float) and math.isfinite(v) and v <= 0 for v in together):
        raise _fail(name, f"loglikelihoods gave values that are not finite floats <= 0: {together}")
    if scorer.stats.requests - before < len(requests):
        raise _fail(name, "stats.requests does not count the requests scored")
    empty = scorer.loglikelihoods([(requests[0][0], ())])
    if empty != [0.0]:
        raise _fail(name, f"an empty continuation scored {empty}, not [0.0]")
    alone = [v for r in requests for v in scorer.loglikelihoods([r])]
    order = list(range(len(requests)))
    random.Random(seed).shuffle(order)
    shuffled = scorer.loglikelihoods([requests[i] for i in order] + [requests[order[0]]])
    unshuffled = [0.0] * len(requests)
    for k, i in enumerate(order):
        unshuffled[i] = shuffled[k]
    for label, other in (("alone", alone), ("shuffled", unshuffled),
                         ("repeated", [shuffled[-1] if i == order[0] else v for i, v in enumerate(unshuffled)])):
        worst = max(abs(a - b) for a, b in zip(together, other, strict=True))
        if worst > tolerance:
            raise _fail(name, f"a request scored {label} differs from the same request in a batch by {worst:.3g} "
                              f"nats (tolerance {tolerance:g})")
