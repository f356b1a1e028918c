"""Observations: the tidy testbed (models, scores, tasks) and the series selected from it."""

from .load import load
from .series import Series
from .testbed import Testbed

__all__ = ["Testbed", "Series", "load"]
