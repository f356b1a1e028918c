"""Backends: what loads a model and scores continuations (:class:`Scorer`), registered by name.

- :mod:`.base`: the :class:`Scorer` protocol, :func:`register_backend`, :func:`make_backend` (the one place a
  model is loaded) and :func:`check_backend` (the contract, run by the tests over every registered backend);
- :mod:`.hf`: :class:`~.hf.HFBackend`, Hugging Face transformers (folders, hub ids, GGUF files), the reference,
  registered as ``"hf"``.

Nothing here imports torch until a model is loaded (a Ray worker imports this package at start-up).
"""

from .base import (
    BackendStats,
    Request,
    Scorer,
    backend_names,
    check_backend,
    get_backend,
    make_backend,
    register_backend,
    unregister_backend,
)

__all__ = ["BackendStats", "Request", "Scorer", "backend_names", "check_backend", "get_backend", "make_backend",
           "register_backend", "unregister_backend"]
