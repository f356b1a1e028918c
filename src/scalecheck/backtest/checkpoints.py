"""Checkpoints of one training run (defined in :mod:`scalecheck.observations.checkpoints`)."""

from ..observations.checkpoints import final_checkpoints, final_models, has_checkpoints

__all__ = ["final_checkpoints", "final_models", "has_checkpoints"]
