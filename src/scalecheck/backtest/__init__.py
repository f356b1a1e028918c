"""Backtests: will this law extrapolate? Fit on the smaller models, predict the larger ones, score it.

:func:`backtest` runs an expanding window over model sizes, leave-largest-out, or declared hold-outs on any
testbed; :func:`ladder_prediction` is the two-step ladder chain (scale -> task loss -> accuracy) of Bhagia et
al. 2024 on the OLMo ladder.
"""

from .checkpoints import final_checkpoints, final_models
from .engine import (
           CALIBRATION_LEVELS,
           PREDICTION_COLUMNS,
           SUMMARY_COLUMNS,
           Backtest,
           backtest,
           calibration,
           default_x,
           summarise,
           testbed_series,
)
from .ladder import PAPER_TASKS, LadderPrediction, ladder_prediction, paper_predictions, paper_setup
from .windows import SCHEMES, Split, expanding_splits, holdout_models, leave_largest_out, size_ranks, splits

__all__ = ["Backtest", "backtest", "calibration", "CALIBRATION_LEVELS", "summarise", "default_x", "testbed_series", "PREDICTION_COLUMNS",
           "SUMMARY_COLUMNS", "SCHEMES", "Split", "splits", "expanding_splits", "leave_largest_out", "size_ranks",
           "holdout_models", "LadderPrediction", "ladder_prediction", "paper_setup", "paper_predictions",
           "PAPER_TASKS", "final_models", "final_checkpoints"]
