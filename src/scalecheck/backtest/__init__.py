"""Backtests: will this law extrapolate? Fit on the smaller models, predict the larger ones, score it.

:func:`backtest` runs an expanding window over model sizes, leave-largest-out, or declared hold-outs on any
testbed; :func:`ladder_prediction` (:mod:`.two_step`) is the two-step prediction (scale -> task loss ->
accuracy) of Bhagia et al. 2024, whose paper presets live with the OLMo ladder importer
(:mod:`scalecheck.sources.olmo_ladder`).
"""

from .engine import (
           CALIBRATION_LEVELS,
           PREDICTION_COLUMNS,
           SUMMARY_COLUMNS,
           Backtest,
           BacktestOptions,
           backtest,
           calibration,
           summarise,
           testbed_series,
)
from .two_step import PAPER_SELECTION, LadderPrediction, LadderPredictionOptions, ladder_prediction
from .windows import SCHEMES, Split, expanding_splits, holdout_models, leave_largest_out, size_ranks, splits

__all__ = ["Backtest", "BacktestOptions", "backtest", "calibration", "CALIBRATION_LEVELS", "summarise", "testbed_series", "PREDICTION_COLUMNS", "SUMMARY_COLUMNS",
           "SCHEMES", "Split", "splits", "expanding_splits", "leave_largest_out", "size_ranks", "holdout_models",
           "LadderPrediction", "LadderPredictionOptions", "PAPER_SELECTION", "ladder_prediction"]
