"""Sensitivity: rerun the verdicts and fits while changing one thing at a time, and report what changed.

The Reality Check's second finding is that benign changes of setting flip scaling trends. Three factors are
varied, each against a baseline (the default validation set as x, all corpora pooled, each task's default
metric and setting):

* ``x``: the validation set whose loss is the x axis (every loss the testbed has);
* ``corpus``: each pretraining corpus on its own instead of pooled;
* ``setting``: every other metric / shots / variant a task was scored with.

For each task and setting this records the verdict (:func:`scalecheck.trends.classify`) and the sign of the
trend (Spearman correlation of score with scale, significant at 5%), so flips and sign changes are counted
against the baseline; a verdict flip counts only where both verdicts have a confidence of at least
:data:`scalecheck.trends.reality.CONFIDENT` (``confident``). Separately, for every pair of corpora, their fitted laws are compared at a loss value
inside both corpora's ranges (matched loss) for each x: a rank reversal is a pair whose order at matched loss
differs between two choices of x.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SelectionError
from ..laws import Form, fit_many, fit_series, get_form, law_x
from ..observations import Selection, Series, Testbed
from ..progress import Progress, report
from ..tables import ReportFiles, write_tables
from ..trends import classify
from ..trends import evidence as ev
from ..trends.reality import CONFIDENT

log = logging.getLogger(__name__)  # decisions made silently: tasks left out

FACTORS = ("x", "corpus", "setting")
NO_VERDICT = "insufficient-data"
# A trend's sign counts only where the rank correlation is significant at this level; a flat, noisy task
# has no sign to change.
SIGN_ALPHA = 0.05
# A corpus needs this many models for its law to be compared at matched loss (3 parameters + 1).
_MIN_RANK_POINTS = 4
_RANK_CHUNK = 64

VERDICT_COLUMNS = ["task", "factor", "setting", "x_name", "scope", "metric", "shots", "variant", "n_models",
                   "category", "confidence", "rho", "p_trend", "trend_sign", "baseline_category",
                   "baseline_confidence", "baseline_sign", "comparable", "confident", "flipped", "sign_changed"]
RANK_COLUMNS = ["task", "x_name", "corpus_a", "corpus_b", "loss_at", "pred_a", "pred_b", "diff", "se_diff",
                "decided"]
REVERSAL_COLUMNS = ["task", "corpus_a", "corpus_b", "x_ref", "x_name", "diff_ref", "diff", "decided_ref",
                    "decided", "reversed", "reversed_decided"]


def default_setting(testbed: Testbed, task: str) -> tuple[str, int | None, str]:
    """The task's baseline (metric, shots, variant): its declared metric and shots, then the most scored variant."""
    sub = testbed.scores[testbed.scores["task"] == task]
    if sub.empty:
        raise SelectionError(f"unknown task {task!r}")
    row = testbed.tasks[testbed.tasks["task"] == task].iloc[0]
    metric = row["metric"] if pd.notna(row["metric"]) and (sub["metric"] == row["metric"]).any() else \
        sub["metric"].mode().iloc[0]
    sub = sub[sub["metric"] == metric]
    if pd.notna(row["shots"]) and (sub["shots"] == row["shots"]).any():
        sub = sub[sub["shots"] == row["shots"]]
    # The setting most models were scored in (a format only the largest models have is no baseline), then the
    # plain variant, then the first in order.
    settings = (sub.assign(variant_rank=(sub["variant"] != "").astype(int))
                .groupby(["shots", "variant", "variant_rank"], dropna=False).size().rename("n").reset_index()
                .sort_values(["n", "variant_rank", "shots", "variant"], ascending=[False, True, True, True],
                             na_position="last", kind="mergesort"))
    first = settings.iloc[0]
    return str(metric), None if pd.isna(first["shots"]) else int(first["shots"]), str(first["variant"])


def settings_of(testbed: Testbed, task: str) -> list[tuple[str, int | None, str]]:
    """Every (metric, shots, variant) the task was scored with."""
    sub = testbed.scores[testbed.scores["task"] == task][["metric", "shots", "variant"]].drop_duplicates()
    sub = sub.sort_values(["metric", "shots", "variant"], na_position="last")
    return [(str(r.metric), None if pd.isna(r.shots) else int(r.shots), str(r.variant)) for r in sub.itertuples()]


def trend_sign(series: Series, alpha: float = SIGN_ALPHA) -> tuple[float, float, int]:
    """(rho, p, sign): Spearman correlation of goodness with scale; sign is 0 unless significant at ``alpha``."""
    if len(series) < 3:
        return np.nan, np.nan, 0
    # The classifier's orientation and rank test (trends.evidence), so both read "better" and "scale" alike.
    u = ev.scale_axis(series.x, series.x_is_loss)
    z = ev.better_sign(series.higher_is_better) * np.asarray(series.y, float)
    rho, p = ev.spearman(u, z)
    sign = int(np.sign(rho)) if p < alpha else 0
    return float(rho), float(p), sign


def _setting_label(metric: str, shots: int | None, variant: str) -> str:
    parts = [metric] + ([f"{shots}-shot"] if shots is not None else []) + ([variant] if variant else [])
    return " ".join(parts)


def _verdict_row(series: Series, factor: str, setting: str, seed: int = 0) -> dict:
    verdict = classify(series, seed=seed)
    rho, p, sign = trend_sign(series)
    return {"task": series.task, "factor": factor, "setting": setting, "x_name": series.x_name,
            "scope": series.scope_label, "metric": series.metric, "shots": series.shots, "variant": series.variant,
            "n_models": len(series), "category": verdict.category, "confidence": float(verdict.confidence),
            "rho": rho, "p_trend": p, "trend_sign": sign}


def matched_loss_comparison(a: Series, b: Series, form: str = "exponential", level: float = 0.9) -> dict | None:
    """Fit ``form`` to two corpora's series and compare the laws at one loss inside both ranges.

    The loss is the middle of the overlap of the two ranges, so neither law extrapolates. ``diff`` is how much
    better corpus a scores than b there (in the metric's direction); ``decided`` when it exceeds the two laws'
    combined ``level`` confidence half-width.
    """
    return _compare(a, b, fit_series(a, form), fit_series(b, form), level)


def _compare(a: Series, b: Series, law_a, law_b, level: float) -> dict | None:
    # Compared on the laws' own axis (the loss, or ln of a scale axis: scalecheck.laws.law_x).
    xa, xb = law_x(a, law_a.law), law_x(b, law_b.law)
    lo, hi = max(np.nanmin(xa), np.nanmin(xb)), min(np.nanmax(xa), np.nanmax(xb))
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo or not (law_a.usable and law_b.usable):
        return None
    at = np.array([(lo + hi) / 2])
    z = stats.norm.ppf(0.5 + level / 2)
    preds, ses = [], []
    for law in (law_a, law_b):
        p = float(np.asarray(law.predict(at), float)[0])
        lo_i, hi_i = (float(np.asarray(v, float)[0]) for v in law.interval(at, level=level, kind="confidence"))
        preds.append(p)
        ses.append((hi_i - lo_i) / (2 * z) if np.isfinite(hi_i - lo_i) else np.nan)
    sign = 1.0 if a.higher_is_better else -1.0
    diff = sign * (preds[0] - preds[1])
    se = float(np.hypot(ses[0], ses[1]))
    at_x = float(at[0]) if (a.x_is_loss or law_a.law.x_positive) else float(np.exp(at[0]))  # back on x's scale
    return {"loss_at": at_x, "pred_a": preds[0], "pred_b": preds[1], "diff": diff, "se_diff": se,
            "decided": bool(np.isfinite(se) and abs(diff) > z * se)}


def _group(series: Series, by: str, value) -> Series:
    """The points of one corpus (``series.groups`` holds each point's ``by`` value), scoped to it."""
    part = series.subset(np.array([g == str(value) for g in series.groups], bool))
    return replace(part, scope={by: str(value)})


@dataclass(frozen=True)
class SensitivityOptions:
    """How :meth:`Sensitivity.fit` varies and compares, in one place (what it analyses is a
    :class:`~scalecheck.observations.Selection`).

    ``xs``: the validation sets tried as x (default: every loss in the testbed). ``factors``: which of
    :data:`FACTORS` are varied, one at a time. ``form`` (a name or a :class:`~scalecheck.laws.Form`) is the law
    compared at matched loss, with intervals at ``level``; ``seed`` seeds the classifier. An unknown form or factor
    is a one-line :class:`~scalecheck.errors.SelectionError` when the options are made, before any work.
    """

    xs: tuple[str, ...] | None = None
    factors: tuple[str, ...] = FACTORS
    form: str | Form = "exponential"
    level: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if self.xs is not None:
            object.__setattr__(self, "xs", (self.xs,) if isinstance(self.xs, str) else tuple(self.xs))
        object.__setattr__(self, "factors", (self.factors,) if isinstance(self.factors, str) else tuple(self.factors))
        get_form(self.form)  # an unknown form name fails here, before any work
        unknown = set(self.factors) - set(FACTORS)
        if unknown:
            raise SelectionError(f"unknown factor {sorted(unknown)[0]!r}; choose from {', '.join(FACTORS)}")


# What the sensitivity analysis looks at unless a selection says otherwise: corpora as the groups compared.
DEFAULT_SELECTION = Selection(by="corpus")


@dataclass(frozen=True)
class Sensitivity:
    """Verdicts and trend signs under one-at-a-time changes, and corpus orderings at matched loss.

    :meth:`flips` lists verdict changes against the baseline, :meth:`sign_changes` trend reversals,
    :attr:`rank_reversals` pairs of corpora whose order at matched loss depends on the validation set;
    :meth:`summary` counts them (one row); :meth:`frame` is every verdict against its baseline; :meth:`to_dict`
    and :meth:`write` as every analysis result.
    """

    verdicts: pd.DataFrame
    corpus_ranks: pd.DataFrame
    rank_reversals: pd.DataFrame
    baseline_x: str
    by: str | None
    form: str = "exponential"
    settings: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, testbed: Testbed, selection: Selection | None = None, options: SensitivityOptions | None = None, *,
            progress: Progress | None = None) -> Sensitivity:
        """Vary each of ``options.factors`` one at a time over the tasks ``selection`` picks (default all).

        ``selection`` (a :class:`~scalecheck.observations.Selection`; default :data:`DEFAULT_SELECTION`): its ``x``
        is the baseline validation set (default: the testbed's
        :meth:`~scalecheck.observations.Testbed.default_x`); ``by`` the model column whose values are the corpora
        (None pools: no corpus factor and no rank comparisons; a column the testbed lacks is a SelectionError);
        ``metric``/``shots``/``variant`` fix the baseline setting (default: each task's own,
        :func:`default_setting`), and a task without it is left out; ``checkpoints``: "final" (the default) keeps
        each run's last checkpoint, "all" every one. ``options``: a :class:`SensitivityOptions`.
        ``progress(done, total, what)`` is called after each task. :func:`sensitivity` takes the same choices as
        keyword shortcuts.
        """
        opts = options if options is not None else SensitivityOptions()
        sel = (selection if selection is not None else DEFAULT_SELECTION).validate(testbed)
        # A verdict is about models at scale: a run's intermediate checkpoints are its training curve.
        testbed = sel.apply(testbed)
        x, by = sel.x, sel.by
        xs = list(opts.xs) if opts.xs is not None else list(testbed.loss_names)
        for other in xs:
            Selection(x=other).validate(testbed)
        if x not in xs:
            xs.insert(0, x)
        tasks = sel.task_names(testbed)
        plan = _Plan(x, xs, by, sel.groups(testbed), {k: v for k, v in sel.setting().items() if v is not None},
                     opts.factors, opts.seed)
        rows: list[dict] = []
        per_corpus: dict[tuple[str, str, str], Series] = {}  # (task, x, corpus) -> series, for matched loss
        skipped: list[str] = []
        for i, task in enumerate(tasks):
            done = plan.task_rows(testbed, task)
            if done is None:
                skipped.append(task)  # the task was not scored in the setting asked for
            else:
                rows.extend(done[0])
                per_corpus.update(done[1])
            report(progress, i + 1, len(tasks), task)
        if skipped:
            log.info("left out %d task(s) not scored in %s: %s", len(skipped), plan.fixed, ", ".join(skipped))
        if skipped and len(skipped) == len(tasks):
            raise SelectionError(f"no task was scored in the setting asked for ({plan.fixed})")
        rank_rows = _corpus_pairs(per_corpus, tasks, xs, [str(g) for g in plan.groups], opts.form, opts.level)
        verdicts = _against_baseline(pd.DataFrame(rows))
        ranks = pd.DataFrame(rank_rows, columns=RANK_COLUMNS)
        reversals = _reversals(ranks, x)
        return cls(verdicts[VERDICT_COLUMNS], ranks, reversals, x, by, get_form(opts.form).name,
                   {"xs": xs, "tasks": len(tasks), "factors": list(opts.factors), "level": opts.level,
                    "seed": opts.seed, **({"skipped_tasks": skipped} if skipped else {}),
                    **({"setting": plan.fixed} if plan.fixed else {})})

    # --- what changed ------------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """One row per task and changed setting (and the baseline): verdict, trend sign, flipped or not."""
        return self.verdicts.copy()

    def flips(self, factor: str | None = None) -> pd.DataFrame:
        v = self.verdicts[self.verdicts["flipped"]]
        return v if factor is None else v[v["factor"] == factor]

    def sign_changes(self, factor: str | None = None) -> pd.DataFrame:
        v = self.verdicts[self.verdicts["sign_changed"]]
        return v if factor is None else v[v["factor"] == factor]

    def per_setting(self) -> pd.DataFrame:
        """Per factor and setting: of the tasks with a verdict both ways, how many change verdict or trend sign."""
        v = self.verdicts[(self.verdicts["factor"] != "baseline") & self.verdicts["comparable"]]
        if v.empty:
            return pd.DataFrame(columns=["factor", "setting", "n_tasks", "n_flipped", "n_sign_changed"])
        return (v.groupby(["factor", "setting"], sort=True)
                .agg(n_tasks=("task", "nunique"), n_flipped=("flipped", "sum"), n_sign_changed=("sign_changed", "sum"))
                .reset_index())

    def best_corpus(self) -> pd.DataFrame:
        """Per task and validation set: the corpus that beats every other at matched loss (else "-").

        One column per validation set; reads as "which corpus looks best on this task when loss is measured
        on C4 vs on RedPajama".
        """
        r = self.corpus_ranks
        if r.empty:
            return pd.DataFrame(columns=["task"])
        rows = []
        for (task, xname), g in r.groupby(["task", "x_name"], sort=True):
            corpora = sorted(set(g["corpus_a"]) | set(g["corpus_b"]))
            wins = {c: 0 for c in corpora}
            for e in g.itertuples():
                wins[e.corpus_a if e.diff > 0 else e.corpus_b] += 1
            top = [c for c, w in wins.items() if w == len(corpora) - 1]
            rows.append({"task": task, "x_name": xname, "best": top[0] if top else "-"})
        wide = pd.DataFrame(rows).pivot(index="task", columns="x_name", values="best")
        cols = [self.baseline_x] + [c for c in wide.columns if c != self.baseline_x]
        return wide[[c for c in cols if c in wide.columns]].reset_index().rename_axis(columns=None)

    def transitions(self, factor: str | None = None) -> pd.DataFrame:
        """Counts of baseline category -> changed category among the flips."""
        f = self.flips(factor)
        if f.empty:
            return pd.DataFrame(columns=["baseline_category", "category", "n"])
        return f.groupby(["baseline_category", "category"]).size().rename("n").reset_index()

    def summary(self) -> pd.DataFrame:
        """The counts, as one row: tasks whose verdict changes under each factor, sign changes, rank reversals."""
        return pd.DataFrame([self.counts()])

    def counts(self) -> dict:
        """:meth:`summary` as a dict."""
        v = self.verdicts
        n_tasks = int(v["task"].nunique())
        out: dict = {"n_tasks": n_tasks, "baseline_x": self.baseline_x, "by": self.by}
        for factor in FACTORS:
            sub = v[(v["factor"] == factor) & v["comparable"]]
            tested = sub["task"].nunique()
            out[f"{factor}_tasks_tested"] = int(tested)
            out[f"{factor}_tasks_flipped"] = int(sub.loc[sub["flipped"], "task"].nunique())
            out[f"{factor}_tasks_sign_changed"] = int(sub.loc[sub["sign_changed"], "task"].nunique())
            out[f"{factor}_flips"] = int(sub["flipped"].sum())
            out[f"{factor}_comparisons"] = int(len(sub))
        r = self.rank_reversals
        out["rank_comparisons"] = int(len(r))
        out["rank_reversals"] = int(r["reversed"].sum()) if len(r) else 0
        out["rank_reversals_decided"] = int(r["reversed_decided"].sum()) if len(r) else 0
        out["tasks_with_rank_reversal"] = int(r.loc[r["reversed"], "task"].nunique()) if len(r) else 0
        out["tasks_with_decided_rank_reversal"] = int(r.loc[r["reversed_decided"], "task"].nunique()) if len(r) else 0
        best = self.best_corpus()
        out["tasks_best_corpus_compared"] = int(len(best)) if best.shape[1] > 2 else 0
        out["tasks_best_corpus_changes"] = (int((best.drop(columns="task").nunique(axis=1) > 1).sum())
                                            if best.shape[1] > 2 else 0)
        return out

    def headline(self) -> list[str]:
        """The findings in words, with numbers."""
        s = self.counts()
        n = s["n_tasks"]
        lines = []
        if s["x_tasks_tested"]:
            lines.append(f"{s['x_tasks_flipped']} of {s['x_tasks_tested']} tasks change verdict (between verdicts of "
                         f"confidence >= {CONFIDENT:g}) when the validation "
                         f"set used as x changes (baseline {self.baseline_x}; {s['x_flips']} of "
                         f"{s['x_comparisons']} task x validation-set comparisons); "
                         f"{s['x_tasks_sign_changed']} change the sign of their trend.")
        if s["corpus_tasks_tested"]:
            lines.append(f"{s['corpus_tasks_flipped']} of {s['corpus_tasks_tested']} tasks change verdict (confidence "
                         f">= {CONFIDENT:g} on both sides) when one "
                         f"{self.by} is taken alone instead of pooled; {s['corpus_tasks_sign_changed']} change "
                         f"trend sign.")
        if s["setting_tasks_tested"]:
            lines.append(f"{s['setting_tasks_flipped']} of {s['setting_tasks_tested']} tasks with several metrics or "
                         f"settings change verdict with the setting (confidence >= {CONFIDENT:g} on both sides).")
        if s["rank_comparisons"]:
            lines.append(f"{s['tasks_with_rank_reversal']} of {n} tasks have a pair of corpora whose order at matched "
                         f"loss reverses when loss is measured on another validation set "
                         f"({s['rank_reversals']} of {s['rank_comparisons']} comparisons; "
                         f"{s['rank_reversals_decided']} where both orders exceed the laws' uncertainty); the "
                         f"{self.by} that looks best at matched loss depends on the validation set for "
                         f"{s['tasks_best_corpus_changes']} of {s['tasks_best_corpus_compared']} tasks.")
        return lines

    def to_dict(self) -> dict:
        return {"summary": self.counts(), "headline": self.headline(), "per_setting":
                self.per_setting().to_dict("records"), "settings": self.settings}

    def write(self, out_dir: str | Path) -> ReportFiles:
        """sensitivity_verdicts.csv, sensitivity_corpus_ranks.csv, sensitivity_reversals.csv and
        sensitivity_summary.csv in ``out_dir``."""
        return write_tables(out_dir, {"verdicts": ("sensitivity_verdicts.csv", self.verdicts),
                                      "corpus_ranks": ("sensitivity_corpus_ranks.csv", self.corpus_ranks),
                                      "reversals": ("sensitivity_reversals.csv", self.rank_reversals),
                                      "summary": ("sensitivity_summary.csv", self.summary())})


def sensitivity(testbed: Testbed, *, selection: Selection | None = None, options: SensitivityOptions | None = None,
                x: str | None = None, by: str | None = "corpus", tasks: Sequence[str] | None = None,
                metric: str | None = None, shots: int | None = None, variant: str | None = None,
                checkpoints: str | None = None, progress: Progress | None = None,
                **option_fields) -> Sensitivity:
    """Vary x, corpus and setting one at a time: :meth:`Sensitivity.fit` with keyword shortcuts.

    What is analysed: a ``selection``, or its fields as keywords (``x``, ``by``, ``tasks``, ``metric``, ``shots``,
    ``variant``, ``checkpoints``); keywords given beside a selection override its fields, except ``by``, whose
    default ("corpus") applies only without one (a selection's ``by`` wins). How: ``options``
    (:class:`SensitivityOptions`), or its fields as keywords (``xs``, ``factors``, ``form``, ``level``,
    ``seed``), which override the object's.
    """
    fields = {"x": x, "tasks": tuple(tasks) if tasks is not None else None, "metric": metric, "shots": shots,
              "variant": variant, "checkpoints": checkpoints}
    sel = Selection.of(selection if selection is not None else Selection(by=by), **fields)
    opts = replace(options if options is not None else SensitivityOptions(), **option_fields)
    return Sensitivity.fit(testbed, sel, opts, progress=progress)


@dataclass(frozen=True)
class _Plan:
    """What is varied for every task: the baseline x and the xs tried, the corpora, the fixed setting."""

    x: str
    xs: list[str]
    by: str | None
    groups: list
    fixed: dict
    factors: tuple[str, ...]
    seed: int

    def task_rows(self, testbed: Testbed, task: str) -> tuple[list[dict], dict] | None:
        """One task's verdict rows (baseline and every change) and its per-corpus series for matched loss; None
        when the task was not scored in the fixed setting asked for."""
        metric, shots, variant = default_setting(testbed, task)
        base_kw = {"metric": metric, "shots": shots, "variant": variant, **self.fixed}
        # One pooled series per x; corpora are its subsets (selecting a series is the slow part).
        try:
            pooled = {xn: testbed.series(task, xn, group_by=self.by if self.groups else "corpus", **base_kw)
                      for xn in (self.xs if "x" in self.factors else [self.x])}
        except SelectionError:
            if not self.fixed:
                raise
            return None
        baseline = (base_kw["metric"], base_kw["shots"], base_kw["variant"])
        rows = [_verdict_row(pooled[self.x], "baseline", self.x, self.seed)]
        if "x" in self.factors:
            rows.extend(_verdict_row(pooled[o], "x", o, self.seed) for o in self.xs if o != self.x)
        if "corpus" in self.factors and len(self.groups) > 1:
            rows.extend(self._corpus_rows(pooled[self.x]))
        if "setting" in self.factors:
            rows.extend(self._setting_rows(testbed, task, baseline))
        per_corpus = {}
        if "x" in self.factors and len(self.groups) > 1:
            for xn, ser in pooled.items():
                for g in self.groups:
                    part = _group(ser, self.by, g)
                    if len(part) >= _MIN_RANK_POINTS:
                        per_corpus[(task, xn, str(g))] = part
        return rows, per_corpus

    def _corpus_rows(self, pooled: Series) -> list[dict]:
        """Each corpus on its own (with at least 3 models)."""
        rows = []
        for g in self.groups:
            part = _group(pooled, self.by, g)
            if len(part) >= 3:
                rows.append(_verdict_row(part, "corpus", str(g), self.seed))
        return rows

    def _setting_rows(self, testbed: Testbed, task: str, baseline: tuple) -> list[dict]:
        """Every other metric, shots and variant the task was scored with (with at least 3 models)."""
        rows = []
        for setting in settings_of(testbed, task):
            if setting != baseline:
                m, sh, v = setting
                part = testbed.series(task, self.x, metric=m, shots=sh, variant=v)
                if len(part) >= 3:
                    rows.append(_verdict_row(part, "setting", _setting_label(*setting), self.seed))
        return rows


def _against_baseline(v: pd.DataFrame) -> pd.DataFrame:
    if v.empty:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    base = v[v["factor"] == "baseline"].set_index("task")
    v = v.copy()
    v["baseline_category"] = v["task"].map(base["category"])
    v["baseline_confidence"] = v["task"].map(base["confidence"]).astype(float)
    v["baseline_sign"] = v["task"].map(base["trend_sign"]).astype(int)
    # A series too small for any verdict (a format only the largest models were scored in) did not flip.
    v["comparable"] = (v["category"] != NO_VERDICT) & (v["baseline_category"] != NO_VERDICT)
    # A flip counts only between verdicts the classifier believes (each at least CONFIDENT): a change to or from
    # a coin toss between two readings of one plot is no change of behaviour.
    v["confident"] = (v["confidence"] >= CONFIDENT) & (v["baseline_confidence"] >= CONFIDENT)
    v["flipped"] = ((v["factor"] != "baseline") & (v["category"] != v["baseline_category"]) & v["comparable"]
                    & v["confident"])
    # A sign change needs both signs significant and opposite; significant-vs-flat is a weaker change.
    v["sign_changed"] = (v["factor"] != "baseline") & (v["trend_sign"] * v["baseline_sign"] < 0)
    return v


def _corpus_pairs(per_corpus: dict, tasks: Sequence[str], xs: Sequence[str], groups: list[str], form: str | Form,
                  level: float) -> list[dict]:
    """Fit every (task, x, corpus) series once, in batches, and compare each pair of corpora at matched loss."""
    keys = list(per_corpus)
    laws = {}
    for start in range(0, len(keys), _RANK_CHUNK):
        chunk = keys[start:start + _RANK_CHUNK]
        for key, law in zip(chunk, fit_many([per_corpus[k] for k in chunk], form, level=level), strict=True):
            laws[key] = law
    rows = []
    for task in tasks:
        for xname in xs:
            for a, b in combinations(groups, 2):
                ka, kb = (task, xname, a), (task, xname, b)
                if ka not in laws or kb not in laws:
                    continue
                cmp = _compare(per_corpus[ka], per_corpus[kb], laws[ka], laws[kb], level)
                if cmp is not None:
                    rows.append({"task": task, "x_name": xname, "corpus_a": a, "corpus_b": b, **cmp})
    return rows


def _reversals(ranks: pd.DataFrame, x_ref: str) -> pd.DataFrame:
    """Each (task, pair, x) against the same pair at the baseline x: did the order flip?"""
    if ranks.empty:
        return pd.DataFrame(columns=REVERSAL_COLUMNS)
    ref = ranks[ranks["x_name"] == x_ref].set_index(["task", "corpus_a", "corpus_b"])
    rest = ranks[ranks["x_name"] != x_ref]
    rows = []
    for r in rest.itertuples(index=False):
        key = (r.task, r.corpus_a, r.corpus_b)
        if key not in ref.index:
            continue
        b = ref.loc[key]
        rev = bool(np.sign(b["diff"]) * np.sign(r.diff) < 0)
        rows.append({"task": r.task, "corpus_a": r.corpus_a, "corpus_b": r.corpus_b, "x_ref": x_ref,
                     "x_name": r.x_name, "diff_ref": float(b["diff"]), "diff": float(r.diff),
                     "decided_ref": bool(b["decided"]), "decided": bool(r.decided), "reversed": rev,
                     "reversed_decided": rev and bool(b["decided"]) and bool(r.decided)})
    return pd.DataFrame(rows, columns=REVERSAL_COLUMNS)
