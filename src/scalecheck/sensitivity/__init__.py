"""Sensitivity: does the verdict survive a benign change (validation set, corpus, metric or setting)?"""

from .engine import (
           FACTORS,
           Sensitivity,
           default_setting,
           matched_loss_comparison,
           sensitivity,
           settings_of,
           trend_sign,
)

__all__ = ["Sensitivity", "sensitivity", "FACTORS", "default_setting", "settings_of", "trend_sign",
           "matched_loss_comparison"]
