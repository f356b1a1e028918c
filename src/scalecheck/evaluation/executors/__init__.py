"""Executors: who runs a plan's models (:mod:`.base`: the contract; :mod:`.local`: in this process, the default
and the reference; :mod:`.ray`: one Ray actor per model across a cluster). Nothing here imports ray or torch at
import time."""

from .base import Event, Executor, Job, Options, Pending
from .local import LocalExecutor
from .ray import RayExecutor

__all__ = ["Event", "Executor", "Job", "LocalExecutor", "Options", "Pending", "RayExecutor"]
