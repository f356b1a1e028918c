"""The reality check's report: verdicts.csv, one figure per task, and a self-contained report.html."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError
from ..observations import Testbed
from ..progress import report
from ..tables import ReportFiles
from ..trends import ALL, CATEGORIES, EVIDENCE_KEYS, THRESHOLDS, RealityCheck, Verdict
from ..trends.reality import CONFIDENT
from . import figures as F
from .html import Report, Section, anchor, esc, fmt_number, table_html

# Band of the fitted law drawn in the figures: a 90% confidence band, the laws engine's default level.
BAND_LEVEL = 0.9

CATEGORY_MEANING = {
    "predictable": "improves steadily as loss falls, and the law (exponential in loss) follows the points closely on "
                   "the plot scaled to the data (it explains most of the visible variance), including a floor followed "
                   "by a rise still going at the largest model",
    "inverse": "a visible trend that gets worse as loss falls",
    "non-monotonic": "a reversal the eye sees: two straight arms going opposite ways, the smaller one a large share "
                     "of the plotted range (inverted-U: better then worse; U-shaped: worse then better)",
    "noisy": "a visible trend, but the law explains under the stated share of the visible variance: the scatter "
             "around it is large on the plot, whatever causes it (the caveat says whether sampling noise could)",
    "trendless": "no visible trend: no smooth curve changes by a sizeable share of the plotted range and clears the "
                 "scatter around it (typically flat near chance)",
    "breakthrough": "flat for the smaller models, a sharp jump, then flat again: a shape the exponential, bending one "
                    "way only, does not follow",
    "insufficient-data": "too few models, missing values, or a constant series: no verdict possible",
}

# How the reading relates to the Reality Check paper (Lourie, Hu and Cho 2025), from benchmarks/expert_agreement.py.
PAPER_NOTE = (
    "The criteria read the plot the Reality Check paper's readers judged (Lourie, Hu and Cho 2025: by eye, one plot "
    "a task, both axes scaled to the data), in its own units: shares of the visible variance, shapes, a reversal's "
    "size against the range. Sampling noise, distance from chance and significance do not decide the category; "
    "they are the caveat after each reason. Designed on 12 of the 23 calibration labels and frozen, the classifier "
    "agreed with 8 of the other 11 (an upper bound: all 23 had been read in an earlier round); with its free numbers "
    "refitted inside leave-one-out cross-validation on all 23 it agrees with 21 of 23 six-way (after changes made "
    "once the check part had been scored: see benchmarks/expert_agreement.py), 23 of 23 on predictable-or-not, and "
    "has the label among its two most probable categories for 23 of 23. Where it and the paper part ways is at the "
    "edge of 'a visible trend' near chance: plots the paper's readers called noisy that this reading calls "
    "trendless or a breakthrough; the verdict then gives both "
    "categories with their probabilities.")

# Evidence rows shown under each task (every key of EVIDENCE_KEYS, as in verdicts.csv), in plain words.
EVIDENCE_LABELS = {
    "n_models": "models", "median_noise_sd": "median sampling sd", "chance": "chance level",
    "spearman_rho": "Spearman rho (with scale)", "spearman_p": "Spearman p", "chi2_const": "chi2 of a constant",
    "chi2_exp": "chi2 of the law", "chi2_red_exp": "chi2/dof of the law", "exp_vs_const_p": "law vs constant p",
    "trend_p": "trend p (law, floor-then-rise or ranks vs constant)", "rise": "rise of the law (better is +)",
    "turn_x": "turn at x", "turn_arm_sd": "smaller arm of the turn (sampling sds)",
    "turn_arm_range": "smaller arm of the turn / plotted range",
    "turn_arm_scatter": "smaller arm of the turn / scatter around the arms", "break_x": "break at x",
    "floor": "floor level", "floor_share": "share on the floor", "rise_span": "share of the range the rise takes",
    "plateau_share": "share on the plateau after the rise",
    "visible_r2_exp": "visible variance the exponential explains",
    "visible_r2_break": "visible variance the floor-then-rise explains",
    "visible_r2_smooth": "visible variance the best smooth curve explains",
    "visible_break_gain": "floor-then-rise minus exponential", "visible_trend_range": "visible trend / plotted range",
    "visible_rise_scatter": "visible trend / scatter around its curve",
    "rise_scatter_guard": "trend / scatter that flat plots of as many models show (1 in 20)",
    "dispersion": "scatter / sampling variance", "scatter_sd": "scatter sd (rms)",
    "signal_to_scatter": "rise / scatter sd", "above_chance_share": "share clearly above chance",
    "law_top_above_chance": "law at the largest model, above chance",
    "margin_certainty": "probability of the verdict (before rounding)",
    "groups_p": "one law per group vs one for all, p", "groups_visible_gain": "visible variance gained by a law per group",
    "n_groups": "groups with enough models",
}
assert set(EVIDENCE_LABELS) == set(EVIDENCE_KEYS), "every evidence number must be shown"


def badge(category: str, confidence: float | None = None) -> str:
    """A coloured category label (safe HTML)."""
    colour = F.CATEGORY_COLOURS.get(category, "#4d4d4d")
    conf = f" {confidence:.2f}" if confidence is not None and math.isfinite(confidence) else ""
    return f'<span class="badge" style="background:{colour}">{esc(category)}{esc(conf)}</span>'


def _curves(result: RealityCheck, task: str, colours: dict[str, str]) -> list[F.Curve]:
    curves = []
    for scope in result.scopes:
        try:
            v = result.verdict(task, scope)
        except SelectionError:  # a scope without a verdict has nothing to draw
            continue
        if v.fit is None or not v.fit.usable:
            continue
        if scope == ALL:
            curves.append(F.Curve(v.law, f"{v.fit.form} law, all ({v.category})", "#000000",
                                  band=_band(v), width=2.0))
        else:
            curves.append(F.Curve(v.law, f"{scope} law", colours.get(scope, "#777777"), style="--", width=1.1))
    return curves


def _band(v: Verdict) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    fit = v.fit
    if fit is None or not hasattr(fit, "interval"):
        return None

    def band(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xx = np.log(x) if v.law_on_log_x else x
        return fit.interval(xx, level=BAND_LEVEL, kind="confidence")

    return band


def _marks(v: Verdict) -> list[tuple[float, str]]:
    if v.category == "non-monotonic":
        return [(v.evidence.get("turn_x", math.nan), f"turn ({v.shape})")]
    if v.category == "breakthrough":
        return [(v.evidence.get("break_x", math.nan), "break")]
    return []


def task_figure_png(result: RealityCheck, task: str) -> bytes | None:
    """The task's figure: all models coloured by group, the pooled law with its band, per-scope laws."""
    series = result.series.get((task, ALL))
    if series is None or len(series) == 0:
        return None
    v = result.verdict(task, ALL)
    colours = F.group_colours(series.groups)
    fig = F.series_figure(series, _curves(result, task, colours), title=f"{task}: {v.category}",
                          marks=_marks(v), colours=colours)
    return F.to_png(fig)


def _evidence_table(result: RealityCheck, task: str) -> str:
    verdicts = [v for v in result.verdicts if v.task == task]
    rows = []
    for v in verdicts:
        row = {"scope": v.scope, "verdict": badge(v.category, v.confidence), "shape": v.shape or "",
               "probabilities": ", ".join(f"{c} {p:.2f}" for c, p in sorted(v.probabilities.items(),
                                                                            key=lambda kv: -kv[1]) if p >= 0.05),
               "why": v.reason}
        rows.append(row)
    head = table_html(pd.DataFrame(rows), safe_columns=("verdict",))
    ev = pd.DataFrame({v.scope: [v.evidence.get(k, math.nan) for k in EVIDENCE_KEYS] for v in verdicts},
                      index=[EVIDENCE_LABELS[k] for k in EVIDENCE_KEYS])
    ev.index.name = "evidence"
    return head + table_html(ev, index=True)


def _overview(result: RealityCheck) -> str:
    rows = []
    for task in result.tasks:
        row = {"task": f'<a href="#{esc(anchor("task-" + task))}">{esc(task)}</a>'}
        for scope in result.scopes:
            try:
                v = result.verdict(task, scope)
                row[scope] = badge(v.category, v.confidence)
            except SelectionError:
                row[scope] = ""
        rows.append(row)
    df = pd.DataFrame(rows)
    return table_html(df, safe_columns=df.columns)


def _criteria_table() -> pd.DataFrame:
    return pd.DataFrame({"threshold": list(THRESHOLDS), "value": list(THRESHOLDS.values())})


def build_report(result: RealityCheck, testbed: Testbed | None = None,
                 figures: dict[str, bytes] | None = None) -> Report:
    """The report as a :class:`Report` (``figures``: task -> PNG; drawn here when not given)."""
    figures = figures if figures is not None else {t: png for t in result.tasks
                                                   if (png := task_figure_png(result, t)) is not None}
    name = result.testbed_name or (testbed.name if testbed is not None else "") or "testbed"
    rep = Report(f"Reality check: {name}",
                 f"Does each task scale predictably with {result.x}? {len(result.tasks)} tasks, scopes: "
                 f"{', '.join(result.scopes)}. Generated by scalecheck.")
    share = result.share_predictable(ALL)
    summary = rep.add_section("Summary", id="summary")
    counts = result.counts()
    n_all = result.n_with_verdict(ALL)
    n_pred = result.n_predictable(ALL)
    n_any = int(counts.loc[ALL, "predictable"]) if ALL in counts.index else 0
    share_text = fmt_number(100 * share, 3) + "%" if math.isfinite(share) else "-"
    summary.add(f'<p class="headline">Predictable (confidence &ge; {CONFIDENT:g}): <b>{n_pred}</b> of {n_all} '
                f"tasks with enough data, over all models (<b>{esc(share_text)}</b>); {n_any} are predictable at any "
                "confidence.</p>")
    shares = {s: result.share_predictable(s) for s in result.scopes}
    tab = counts.copy()
    tab[f"share predictable (confidence >= {CONFIDENT:g})"] = [shares[s] for s in tab.index]
    summary.add_table(tab, "verdicts per scope (rows) and behaviour (columns)", index=True)
    summary.add(_overview(result))

    crit = rep.add_section("The six behaviours and their criteria", id="criteria")
    crit.add(table_html(pd.DataFrame({"behaviour": [badge(c) for c in CATEGORIES],
                                      "meaning": [CATEGORY_MEANING[c] for c in CATEGORIES]}),
                        safe_columns=("behaviour",)))
    crit.add_text("Each series is oriented so that better is up and scale grows to the right, and read as its plot "
                  "is drawn: both axes scaled to the data, every point weighing alike. The criteria are applied in "
                  "order: insufficient data; a reversal (two straight arms going opposite ways, the smaller one a "
                  "large share of the range and clear of the scatter); no visible trend (no smooth curve changes by "
                  "a sizeable share of the range, clear of the scatter); inverse (the visible trend goes down); "
                  "flat-jump-flat (a floor, a sharp rise and a plateau, which the exponential cannot follow); noisy "
                  "(the law explains too little of the visible variance); then predictable. Each criterion gives "
                  "the probability that it holds (logistic in its margins, the softness fitted on simulated series); "
                  "chained in order they give the six probabilities, the verdict is the most probable, and where "
                  "the runner-up has 0.25 or more the reason names both. After the reading, the caveat: whether "
                  "sampling noise (the reported standard error, else binomial from the number of examples) could "
                  "explain the scatter, whether the trend is significant, and how far the scores sit from chance.")
    crit.add_text(PAPER_NOTE)
    crit.add_table(_criteria_table(), "thresholds (scalecheck.trends.classify)")

    rep.add_section("Tasks", id="tasks").add_text(
        "One figure per task: points are models coloured by corpus with 1-sd sampling error bars; the black line "
        f"is the law fitted to all models with its {BAND_LEVEL:.0%} confidence band; dashed lines are per-scope "
        "laws; the dotted line is chance. Below each figure: the verdict in every scope, why, and the evidence.")
    for task in result.tasks:
        sec = Section(task, id=anchor("task-" + task), level=3)
        if task in figures:
            sec.add_figure(figures[task], alt=f"{task}: score against {result.x}")
        sec.add(_evidence_table(result, task))
        rep.sections.append(sec)
    return rep


def write_report(result: RealityCheck, testbed: Testbed | None, out_dir: str | Path,
                 progress: Callable[[int, int, str], None] | None = None) -> ReportFiles:
    """Write ``verdicts.csv`` and ``verdicts_summary.csv`` (:meth:`RealityCheck.write`), ``figures/<task>.png``
    and ``report.html`` into ``out_dir``; return the files (``files["verdicts"]``, ``files.html``,
    ``files.figures``)."""
    out = Path(out_dir)
    tables = result.write(out)  # first: the verdicts survive even if drawing fails
    stems = F.figure_stems(result.tasks)
    pngs: dict[str, bytes] = {}
    paths: list[Path] = []
    for i, task in enumerate(result.tasks):
        report(progress, i, len(result.tasks), task)
        png = task_figure_png(result, task)
        if png is not None:
            pngs[task] = png
            paths += F.write_figures(out / "figures", [(stems[task], png)])  # each as soon as it is drawn
    report(progress, len(result.tasks), len(result.tasks), "report")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    html = build_report(result, testbed, pngs).write(out / "report.html")
    return tables.with_report(html, tuple(paths))


__all__ = ["write_report", "build_report", "task_figure_png", "CATEGORY_MEANING", "EVIDENCE_LABELS"]
