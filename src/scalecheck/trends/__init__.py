"""Trends: which of six behaviours each task's scaling shows, by stated and simulation-tested criteria.

``classify(series)`` gives one :class:`Verdict` (category, confidence, reason, evidence, fitted law);
``reality_check(testbed)`` classifies every task over the whole testbed and per corpus. The criteria and their
thresholds are in :mod:`scalecheck.trends.classify`; the shape tests in :mod:`scalecheck.trends.evidence`;
simulated series of each shape in :mod:`scalecheck.trends.synthetic`.
"""

from .classify import CATEGORIES, EVIDENCE_KEYS, THRESHOLDS, Verdict, classify
from .reality import ALL, RealityCheck, reality_check

__all__ = ["CATEGORIES", "EVIDENCE_KEYS", "THRESHOLDS", "Verdict", "classify", "RealityCheck", "reality_check", "ALL"]
