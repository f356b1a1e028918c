"""The Inverse Scaling Prize's analysis of one testbed, automated.

For every task, metric and setting (shots, variant) of a testbed:

* **over scale**: each family's final checkpoints against training FLOPs (or params), one series per family;
  and, where the testbed holds intermediate checkpoints, the same at every checkpoint (the models of one step),
  which is how far across training the trend over scale holds;
* **over training**: each run's checkpoints against tokens, one series per size.

Each series gets the verdict of the one trends classifier (:func:`scalecheck.trends.classify`), with trends
detected at this analysis's ``alpha`` rather than the reality check's 1e-3 guard (the p-values are adjusted here,
over every test, instead), read in the Prize's terms (:func:`prize_term`), with its effect: the change from the smallest scale to the largest, or to and
from the turn, in metric units, in points (x100, for proportions) and in standard errors of that difference.

Significance: each series also gets one p-value. For a monotone or flat verdict it is the classifier's own trend
p (the smallest of its law-vs-constant, Spearman and floor-then-rise tests), times 3 for taking the smallest; for a
turn, the quadratic term of a weighted least-squares regression on log x (statsmodels WLS, weights 1/se^2 with no
point trusted more than the typical one, the standard errors scaled up by any scatter beyond sampling noise). The
p-values of every test of a run (task x metric x setting x
analysis x scope) are adjusted together, by default by Benjamini and Hochberg's method (false discovery rate
``alpha``: among the declines called significant, at most that share are expected to be chance; a screen over many
tasks and scopes, where Holm's family-wise control would hide any 8-model trend behind ~200 tests), or by Holm's
(``correction="holm"``, family-wise error rate). A series that is the same points as another (the last checkpoint's
models are the final models) is one test, not two. The grid model
(:mod:`.grid`) is adjusted as its own family of tests.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SelectionError
from ..observations import Selection, Series, Testbed
from ..observations.checkpoints import final_models, has_checkpoints
from ..observations.series import binomial_sd
from ..progress import Progress, report
from ..schema import SCALE_AXES
from ..tables import ReportFiles, write_tables
from ..trends import Verdict, classify
from ..trends.evidence import better_sign, scale_axis
from .grid import GridFit, adjust_grid, fit_grid

# The Prize's words for a trend, from the classifier's category and shape.
PRIZE_TERMS = ("inverse", "inverted-U", "U-shaped", "standard", "flat", "noisy", "insufficient-data")
TERM_MEANING = {
    "inverse": "gets worse as scale (or training) grows",
    "inverted-U": "gets better, then worse: the largest models lose what the middle ones had",
    "U-shaped": "gets worse, then better again: the inverse trend reverses within the range",
    "standard": "gets better as scale grows (the classifier's predictable or breakthrough trends)",
    "flat": "no detectable trend, the points within their sampling noise (the classifier's trendless)",
    "noisy": "swings far beyond its sampling noise with no trend to name (the classifier's noisy, or a trendless "
             "series scattering as far): neither flat nor a trend",
    "insufficient-data": "too few models or a constant series: no verdict",
}
# Terms that name a trend: only these can be significant (a star on "flat" would say "no trend, significantly").
TRENDS = frozenset({"inverse", "inverted-U", "U-shaped", "standard"})
# Terms under which the largest scale is worse than some smaller one, ending on a decline.
DECLINING = frozenset({"inverse", "inverted-U"})
# Which stretch of the series each term's decline measures (smallest and largest are the scale's ends).
DECLINE_STRETCH = {"inverse": "smallest to largest", "standard": "smallest to largest",
                   "flat": "smallest to largest", "noisy": "smallest to largest",
                   "inverted-U": "turn to largest", "U-shaped": "smallest to turn", "insufficient-data": ""}
ANALYSES = ("scale", "scale@checkpoint", "training")
CORRECTION = "fdr_bh"  # statsmodels.stats.multitest.multipletests method
CORRECTIONS = {"fdr_bh": "Benjamini-Hochberg (false discovery rate)", "holm": "Holm (family-wise error rate)"}
ALPHA = 0.05


def prize_term(v: Verdict) -> str:
    """The classifier's verdict in the Prize's words (see :data:`TERM_MEANING`)."""
    if v.category == "inverse":
        return "inverse"
    if v.category == "non-monotonic":
        return v.shape if v.shape in ("inverted-U", "U-shaped") else "insufficient-data"
    if v.category in ("predictable", "breakthrough"):
        return "standard"
    if v.category == "noisy":
        return "noisy"
    if v.category == "trendless":
        return "noisy" if _scatters_beyond_noise(v) else "flat"
    return "insufficient-data"


# A trendless series "swings far beyond its noise" when its variance about its mean is at least this many times
# the sampling variance and a chi2 test rejects pure sampling noise at this level. Principle, not labels: three
# times the noise is what a reader sees as scatter, and 1e-3 is the guard used across the hundreds of series here.
SWING_MIN_DISPERSION = 3.0
SWING_ALPHA = 1e-3


def _scatters_beyond_noise(v: Verdict) -> bool:
    """Whether a trendless series swings about its mean far beyond its sampling noise (:data:`SWING_MIN_DISPERSION`
    at :data:`SWING_ALPHA`): no trend, yet not flat either."""
    from scipy import stats

    chi2, n = v.evidence.get("chi2_const", float("nan")), v.evidence.get("n_models", float("nan"))
    if not (np.isfinite(chi2) and np.isfinite(n) and n > 1):
        return False
    dof = n - 1
    return bool(chi2 / dof >= SWING_MIN_DISPERSION and stats.chi2.sf(chi2, dof) < SWING_ALPHA)


@dataclass(frozen=True)
class TrendTest:
    """One series' verdict in the Prize's terms, its effect, its test and (once adjusted) its significance.

    ``decline`` is how much worse the metric gets (positive: worse; in metric units, oriented so that a rising
    loss is a decline too) over the stretch ``decline_from`` names: from the smallest scale to the largest for a
    monotone, flat or noisy verdict, from the turn to the largest for an inverted-U, from the smallest to the
    turn for a U. ``change`` is last minus first, raw. ``significant`` is only ever true for a trend
    (:data:`TRENDS`): the p-value of a flat or noisy series is adjusted with the rest but names no finding.
    """

    task: str
    metric: str
    shots: int | None
    variant: str
    analysis: str  # "scale", "scale@checkpoint" or "training"
    scope: str  # the family (over scale), "family step N" (at a checkpoint) or the size (over training)
    family: str  # the family (value of ``by``) the series belongs to; "all" when every model is pooled
    x: str
    term: str
    category: str
    confidence: float
    reason: str
    n_points: int
    first_x: float
    last_x: float
    turn_x: float
    first_y: float
    last_y: float
    turn_y: float
    change: float
    decline: float
    decline_points: float
    decline_se: float
    decline_from: str  # the stretch the decline measures (DECLINE_STRETCH): "smallest to largest", ...
    monotone_share: float  # share of steps between neighbouring points that go the verdict's way
    spearman_rho: float
    test: str  # "trend" (the classifier's trend p, x3), or "quadratic"/"slope" (WLS in log x)
    statistic: float
    p_value: float
    p_adjusted: float = float("nan")
    significant: bool = False

    @property
    def declining(self) -> bool:
        return self.term in DECLINING

    @property
    def marked_term(self) -> str:
        """The term with a star where significant (only a trend can be)."""
        return self.term + ("*" if self.significant else "")

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def _wls_test(u: np.ndarray, y: np.ndarray, sd: np.ndarray, quadratic: bool) -> tuple[float, float]:
    """(t statistic, two-sided p) of the slope (or the quadratic term) of y on u (log x), by statsmodels WLS.

    The known sampling sds weight the fit; where the points scatter more than they explain (chi2/dof > 1) the
    standard errors are scaled up by it and a t distribution is used, else they stay at the sampling noise (z).
    """
    from scipy import stats
    from statsmodels.regression.linear_model import WLS

    uc = u - u.mean()
    X = np.column_stack([np.ones_like(uc), uc] + ([uc**2] if quadratic else []))
    if len(y) <= X.shape[1]:
        return float("nan"), float("nan")
    res = WLS(y, X, weights=1.0 / sd**2).fit()
    k = X.shape[1] - 1
    if res.scale > 1.0:
        t, p = float(res.tvalues[k]), float(res.pvalues[k])
    else:
        se = float(np.sqrt(np.linalg.inv(X.T @ (X / sd[:, None] ** 2))[k, k]))
        t = float(res.params[k] / se)
        p = float(2 * stats.norm.sf(abs(t)))
    return t, p


def trend_test(series: Series, verdict: Verdict, *, analysis: str, scope: str, family: str = "all") -> TrendTest:
    """Read one verdict in the Prize's terms and measure its effect and its test (not yet adjusted)."""
    term = prize_term(verdict)
    nan = float("nan")
    head = dict(task=series.task, metric=series.metric, shots=series.shots, variant=series.variant, analysis=analysis,
                scope=scope, family=family, x=series.x_name, term=term, category=verdict.category,
                confidence=float(verdict.confidence), reason=verdict.reason, decline_from=DECLINE_STRETCH[term])
    if len(series) == 0:
        return TrendTest(**head, n_points=0, **dict.fromkeys(_EFFECT_FIELDS, nan), test="slope", statistic=nan,
                         p_value=nan)
    order = series.scale_order
    x, y, sd = series.x[order], series.y[order], _sampling_sd(series, order)
    turn_x = float(verdict.evidence.get("turn_x", nan)) if term in ("inverted-U", "U-shaped") else nan
    t_idx = int(np.argmin(np.abs(x - turn_x))) if np.isfinite(turn_x) else -1
    effect = _effect(term, y, sd, t_idx, better_sign(series.higher_is_better), series.metric_is_proportion)
    stat, p, test = _p_value(series, verdict, term, x, y, sd)
    return TrendTest(**head, n_points=len(x), first_x=float(x[0]), last_x=float(x[-1]), turn_x=turn_x,
                     first_y=float(y[0]), last_y=float(y[-1]), turn_y=float(y[t_idx]) if t_idx >= 0 else nan,
                     change=float(y[-1] - y[0]), **effect, test=test, statistic=stat, p_value=p)


_EFFECT_FIELDS = ("first_x", "last_x", "turn_x", "first_y", "last_y", "turn_y", "change", "decline", "decline_points",
                  "decline_se", "monotone_share", "spearman_rho")


def _sampling_sd(series: Series, order: np.ndarray) -> np.ndarray:
    """Each point's sampling sd in scale order, never zero and never missing."""
    from ..trends.evidence import MIN_NOISE_SD

    sd = np.asarray(series.noise_sd, float)[order]
    n_ex = np.asarray(series.n_examples, float)[order]
    if series.metric_is_proportion:
        # A reported standard error of 0 (a score of exactly 0 or 1) is no certainty: the binomial sd of the
        # continuity-corrected share (p in [0.5/n, 1-0.5/n]) is the least noise such a score carries.
        sd = np.where(np.isfinite(n_ex), np.fmax(sd, binomial_sd(series.y[order], n_ex)), sd)
    fill = np.nanmedian(sd) if np.isfinite(sd).any() else 1.0
    return np.maximum(np.nan_to_num(sd, nan=fill), MIN_NOISE_SD)


def _effect(term: str, y: np.ndarray, sd: np.ndarray, t_idx: int, sign: float, proportion: bool) -> dict[str, float]:
    """The decline over the term's stretch (DECLINE_STRETCH), in metric units, points and standard errors; the
    share of steps going the term's way; Spearman's rho with scale (metric oriented so that up is better)."""
    from scipy import stats

    n, nan = len(y), float("nan")
    a, b = (t_idx, n - 1) if term == "inverted-U" and t_idx >= 0 else (0, t_idx) if term == "U-shaped" and \
        t_idx >= 0 else (0, n - 1)
    decline = float(sign * (y[a] - y[b]))
    steps = np.diff(sign * y)
    if term == "standard":
        arm, up = steps, True
    elif term == "U-shaped":
        arm, up = steps[:max(t_idx, 1)], False
    elif term == "inverted-U" and t_idx >= 0:
        arm, up = steps[t_idx:], False
    else:
        arm, up = steps, False
    monotone = float(np.mean(arm > 0 if up else arm < 0)) if len(arm) else nan
    rho = float(stats.spearmanr(np.arange(n), sign * y).statistic) if n > 2 and np.ptp(y) > 0 else nan
    return {"decline": decline, "decline_points": 100.0 * decline if proportion else nan,
            "decline_se": float(decline / math.sqrt(sd[a] ** 2 + sd[b] ** 2)), "monotone_share": monotone,
            "spearman_rho": rho}


def _p_value(series: Series, verdict: Verdict, term: str, x: np.ndarray, y: np.ndarray,
             sd: np.ndarray) -> tuple[float, float, str]:
    """(statistic, p, test name) of one series, before adjustment."""
    nan = float("nan")
    quadratic = term in ("inverted-U", "U-shaped")
    trend_p = float(verdict.evidence.get("trend_p", nan))
    if not quadratic and np.isfinite(trend_p):
        # The classifier's own evidence: the smallest of its three trend tests (law vs constant, Spearman,
        # floor-then-rise), times 3 for having taken the smallest (Bonferroni), so that the test and the verdict agree.
        return float(verdict.evidence.get("spearman_rho", nan)), min(1.0, 3.0 * trend_p), "trend"
    # A turn (the classifier tests none as a p-value) or no trend test run: the quadratic (or linear) term on the
    # scale axis the laws use (log x, or minus a loss), by WLS with no point trusted more than the series' typical
    # one (a score of exactly 0 or 1 has a tiny binomial sd that would otherwise carry the whole fit).
    u = scale_axis(x, series.x_is_loss)
    sd_w = np.maximum(sd, np.median(sd))
    stat, p = _wls_test(u, y, sd_w, quadratic) if np.ptp(y) > 0 and np.ptp(u) > 0 else (nan, nan)
    return stat, p, "quadratic" if quadratic else "slope"


def adjust(tests: list[TrendTest], method: str = CORRECTION, alpha: float = ALPHA) -> list[TrendTest]:
    """Every test's p-value adjusted for the others (statsmodels ``multipletests``); untestable ones stay NaN."""
    from statsmodels.stats.multitest import multipletests

    if method not in CORRECTIONS:
        raise SelectionError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
    idx = [i for i, t in enumerate(tests) if np.isfinite(t.p_value)]
    out = list(tests)
    if not idx:
        return out
    reject, padj, _, _ = multipletests([tests[i].p_value for i in idx], alpha=alpha, method=method)
    for i, r, q in zip(idx, reject, padj, strict=True):
        out[i] = replace(tests[i], p_adjusted=float(q), significant=bool(r) and tests[i].term in TRENDS)
    return out


# --- the whole analysis -------------------------------------------------------------------------------------
TEST_COLUMNS = [f.name for f in TrendTest.__dataclass_fields__.values()]


@dataclass(frozen=True)
class InverseScaling:
    """The Prize's analysis of a testbed: every trend test, the grid models, and the views built on them."""

    tests: tuple[TrendTest, ...]
    grid: tuple[GridFit, ...]
    testbed_name: str = ""
    x: str = "flops"
    correction: str = CORRECTION
    alpha: float = ALPHA
    series: dict[tuple, Series] = field(default_factory=dict, repr=False, compare=False)

    # --- tables --------------------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """One row per trend test (task, metric, setting, analysis, scope): ``inverse_scaling.csv``."""
        return pd.DataFrame([asdict(t) for t in self.tests], columns=TEST_COLUMNS)

    def grid_frame(self) -> pd.DataFrame:
        """One row per grid model (empty, with its columns, where the testbed has no size x checkpoint grid)."""
        return pd.DataFrame([g.to_dict() for g in self.grid], columns=[f.name for f in fields(GridFit)])

    @cached_property
    def units(self) -> list[tuple[str, str, int | None, str]]:
        """(task, metric, shots, variant) of every analysed unit, in first-seen order."""
        return list(self._by_unit)

    @cached_property
    def _by_unit(self) -> dict[tuple, list[TrendTest]]:
        # Indexed once: a real ladder has ~300 units and ~15,000 tests, and every table and figure asks per unit.
        out: dict[tuple, list[TrendTest]] = {}
        for t in self.tests:
            out.setdefault((t.task, t.metric, t.shots, t.variant), []).append(t)
        return out

    def tests_of(self, unit: tuple, analysis: str | None = None) -> list[TrendTest]:
        """One unit's tests (of one analysis: "scale", "scale@checkpoint" or "training"), in run order."""
        return [t for t in self._by_unit.get(tuple(unit), []) if analysis is None or t.analysis == analysis]

    def series_of(self, unit: tuple, analysis: str) -> list[tuple[str, Series]]:
        """One unit's series of one analysis, as (scope, series), in run order."""
        return self._series_by_unit.get((*unit, analysis), [])

    @cached_property
    def _series_by_unit(self) -> dict[tuple, list[tuple[str, Series]]]:
        out: dict[tuple, list[tuple[str, Series]]] = {}
        for k, s in self.series.items():
            out.setdefault(tuple(k[:5]), []).append((k[5], s))
        return out

    def _unit_tests(self, unit: tuple, analysis: str) -> list[TrendTest]:
        return self.tests_of(unit, analysis)

    def _grid_of(self, unit: tuple) -> GridFit | None:
        for g in self.grid:
            if (g.task, g.metric, g.shots, g.variant) == unit:
                return g
        return None

    def criteria(self) -> pd.DataFrame:
        """The Prize's judging criteria per task, metric and setting, computed.

        Strength: over scale (final checkpoints), is the decline monotone (share of steps going down, Spearman's
        rho with scale) and how large is it (points and standard errors; the median over families).
        Generality: in how many families (over scale), checkpoints (over scale at each checkpoint) and sizes
        (over training) the trend declines (inverse or inverted-U), and in how many of those significantly.
        """
        rows = []
        for unit in self.units:
            scale = self._unit_tests(unit, "scale")
            ckpt = self._unit_tests(unit, "scale@checkpoint")
            train = self._unit_tests(unit, "training")

            def med(ts, attr):
                vals = [getattr(t, attr) for t in ts if np.isfinite(getattr(t, attr))]
                return float(np.median(vals)) if vals else float("nan")

            def count(ts):
                valid = [t for t in ts if t.term != "insufficient-data"]
                return (sum(t.declining for t in valid), sum(t.declining and t.significant for t in valid),
                        len(valid))

            row = {"task": unit[0], "metric": unit[1], "shots": unit[2], "variant": unit[3],
                   "strength_monotone_share": med(scale, "monotone_share"),
                   "strength_spearman_rho": med(scale, "spearman_rho"),
                   "strength_decline_points": med(scale, "decline_points"),
                   "strength_decline": med(scale, "decline"),
                   "strength_decline_se": med(scale, "decline_se")}
            for name, ts in (("families", scale), ("checkpoints", ckpt), ("sizes", train)):
                k, ks, tot = count(ts)
                row[f"declining_{name}"], row[f"significant_{name}"], row[f"of_{name}"] = k, ks, tot
            rows.append(row)
        return pd.DataFrame(rows)

    def overview(self) -> pd.DataFrame:
        """Tasks x {over scale, over training}: the overview table (with the grid model's answer).

        One row per task, metric, setting and family (``family`` "all" when every model is pooled): each
        family keeps its own term, star and numbers. ``decline_from`` names the stretch the decline measures.
        """
        rows = []
        for unit in self.units:
            scale = self._unit_tests(unit, "scale")
            train = [t for t in self._unit_tests(unit, "training") if t.term != "insufficient-data"]
            g = self._grid_of(unit)
            for fam in dict.fromkeys([t.family for t in scale] + [t.family for t in train]):
                s0 = next((t for t in scale if t.family == fam), None)
                judged = s0 is not None and s0.term != "insufficient-data"  # no verdict: no effect to show
                rows.append({"task": unit[0], "metric": unit[1], "shots": unit[2], "variant": unit[3],
                             "family": fam, "over_scale": s0.marked_term if s0 else "-",
                             "decline_from": s0.decline_from if s0 else "",
                             "turn_x": s0.turn_x if judged else float("nan"),
                             "decline": s0.decline if judged else float("nan"),
                             "decline_points": s0.decline_points if judged else float("nan"),
                             "decline_se": s0.decline_se if judged else float("nan"),
                             "p_adjusted": s0.p_adjusted if judged else float("nan"),
                             "over_training": _over_training([t for t in train if t.family == fam]),
                             "grid": g.worse_with if g is not None else "-"})
        return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)

    def label(self, unit: tuple) -> str:
        """A unit's name for tables and figures: the task, its metric where the task has several or it is not
        plain accuracy, and its setting where the run has several ("25-shot", never "25.0-shot" or "nan-shot")."""
        task, metric, shots, variant = unit
        several_metrics = len({u[1] for u in self.units if u[0] == task}) > 1 or metric not in ("acc", "accuracy")
        label = task + (f" [{metric}]" if several_metrics else "")
        if len({(u[2], u[3]) for u in self.units}) > 1:
            setting = setting_label(shots, variant)
            label += f" ({setting})" if setting else ""
        return label

    def demonstrations(self) -> pd.DataFrame:
        """Where tasks were scored at several shot counts: does adding demonstrations turn an inverse trend
        around (to standard or U-shaped), or make it worse (a larger decline)? One row per task, metric, family
        and shot count beyond the fewest."""
        scale = [t for t in self.tests if t.analysis == "scale"]
        rows = []
        keys = dict.fromkeys((t.task, t.metric, t.variant, t.scope) for t in scale)
        for task, metric, variant, scope in keys:
            ts = sorted((t for t in scale if (t.task, t.metric, t.variant, t.scope) == (task, metric, variant, scope)
                         and t.shots is not None), key=lambda t: t.shots)
            if len(ts) < 2:
                continue
            base = ts[0]
            for t in ts[1:]:
                rows.append({"task": task, "metric": metric, "variant": variant, "scope": scope,
                             "base_shots": base.shots, "base_term": base.term, "shots": t.shots, "term": t.term,
                             "base_decline": base.decline, "decline": t.decline,
                             "turned_around": base.declining and t.term in ("standard", "U-shaped"),
                             "made_worse": t.declining and (not base.declining or t.decline > base.decline)})
        return pd.DataFrame(rows, columns=["task", "metric", "variant", "scope", "base_shots", "base_term", "shots",
                                           "term", "base_decline", "decline", "turned_around", "made_worse"])

    # --- the shared surface --------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per task, metric and setting: the overview table (as every analysis result's summary)."""
        return self.overview()

    def headline(self) -> dict[str, Any]:
        """The run in a few numbers: how many tests, how many significant, the over-scale terms."""
        counts = Counter(t.term for t in self.tests if t.analysis == "scale")
        return {"testbed": self.testbed_name, "x": self.x, "correction": self.correction, "alpha": self.alpha,
                "n_tests": len(self.tests), "n_significant": sum(t.significant for t in self.tests),
                "over_scale_terms": {k: int(counts.get(k, 0)) for k in PRIZE_TERMS}}

    def to_dict(self) -> dict[str, Any]:
        return {**self.headline(), "overview": _records(self.summary()),
                "tests": [t.to_dict() for t in self.tests],
                "criteria": _records(self.criteria()), "grid": [g.to_dict() for g in self.grid],
                "demonstrations": _records(self.demonstrations())}

    def write(self, out_dir: str | Path) -> ReportFiles:
        """The tables as CSV files in ``out_dir``: inverse_scaling.csv (every test), inverse_scaling_overview.csv,
        inverse_scaling_criteria.csv, inverse_scaling_grid.csv, inverse_scaling_demonstrations.csv."""
        tables = (("inverse_scaling", self.frame()), ("inverse_scaling_overview", self.overview()),
                  ("inverse_scaling_criteria", self.criteria()), ("inverse_scaling_grid", self.grid_frame()),
                  ("inverse_scaling_demonstrations", self.demonstrations()))
        return write_tables(out_dir, {name: (f"{name}.csv", df) for name, df in tables})


OVERVIEW_COLUMNS = ["task", "metric", "shots", "variant", "family", "over_scale", "decline_from", "turn_x",
                    "decline", "decline_points", "decline_se", "p_adjusted", "over_training", "grid"]


def setting_label(shots: object, variant: object) -> str:
    """``"25-shot"``, ``"5-shot, rc"``, ``"rc"`` or ``""``: a setting in words (no shot count where none is known)."""
    parts = []
    try:
        n = float(shots)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        n = float("nan")
    if math.isfinite(n):
        parts.append(f"{int(n)}-shot")
    if isinstance(variant, str) and variant:
        parts.append(variant)
    return ", ".join(parts)


def _over_training(train: list[TrendTest]) -> str:
    """The sizes over training, by term: the commonest term and how many sizes decline."""
    if not train:
        return "-"
    c = Counter(t.term for t in train)
    top = max(c.items(), key=lambda kv: (kv[1], -PRIZE_TERMS.index(kv[0])))
    n_dec = sum(t.declining for t in train)
    return f"{top[0]} ({top[1]}/{len(train)} sizes); declining in {n_dec}/{len(train)}"


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
             for k, v in r.items()} for r in df.to_dict("records")]


def _settings(testbed: Testbed, task: str, metric: str) -> list[tuple[int | None, str]]:
    s = testbed.scores
    sub = s[(s["task"] == task) & (s["metric"] == metric)][["shots", "variant"]].drop_duplicates()
    out = [(None if pd.isna(r.shots) else int(r.shots), str(r.variant)) for r in sub.itertuples()]
    return sorted(out, key=lambda sv: (-1 if sv[0] is None else sv[0], sv[1]))


def _unit_frame(tb: Testbed, task: str, metric: str, shots: int | None, variant: str) -> pd.DataFrame:
    """One task's scores at one metric and setting, joined to their models, with plain numpy-friendly columns.

    Drawing ~200 series through ``Testbed.series`` merges the whole scores table each time; this joins once
    per unit and then selects rows by mask (the same points, order and noise as ``Testbed.series``).
    """
    s = tb.scores
    sub = s[(s["task"] == task) & (s["metric"] == metric) & (s["variant"] == variant)]
    sub = sub[sub["shots"].isna()] if shots is None else sub[sub["shots"] == shots]
    df = sub.merge(tb.models, on="model", how="inner", validate="one_to_one")
    for col in df.columns:
        if str(df[col].dtype) in ("string", "str", "object"):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    df["step"] = df["step"].astype("float64")
    return df.reset_index(drop=True)


def _draw(df: pd.DataFrame, task: str, metric: str, x: str, where: dict, shots: int | None,
          variant: str) -> Series:
    mask = np.ones(len(df), bool)
    for k, v in where.items():
        mask &= (df[k].to_numpy() == v)
    xs = df[x].to_numpy(float)
    ys = df["value"].to_numpy(float)
    ok = mask & np.isfinite(xs) & np.isfinite(ys)
    idx = np.flatnonzero(ok)
    idx = idx[np.lexsort((df["model"].to_numpy()[idx].astype(str), xs[idx]))]
    chance = df["chance"].dropna()
    hib = df["higher_is_better"].dropna()
    col = lambda c: df[c].to_numpy(float)[idx]  # noqa: E731
    return Series(task=task, metric=metric, x_name=x, x=xs[idx], y=ys[idx], stderr=col("stderr"),
                  n_examples=col("n_examples"), models=tuple(df["model"].to_numpy()[idx].tolist()),
                  params=col("params"), tokens=col("tokens"), flops=col("flops"),
                  groups=tuple(str(g) if g is not None else "-" for g in df["size"].to_numpy()[idx]),
                  holdout=df["holdout"].fillna(False).to_numpy(bool)[idx],
                  chance=float(chance.iloc[0]) if len(chance) else float("nan"),
                  higher_is_better=bool(hib.iloc[0]) if len(hib) else True, x_is_loss=False,
                  scope={k: str(v) for k, v in where.items()}, shots=shots, variant=variant,
                  n_dropped=int((mask & ~ok).sum()))


def default_metrics(testbed: Testbed, task: str) -> list[str]:
    """Every metric the testbed holds for a task (a source that reports several, such as TruthfulQA's mc1 and
    mc2, is analysed on each, as Michaelov & Bergen did): the task's own metric first, the classification loss
    last (the Prize plotted accuracy beside it), the others in between in name order."""
    have = sorted(testbed.scores.loc[testbed.scores["task"] == task, "metric"].unique().tolist())
    row = testbed.tasks[testbed.tasks["task"] == task]
    default = row["metric"].iloc[0] if len(row) and pd.notna(row["metric"].iloc[0]) else None
    first = default if default in have else have[0]
    if first == "loss":  # `evaluate` output: accuracy first, its classification loss beside it
        first = next((m for m in ("accuracy", "acc") if m in have), first)
    rest = [m for m in have if m not in (first, "loss")]
    return [first, *rest] + (["loss"] if "loss" in have and first != "loss" else [])


@dataclass(frozen=True)
class Job:
    """One series to classify: a unit (task, metric, setting), the analysis, its scope and where its points are.

    ``where`` selects the points (model column -> value) from the final models (``finals``: over scale) or from
    every checkpoint (over scale at one checkpoint, and over training).
    """

    unit: tuple[str, str, int | None, str]
    analysis: str
    scope: str
    family: str
    x: str
    where: tuple[tuple[str, object], ...]
    finals: bool

    @property
    def label(self) -> str:
        return f"{self.unit[0]} [{self.unit[1]}] {self.analysis} {self.scope}"


def inverse_scaling(testbed: Testbed, selection: Selection | None = None, *, x: str | None = None,
                    by: str | None = "family", tasks: list[str] | None = None, metrics: list[str] | None = None,
                    shots: int | None = None, variant: str | None = None, over_training: bool = True,
                    correction: str = CORRECTION, alpha: float = ALPHA, seed: int = 0,
                    progress: Progress | None = None) -> InverseScaling:
    """The Prize's analysis of ``testbed`` (see the module docstring).

    What is analysed is a :class:`~scalecheck.observations.Selection` (``selection``), or the same choices as
    keyword shortcuts (not both): ``x`` is the axis over scale (``flops`` as the Prize plots, or ``params``;
    over training the axis is ``tokens``); ``by`` the model column whose values are the lines over scale (the
    Prize's families; None pools every model); ``tasks``, ``metrics`` (default: every metric the testbed holds
    for a task), ``shots`` and ``variant`` (default: every setting). ``over_training=False`` (a selection's
    ``checkpoints="final"``) skips the analyses at each checkpoint and over training.
    """
    if not 0 < alpha < 1:
        raise SelectionError(f"alpha must be between 0 and 1, not {alpha!r}")
    if correction not in CORRECTIONS:
        raise SelectionError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")
    if selection is None:
        selection = Selection(x=x, by=by, tasks=tasks, metrics=metrics, shots=shots, variant=variant,
                              checkpoints="all" if over_training else "final")
    elif (x, by, tasks, metrics, shots, variant, over_training) != (None, "family", None, None, None, None, True):
        raise TypeError("inverse_scaling takes a selection or the keyword shortcuts, not both")
    sel = _validate(testbed, selection)
    jobs = plan(testbed, sel)
    tests, kept, keys = classify_jobs(testbed, jobs, alpha=alpha, seed=seed, progress=progress)
    tests = adjust_once(tests, keys, correction, alpha)
    report(progress, len(jobs), len(jobs), "grid models")
    grid = _grids(testbed, tests, correction, alpha) if _over_training_of(sel, testbed) else ()
    report(progress, len(jobs), len(jobs), "done")
    return InverseScaling(tuple(tests), tuple(grid), testbed_name=testbed.name, x=sel.x, correction=correction,
                          alpha=alpha, series=kept)


def _validate(testbed: Testbed, selection: Selection) -> Selection:
    """The selection checked against the testbed (Selection.validate), with x a scale axis that has values."""
    x = selection.x
    if x is None:  # the Prize's axis; parameters where no training tokens are known (a ladder file without them)
        has_flops = testbed.models["flops"].notna().any()
        x = "flops" if has_flops or not testbed.models["params"].notna().any() else "params"
    if x not in SCALE_AXES:
        raise SelectionError(f"x over scale must be a scale axis (flops, params, params_nonembed), not {x!r}")
    if testbed.models[x].notna().sum() == 0:
        raise SelectionError(f"the testbed has no {x!r} values: inverse scaling needs a scale axis "
                             f"(it has: {', '.join(testbed.x_names) or 'none'})")
    return replace(selection, x=x).validate(testbed)


def _over_training_of(sel: Selection, testbed: Testbed) -> bool:
    """Whether the analyses at each checkpoint and over training run: asked for, and checkpoints to run them on."""
    return sel.checkpoints == "all" and has_checkpoints(testbed)


def plan(testbed: Testbed, sel: Selection) -> list[Job]:
    """Every series the analysis classifies, unit by unit (a unit's jobs are contiguous)."""
    families = sel.groups(testbed) or [None]
    jobs: list[Job] = []
    for task in sel.task_names(testbed):
        have = set(testbed.scores.loc[testbed.scores["task"] == task, "metric"])
        for metric in sel.metrics or ((sel.metric,) if sel.metric else default_metrics(testbed, task)):
            if metric not in have:
                continue
            for sh, var in _settings(testbed, task, metric):
                if (sel.shots is not None and sh != sel.shots) or (sel.variant is not None and var != sel.variant):
                    continue
                for fam in families:
                    jobs += _family_jobs(testbed, sel, (task, metric, sh, var), fam, len(families) > 1)
    if not jobs:
        raise SelectionError("nothing to analyse: no task has the requested metrics and setting")
    return jobs


def _family_jobs(testbed: Testbed, sel: Selection, unit: tuple, fam: object, several: bool) -> list[Job]:
    """One family's jobs for one unit: over scale (final models), at each checkpoint, and over training."""
    where = ((sel.by, fam),) if fam is not None else ()
    label = str(fam) if fam is not None else "all"
    jobs = [Job(unit, "scale", label, label, sel.x, where, finals=True)]
    if not _over_training_of(sel, testbed):
        return jobs
    mine = testbed.models[testbed.models[sel.by] == fam] if fam is not None else testbed.models
    for st in sorted(mine["step"].dropna().astype(int).unique().tolist()):
        jobs.append(Job(unit, "scale@checkpoint", f"{label} step {st}", label, sel.x, (*where, ("step", st)),
                        finals=False))
    sizes = mine.dropna(subset=["run"]).sort_values("params", kind="mergesort")["size"].dropna().astype(str)
    for size in sizes.unique().tolist():
        jobs.append(Job(unit, "training", f"{label} {size}" if several else size, label, "tokens",
                        (*where, ("size", size)), finals=False))
    return jobs


def classify_jobs(testbed: Testbed, jobs: list[Job], *, alpha: float = ALPHA, seed: int = 0,
                  progress: Progress | None = None) -> tuple[list[TrendTest], dict[tuple, Series], list[tuple]]:
    """Draw and classify every job's series: the tests (not yet adjusted), the series by (unit, analysis, scope),
    and each test's series key (the same points classified once: the last checkpoint's models over scale are
    often exactly the final models)."""
    finals = final_models(testbed)
    tests: list[TrendTest] = []
    kept: dict[tuple, Series] = {}
    keys: list[tuple] = []
    verdicts: dict[tuple, Verdict] = {}
    frames: dict[bool, pd.DataFrame] = {}
    for i, job in enumerate(jobs):
        report(progress, i, len(jobs), job.label)
        if i == 0 or job.unit != jobs[i - 1].unit:
            frames = {}  # a unit's jobs are contiguous: its two frames (finals, every checkpoint) serve them all
        if job.finals not in frames:
            frames[job.finals] = _unit_frame(finals if job.finals else testbed, *job.unit)
        series = _draw(frames[job.finals], job.unit[0], job.unit[1], job.x, dict(job.where), job.unit[2],
                       job.unit[3])
        if len(series) == 0:
            continue
        key = (*job.unit, job.x, series.models)
        if key not in verdicts:
            verdicts[key] = classify(series, seed=seed, alpha_trend=alpha)
        tests.append(trend_test(series, verdicts[key], analysis=job.analysis, scope=job.scope, family=job.family))
        keys.append(key)
        kept[(*job.unit, job.analysis, job.scope)] = series
    return tests, kept, keys


def adjust_once(tests: list[TrendTest], keys: list[tuple], correction: str = CORRECTION,
                alpha: float = ALPHA) -> list[TrendTest]:
    """:func:`adjust` over the distinct series: a duplicate (the same points as an earlier test) takes its
    original's adjusted p instead of counting twice."""
    first: dict[tuple, int] = {}
    original = [first.setdefault(key, i) for i, key in enumerate(keys)]
    unique = [i for i in range(len(tests)) if original[i] == i]
    adjusted = dict(zip(unique, adjust([tests[i] for i in unique], correction, alpha), strict=True))
    return [adjusted[i] if i in adjusted else
            replace(tests[i], p_adjusted=adjusted[original[i]].p_adjusted, significant=adjusted[original[i]].significant)
            for i in range(len(tests))]


def _grids(testbed: Testbed, tests: list[TrendTest], correction: str, alpha: float) -> list[GridFit]:
    """The grid model of every unit that has a size x checkpoint grid, adjusted as its own family of tests."""
    units = list(dict.fromkeys((t.task, t.metric, t.shots, t.variant) for t in tests))
    fits = [g for u in units if (g := fit_grid(testbed, *u)) is not None]
    return adjust_grid(fits, correction, alpha)
