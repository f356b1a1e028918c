"""Observations: the tidy testbed (models, scores, tasks), the series selected from it, and the selection that
every analysis starts from."""

from .checkpoints import final_checkpoints, final_models, has_checkpoints
from .composite import add_composite_task
from .load import load
from .selection import CHECKPOINTS, Selection
from .series import Series
from .testbed import Testbed

__all__ = ["Testbed", "Series", "load", "Selection", "CHECKPOINTS", "add_composite_task", "final_models",
           "final_checkpoints", "has_checkpoints"]
