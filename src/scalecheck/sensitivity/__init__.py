"""Sensitivity: does the verdict survive a benign change (validation set, corpus, metric or setting)?"""

from .engine import (
           FACTORS,
           Sensitivity,
           SensitivityOptions,
           default_setting,
           matched_loss_comparison,
           sensitivity,
           settings_of,
           trend_sign,
)

__all__ = ["Sensitivity", "SensitivityOptions", "sensitivity", "FACTORS", "default_setting", "settings_of", "trend_sign",
           "matched_loss_comparison"]
