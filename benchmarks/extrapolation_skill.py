"""Extrapolation skill against no change: each testbed's declared hold-out predicted from its smaller models.

For each testbed's hold-out, fitted on the other models only:

* Gadre et al. 2024 (built-in): the 1.4B and 6.9B runs, x = C4 validation loss (the testbed's default);
* the OLMo ladder (``shared/data/olmo_ladder``): the 7B and 13B targets, x = FLOPs, rc variant;
* Pythia (``shared/data/pythia_evals``): the two largest sizes (6.9B, 12B; standard and deduped), x = params,
  zero-shot, final checkpoints;
* Sloth (built-in ``sloth2024``): each family's largest size, x = FLOPs (a family's models share a law shape or
  not: groups are the families).

Per task (and scope) it scores every form below and the **no-change forecast**: each held-out model is predicted to
score what the fit set's largest size scored (the mean over that size's models in the held-out model's own group,
corpus or family; over every group when its group has none in the fit set). The realised skill of a law on a task
is ``1 - MAE_law / MAE_no_change`` over the task's held-out models (1: perfect, 0: no better than no change,
negative: worse). The verdict is the reality check's (``scalecheck.trends.classify``) on the **fit set alone**.

Forms: ``auto`` (the default of ``scalecheck backtest``: the candidate laws that pass an inner backtest on the fit
set and no change, weighted by their inverse mean squared inner error, groups by BIC, :mod:`scalecheck.laws.select`),
each candidate form alone (groups by BIC), and the pooled exponential law (``exponential_pooled``: one exponential
for every group, the old default) to compare. ``auto_chose`` counts the form the inner backtest ranks first (what
``auto`` used alone before the combination).

``--validate`` asks the same question inside each fit set, the hold-out left out: each group's largest fitted size
predicted from its smaller sizes. Rules are compared there, not on the hold-out.

What was fixed when (held-out figures are only honest for rules fixed before they were seen):

* before this benchmark was first run (last session): the candidate forms, the inner backtest (two origins) and
  the BIC choice of groups;
* after that first run had shown every law losing to no change on Pythia and Sloth (last session, so chosen having
  seen those hold-outs, neither with a free number): no change as a candidate, and no change for a fit set the
  reality check calls trendless;
* this session, knowing last session's hold-out figures (skill_predictable 0 on Pythia and Sloth, auto behind the
  pooled exponential on OLMo): ``auto`` became the combination above instead of the inner winner, and the
  trendless rule was dropped. The choice was made on ``--validate`` only, among nine rules (the winner, with and
  without the trendless rule and with no change left out; the plain median of the passing laws, with and without
  no change, with and without the trendless rule, or only of the laws beating no change; the weighted median and
  the weighted mean by inverse inner error, the latter with and without the trendless rule), by the lowest
  validation MAE on Gadre, OLMo and Pythia (Sloth's validation had not finished): validation MAE of the old rule
  vs the chosen one, Gadre 4.96 vs 3.14, OLMo 1.53 vs 1.36, Pythia 3.06 vs 2.65 (no change: 3.78, 5.08, 2.88).
  The combination has no free number. The reliability estimate became the combined forecast's own inner track
  record (its skill against no change over the inner backtest) at the same time, compared on validation only with
  the exponential's median inner skill (Spearman with realised skill: OLMo 0.72 vs 0.58, Pythia -0.25 vs -0.07).
  Both were then run once on the hold-outs (below).
* the next session (issue 20 item 2), knowing every hold-out figure below: the reliability estimate became
  ``expected_skill`` (:mod:`scalecheck.laws.reliability`): the skill against no change auto's forecast expects of
  itself at the held-out models' x, ``1 - E|Y-p| / E|Y-nc|`` with Y from its own predictive distribution (normal,
  the scale of its 90% interval). No free number. Chosen on ``--validate`` only, from per-task data dumped once
  (``auto``'s forecast, its members, its inner track record, the fit set), among estimates on the skill scale (a
  number a user reads as a skill), by the highest mean Spearman over the four validation testbeds, candidates
  within 0.02 of it going to the one with fewer ingredients. That criterion was written down after the first
  candidates' validation figures had been seen, not before. Validation Spearman (Gadre, OLMo, Pythia, Sloth;
  mean): expected skill 0.34, 0.80, 0.23, 0.05 (0.35); the track record it replaces -, 0.36, 0.01, 0.23 (Gadre's
  validation fit sets have three sizes: no inner backtest); expected skill times the track record's
  rule-of-succession share held ((held + 1) / (run + 2)) 0.34, 0.80, 0.19, 0.10 (0.36: within 0.02, more
  ingredients); the interval's scale widened to the inner error (max 0.33, root sum of squares 0.33), the sampling
  sd in its place (0.24), the track record where negative else the expected skill (0.31), their product (0.32),
  their mean rank (0.33), the expected skill shrunk toward the track record by its inner origins (0.33). Raw
  fit-set features, not skills, were looked at too: the predicted change over the sampling sd (0.24), the last
  size step or the whole span over it (0.21, 0.26), monotonicity (0.21), and the regularity of the steps (minus
  their coefficient of variation: 0.53, 0.56, -0.03, 0.38; mean 0.36, but below 0 on Pythia and no estimate of
  skill). No candidate reached 0.5 on Pythia's or Sloth's validation. The hold-outs were then run once with this
  rule (figures below, "this session's estimate").
  skill_predictable: no change to ``auto`` was made. On validation its median on predictable tasks is Gadre 0.47,
  OLMo 0.77, Pythia 0.33, Sloth -0.10, and on Sloth's no single form reaches 0.3 (the best, direct compute, 0.09;
  no change 0 by definition), so no combination rule can; dropping no change from the combination on predictable
  tasks, recomputed from the members (a recomputation that gives Gadre 0.45, OLMo 0.77, Pythia 0.34, Sloth -0.22
  for the rule as it is), gave 0.44, 0.77, 0.37, -0.25.

The prediction intervals are the calibrated model of :mod:`scalecheck.laws.prediction` (calibrated on expanding-
window backtests, not on these hold-outs); ``auto``'s interval pools its members' predictive distributions.

Measured on the hold-outs (this session, after the changes above; ``mae`` in points of accuracy-like tasks; last
session's figures in brackets): Gadre auto 3.41 [3.52] against the pooled exponential's 7.10 (no change 7.00),
skill_predictable 0.72 [0.67] (15 tasks; every other verdict <= 0.23), reliability_rank_correlation 0.70 [0.51];
OLMo ladder 2.39 [2.17] against 1.47 (no change 4.10): **worse than the pooled exponential** (the laws that
flatten, loglog, broken_power and linear, keep weight from a short inner backtest while the exponential and direct
compute laws keep delivering out to 13B), skill_predictable 0.50 [0.55], rank correlation 0.24 [0.32]; Pythia 4.16
[3.34] against 5.09 (no change 3.40): **worse than no change**, skill_predictable 0.05 [0.00] (13 tasks, 7 of them
crows_pairs likelihood differences where every form is about no change; the 6 accuracy tasks' median 0.25), below
non-monotonic's 0.19, rank correlation 0.02 [-0.04]; Sloth 7.26 [8.28] against 11.01 (no change 7.13): about no
change, skill_predictable 0.02 [0.00] (78 of 108 tasks called predictable; breakthrough 0.39 on 4), rank
correlation -0.03 [-0.31]. Coverage of auto's 90% intervals: Gadre 0.80, OLMo 0.70, Pythia 0.99, Sloth 0.88.
Targets met: mae below the pooled exponential on Gadre, Pythia and Sloth (not OLMo); skill_predictable >= 0.3 and
above every other verdict on Gadre only (OLMo 0.50 has no other verdict); rank correlation >= 0.5 on Gadre only.

This session's estimate (the expected skill above), each hold-out run once after the rule was committed
(``--testbeds NAME``, one testbed a run, the code of main after the predictive median merged; the inner track
record's correlation, the estimate before, in brackets, from the same run): reliability_rank_correlation Gadre
0.743 [0.714], OLMo 0.600 [0.238], Pythia 0.335 [0.031], Sloth -0.230 [0.089]: met on Gadre and OLMo, missed on
Pythia and Sloth. The same runs, of ``auto`` as it is
(no rule of it changed this session): mae Gadre 3.79 (pooled exponential 6.14, no change 7.00), OLMo 2.82 (1.57,
4.10), Pythia 2.99 (3.14, 3.40), Sloth 7.83 (10.54, 7.13); skill_predictable Gadre 0.568 (every other verdict <= 0.154), OLMo
0.376 (no other verdict), Pythia 0.023 (non-monotonic 0.202), Sloth -0.072 (breakthrough 0.305 on 4 tasks); coverage of the 90% intervals Gadre
0.88, OLMo 0.80, Pythia 1.00, Sloth 0.88. Why Sloth misses (read after the hold-out, nothing changed for it): the
tasks whose forecast predicts the largest change against its own interval, MMLU subjects and the hard MATH
subsets, lose to no change there (the families' largest models do not deliver the change), and the expected
skill trusts the forecast's own distribution, so it inherits its misses; its validation figure (0.05) had warned.

After the merge with the intervals adapted to each testbed (:func:`scalecheck.laws.prediction.adapt`, the
backtest's default; the estimate reads the adapted intervals), each testbed run once (``--testbeds NAME``, main at
dce2e60, nothing chosen on these figures): reliability_rank_correlation Gadre 0.742, OLMo 0.600, Pythia 0.335,
Sloth -0.242 (track record 0.708, 0.238, 0.031, 0.094); mae Gadre 3.78 (pooled exponential 6.14), OLMo 2.82
(1.57), Pythia 2.99 (3.14), Sloth 7.88 (10.54; no change 7.13); skill_predictable Gadre 0.568 (every other verdict
<= 0.153), OLMo 0.376, Pythia 0.023 (non-monotonic 0.202), Sloth -0.067 (breakthrough 0.277); coverage of the 90%
intervals Gadre 0.90, OLMo 0.80, Pythia 1.00, Sloth 0.90.

The session after (issues 19/20, knowing every figure above): the inner backtest's origins became each group's own
(:func:`scalecheck.laws.select.inner_splits`: every corpus's or family's largest fitted size held out, then its two
largest, a group taking part while it keeps a smaller size), the question a forecast of a group's next size asks;
on the pooled sizes only the groups reaching the largest sizes overall had been held out (on Sloth one to three
families of 22). No free number; Gadre's splits are unchanged (its corpora share their sizes). Committed (dee00a4)
before any figure of it was seen; the adoption criterion was written down after OLMo's and Pythia's validation
figures and before Sloth's: validation MAE of ``auto`` lower on at least two of the three testbeds it changes and
higher on none by more than 5%. ``--validate`` (old -> new; no change): MAE OLMo 1.298 -> 1.246 (5.083), Pythia
2.490 -> 2.477 (2.875), Sloth 5.482 -> 5.084 (4.498); skill_predictable 0.771 -> 0.770, 0.334 -> 0.257, -0.141 ->
-0.099; rank correlation 0.795 -> 0.620, 0.231 -> 0.284, 0.029 -> 0.061 (the track record's 0.362 -> 0.499, 0.010
-> 0.129, 0.237 -> 0.329). Adopted; each hold-out then run once (``--testbeds NAME``, dee00a4), and again after
the no-change interval was refitted to the new inner backtests (6648300: ``NO_CHANGE_SCALE`` 1.897 -> 1.98; these
figures; dee00a4's differ by at most 0.01, the figures above, dce2e60, in brackets): mae OLMo 2.489 [2.82] (pooled
exponential 1.574), Pythia 2.949 [2.99] (3.142), Sloth 7.632 [7.88] (10.541; no change 7.126); skill_predictable
OLMo 0.452 [0.376], Pythia 0.023 [0.023] (non-monotonic 0.199), Sloth -0.098 [-0.067] (breakthrough 0.292);
reliability_rank_correlation OLMo 0.203 [0.600], Pythia 0.363 [0.335], Sloth -0.047 [-0.242]; coverage of the 90%
intervals OLMo 0.825 [0.80], Pythia 1.00, Sloth 0.953 [0.90]. The MAE fell on all three and OLMo's rank
correlation lost its target: its tasks' realised skills now lie within 0.16-0.68 but one, and 20 tasks give a
Spearman a standard error of about 0.2. Why Sloth's laws still lose to no change (read from ``--validate
--output`` before the hold-outs, nothing changed for it): ``auto`` over-predicts the older families' next size
(mean signed error +2.7 to +5.9 points on Pythia, BLOOM, RWKV and OPT) and under-predicts Qwen1.5's (-3.2): the
families do not improve at one rate.

Then, the same session (knowing the figures of the paragraph above), each form's grouping under ``auto`` chosen by
the same inner backtest instead of BIC (:mod:`scalecheck.laws.select`, "Groups": pooled, offsets or one law per
group, whichever has the lowest inner mean squared error; no free number). Committed on its own branch before any
figure; the adoption criterion written down before its validation run: validation MAE lower on at least three of
the four testbeds and higher on none by more than 5%. ``--validate`` (per-group origins alone -> with this): MAE
Gadre 3.001 -> 3.001 (its validation fit sets have three sizes: no inner backtest, BIC chooses as before), OLMo
1.246 -> 1.214, Pythia 2.477 -> 2.431, Sloth 5.084 -> 4.486 (no change 4.498); skill_predictable 0.471, 0.770 ->
0.782, 0.257 -> 0.274, -0.099 -> -0.023; rank correlation 0.341, 0.620 -> 0.544, 0.284 -> 0.254, 0.061 -> 0.137.
Adopted; each hold-out then run once (``--testbeds NAME``, e01a4ce; the per-group origins alone in brackets, the
figures of dce2e60 in braces): mae Gadre 3.774 [3.78] {3.78} (pooled exponential 6.142, no change 6.999), OLMo
2.714 [2.489] {2.82} (1.574; 4.100), Pythia 2.904 [2.949] {2.99} (3.142; 3.402), Sloth 7.018 [7.632] {7.88}
(10.541; 7.126): below no change on Sloth for the first time; skill_predictable Gadre 0.658 [0.568] (every other
verdict <= 0.147), OLMo 0.410 [0.452] (no other verdict), Pythia 0.023 [0.023] (non-monotonic 0.239), Sloth 0.010
[-0.098] (noisy 0.128); reliability_rank_correlation Gadre 0.738 [0.742], OLMo 0.677 [0.203] {0.600}, Pythia 0.364
[0.363], Sloth -0.055 [-0.047]; coverage of the 90% intervals Gadre 0.90, OLMo 0.85, Pythia 1.00, Sloth 0.96.
Against dce2e60 the two changes together lower the MAE on all four testbeds and raise skill_predictable on Gadre,
OLMo and Sloth; the targets still missed are OLMo's MAE against the pooled exponential, skill_predictable on Pythia
and Sloth, and the rank correlation on Pythia and Sloth.

The session after (2026-12-05, knowing every figure above). One rule tried and not adopted: the inner backtest
asking only the held-out points that extrapolate (beyond every fitted point of their group on the law's axis, in
the direction the sizes grow: on FLOPs a larger size trained on fewer tokens sits inside the fitted range), no
free number, branch ``reach``; the criterion, written before its first figure: validation MAE lower on at least
three testbeds of four (one left identical counts as neither), none higher by more than 5%. ``--validate``: Gadre
3.001 = 3.001, OLMo 1.214 -> 1.212, Pythia 2.431 = 2.431 (params order its sizes as its axis does); with two
testbeds unchanged the criterion could not be met, Sloth's validation was not run, nor any hold-out. The OLMo
ladder's validation question is not its hold-out's: on ``--validate`` the smoothly broken power law is the best
form (MAE 1.175, the pooled exponential 1.579, auto 1.214); on the hold-out (the OLMo-2 7B anneal and 13B, 4.2x the
ladder's largest size and another recipe) the order flips (exponential 1.457, broken power 2.923), so no rule
chosen on validation should be expected to put auto below the pooled exponential there.
The two ceilings above were then added and measured (main at a1b9cb5, the rules unchanged; figures in the
final line): skill_predictable_oracle Gadre 0.797, OLMo 0.75, Pythia 0.257, Sloth 0.30; realised_skill_reliability
ceiling Gadre 0.912, OLMo 0.877, Pythia 0.766, Sloth 0.643. On Pythia no rule that picks a form or shrinks it
toward no change per task reaches a median skill of 0.3 on its predictable tasks (8 of its 13 are crows_pairs
likelihood differences); on Sloth only the per-task oracle mix reaches it. The rank correlation's target (0.5) is
below the ceiling everywhere.

A fifth testbed, blind (second session of 2026-12-05, every rule fixed before its first run; ``--testbeds
obsscaling``, not in the default list): the ObsScaling models (``shared/data/obsscaling``, Ruan et al. 2024), which
declare no hold-out, so Sloth's rule, each family's largest size, x = FLOPs, groups the families. Many of its models
are also in Sloth; most of its tasks are not. Its one run: auto MAE 7.784 points, the pooled exponential 8.907, no
change 8.756; skill_predictable 0.489 (13 tasks; noisy 0.421, non-monotonic 0.225, breakthrough -1.621; its oracle
0.524); 90% coverage 0.923; reliability_rank_correlation 0.401 (the track record 0.322; ceiling 0.909). Issue 19's
targets hold there (auto below the pooled exponential, skill_predictable >= 0.3 and above every other verdict);
issue 20's rank correlation (0.5) does not.

Output: per testbed a table of tasks (``task_table``: one row per task and scope, the column a per-task estimate of
skill can be added to; ``--output DIR`` writes it as ``skill_<testbed>.csv``, and every form's predictions as
``predictions_<testbed>.csv``), a summary, and as the final line a
JSON object: ``testbeds.<name>``: ``no_change`` (the rule, stated), ``mae`` (points, accuracy-like tasks: the
headline ``auto`` and ``mae_pooled_exponential``), ``skill_by_verdict`` (median realised skill of ``auto`` per
fit-set verdict), ``skill_predictable``, ``skill_by_form`` (median over all tasks), ``form_wins`` (per form: tasks
on which it had the lowest hold-out MAE of the fixed forms, and its median margin over the runner-up in points)
and ``auto_chose`` (how often the inner backtest chose each form), ``coverage`` of ``auto``'s 90% intervals,
``reliability_rank_correlation`` (Spearman between the estimated skill and ``auto``'s realised skill across
tasks; ``_track``: of the inner track record instead, the estimate before).

Two ceilings, figures of what the data allow rather than of a rule (added 2026-12-05, nothing chosen on them):
``skill_predictable_oracle``, per task the best mix ``w law + (1 - w) no change`` of any form's forecast (auto's,
each fixed form's, the pooled exponential's) with no change's, form and w (0, 0.05, ..., 1) picked with the
hold-out's truths known, the median on tasks called predictable (no rule that picks a form or shrinks it toward no
change per task from the fit set can beat it); ``realised_skill_reliability``, the split-half reliability of ``auto``'s realised skill across tasks (held-out
models split at random in halves, 200 times; Spearman between the halves' skills, Spearman-Brown corrected) and
its square root, about the highest rank correlation any estimate of the skill can reach.

    python benchmarks/extrapolation_skill.py [--testbeds gadre olmo pythia sloth [obsscaling]] [--output DIR] [--validate]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from _shared import shared_data_dir  # benchmarks/_shared.py

import scalecheck
from scalecheck.backtest import backtest
from scalecheck.backtest.engine import group_column, testbed_series
from scalecheck.laws.reliability import reliability
from scalecheck.laws.select import choose_forms
from scalecheck.observations import Selection
from scalecheck.trends import classify

FORMS = ("auto", "exponential", "direct_compute", "loglog", "broken_power", "linear")
HEADLINE = "auto"
POOLED = "exponential_pooled"
NO_CHANGE = ("each held-out model predicted to score what the fit set's largest size scored (mean over that "
             "size's models in the held-out model's group: corpus or family; over all groups when its group has "
             "none in the fit set)")


@dataclass
class Spec:
    name: str
    x: str
    selection: dict = field(default_factory=dict)
    holdout: list[str] | None = None  # model ids; None: the testbed's holdout column


def load(name: str):
    """The testbed and what its hold-out backtest selects."""
    data = shared_data_dir()
    if name == "gadre":
        tb = scalecheck.load("gadre2024")
        return tb, Spec(name, tb.default_x())
    if name == "olmo":
        tb = scalecheck.load("olmo-ladder", data / "olmo_ladder")
        return tb, Spec(name, "flops", {"variant": "rc"})
    if name == "pythia":
        tb = scalecheck.load("pythia", data / "pythia_evals")
        m = tb.models
        big = m.loc[m["params"] >= 6e9, "model"].tolist()
        return tb, Spec(name, "params", {"shots": 0}, holdout=big)
    if name == "sloth":
        tb = scalecheck.load("sloth2024")
        return tb, Spec(name, "flops")
    if name == "obsscaling":  # declares no hold-out: Sloth's rule, each family's largest size
        tb = scalecheck.load("obsscaling", data / "obsscaling")
        m = tb.models
        big = m.loc[m["params"] == m.groupby("family")["params"].transform("max"), "model"].tolist()
        return tb, Spec(name, "flops", holdout=big)
    raise SystemExit(f"unknown testbed {name!r}")


def _series(tb, spec: Spec):
    sel = Selection.of(None, x=spec.x, checkpoints="final", **spec.selection).validate(tb)
    data = sel.apply(tb)
    return data, testbed_series(data, spec.x, **sel.setting())


def _held(series, spec: Spec) -> np.ndarray:
    if spec.holdout is None:
        return np.asarray(series.holdout, bool)
    ids = set(spec.holdout)
    return np.array([m in ids for m in series.models], bool)


def validation_split(series_list, spec: Spec) -> tuple[list, Spec]:
    """The validation question inside the fit set (the hold-out itself never seen): each series without its
    hold-out, its largest size (per group: corpus or family) held out in its place. Rules are compared here."""
    from scalecheck.backtest.windows import size_ranks, size_scale

    out, ids = [], set()
    for s in series_list:
        fit = s.subset(~_held(s, spec))
        if len(fit) < 4:
            continue
        ranks = size_ranks(size_scale(fit))
        groups = np.asarray(fit.groups, object)
        top = np.zeros(len(fit), bool)
        for g in set(groups.tolist()):
            m = groups == g
            if len(np.unique(ranks[m])) >= 4:  # a group keeps three sizes to fit
                top |= m & (ranks == ranks[m].max())
        if top.any():
            out.append(fit)
            ids |= set(np.asarray(fit.models, object)[top].tolist())
    return out, Spec(spec.name, spec.x, spec.selection, holdout=sorted(ids))


def no_change(series, held: np.ndarray) -> np.ndarray:
    """The no-change forecast of each held-out point (see NO_CHANGE)."""
    from scalecheck.backtest.windows import size_ranks, size_scale

    fit = ~held
    ranks = size_ranks(size_scale(series))
    groups = np.asarray(series.groups, object)
    out = np.full(int(held.sum()), np.nan)
    for j, i in enumerate(np.flatnonzero(held)):
        own = fit & (groups == groups[i])
        pool = own if own.any() else fit
        top = ranks[pool].max()
        out[j] = float(np.mean(series.y[pool & (ranks == top)]))
    return out


def task_table(tb, spec: Spec, validate: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per task and scope: verdict of the fit set, MAE of no change and of every form (in the task's
    units), realised skills, the form ``auto`` chose. And the prediction frame of every form. ``validate``: the
    validation question inside the fit set instead of the hold-out (:func:`validation_split`)."""
    data, series_list = _series(tb, spec)
    if validate:
        series_list, spec = validation_split(series_list, spec)
    kept = [s for s in series_list if _held(s, spec).any() and (~_held(s, spec)).sum() >= 3]
    # The inner backtest on each fit set alone: what auto combines by, the form it ranks first, and the
    # reliability estimate (scalecheck.laws.reliability: the combined forecast's inner track record).
    choices = choose_forms([s.subset(~_held(s, spec)) for s in kept])
    nochange_rows = []
    for s, choice in zip(kept, choices, strict=True):
        held = _held(s, spec)
        fit_set = s.subset(~held)
        verdict = classify(fit_set).category
        rel = reliability(fit_set, choice=choice)
        base = no_change(s, held)
        scale = 100.0 if (s.higher_is_better and s.metric_is_proportion) else 1.0
        nochange_rows.append({"task": s.task, "scope": s.scope_label, "metric": s.metric, "verdict": verdict,
                              "units": "points" if scale == 100.0 else s.metric, "n_heldout": int(held.sum()),
                              "mae_no_change": float(np.mean(np.abs(base - s.y[held]))) * scale,
                              "estimated_skill_track": rel.estimated_skill, "reliability": rel.reading,
                              "inner_first": choice.form,
                              **{f"inner_{form}": v for form, v in choice.inner_mae.items()}})
    table = pd.DataFrame(nochange_rows)
    frames = []
    hold = spec.holdout if spec.holdout is not None else None
    for form in FORMS:
        bt = backtest(kept, forms=[form], scheme="holdout", holdout=hold, verdicts=False)
        frames.append(bt.frame())
    bt = backtest(kept, forms=["exponential"], scheme="holdout", holdout=hold, verdicts=False, groups="pooled")
    frames.append(bt.frame().assign(form=POOLED))
    frame = pd.concat(frames, ignore_index=True)
    # The reliability estimate (scalecheck.laws.reliability.estimated_skill): the skill against no change that
    # auto's forecast expects of itself at the held-out models' x, from the fit set alone (one value per task).
    est = frame[frame["form"] == HEADLINE].groupby(["task", "scope"])["estimated_skill"].first()
    table = table.merge(est.rename("estimated_skill").reset_index(), on=["task", "scope"], how="left")
    # A task's MAE counts every held-out model: an unusable prediction is scored as no change (what a user
    # left without a law would say), so a form cannot look good by refusing the hard tasks.
    frame = frame.merge(_nochange_frame(kept, spec), on=["task", "scope", "model"], how="left")
    err = np.where(frame["usable"].astype(bool), frame["abs_error"], frame["abs_error_no_change"])
    frame["abs_error_scored"] = err
    per = frame.groupby(["task", "scope", "form"])["abs_error_scored"].mean().unstack("form")
    per.columns = [f"mae_{c}" for c in per.columns]
    table = table.merge(per.reset_index(), on=["task", "scope"], how="left")
    for form in (*FORMS, POOLED):
        with np.errstate(all="ignore"):
            table[f"skill_{form}"] = 1.0 - table[f"mae_{form}"] / table["mae_no_change"]
    table["auto_form"] = table["inner_first"]
    return table, frame


def _nochange_frame(series_list, spec) -> pd.DataFrame:
    rows = []
    for s in series_list:
        held = _held(s, spec)
        scale = 100.0 if (s.higher_is_better and s.metric_is_proportion) else 1.0
        base = no_change(s, held)
        for m, b, y in zip(np.asarray(s.models, object)[held], base, s.y[held], strict=True):
            rows.append({"task": s.task, "scope": s.scope_label, "model": m, "abs_error_no_change": abs(b - y) * scale,
                         "no_change_predicted": b})
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, frame: pd.DataFrame) -> dict:
    skill = table[f"skill_{HEADLINE}"]
    finite = table[np.isfinite(skill)]
    by_verdict = {v: round(float(g[f"skill_{HEADLINE}"].median()), 3)
                  for v, g in finite.groupby("verdict") if len(g)}
    n_by_verdict = {v: int(len(g)) for v, g in finite.groupby("verdict")}
    points = table[table["units"] == "points"]
    fixed = [f for f in FORMS if f != HEADLINE]
    wins: dict[str, dict] = {f: {"tasks_won": 0, "margins": []} for f in fixed}
    for _, r in table.iterrows():
        maes = {f: r[f"mae_{f}"] for f in fixed if np.isfinite(r[f"mae_{f}"])}
        if len(maes) < 2:
            continue
        order = sorted(maes, key=maes.get)
        wins[order[0]]["tasks_won"] += 1
        wins[order[0]]["margins"].append(maes[order[1]] - maes[order[0]])
    form_wins = {f: {"tasks_won": w["tasks_won"],
                     "median_margin": round(float(np.median(w["margins"])), 3) if w["margins"] else None}
                 for f, w in wins.items()}
    head = frame[(frame["form"] == HEADLINE) & frame["usable"].astype(bool)]
    cov = head["covered"].dropna().astype(bool)
    pts = frame[frame["units"] == "points"]

    def mae_of(form):
        g = pts[pts["form"] == form]["abs_error_scored"]
        return round(float(g.mean()), 3) if len(g) else None

    return {
        "no_change": NO_CHANGE,
        "n_tasks": int(len(table)), "n_predictions": int((frame["form"] == HEADLINE).sum()),
        "mae": mae_of(HEADLINE), "mae_pooled_exponential": mae_of(POOLED),
        "mae_by_form": {f: mae_of(f) for f in (*FORMS, POOLED)},
        "mae_no_change": round(float(pts.drop_duplicates(["task", "scope", "model"])["abs_error_no_change"].mean()), 3)
        if len(pts) else None,
        "skill_by_verdict": by_verdict, "n_tasks_by_verdict": n_by_verdict,
        "skill_predictable": by_verdict.get("predictable"),
        "skill_by_form": {f: round(float(np.nanmedian(table[f"skill_{f}"])), 3) for f in (*FORMS, POOLED)},
        # A ceiling, not a rule: per task the best mix of one form's forecast and no change's, w law + (1 - w) no
        # change, form and w picked with the hold-out's truths known, the median on tasks called predictable. No
        # rule that picks a form, shrinks it toward no change, or both, per task from the fit set, can beat it.
        "skill_predictable_oracle": _oracle(table, frame),
        "form_wins": form_wins,
        "auto_chose": {k: int(v) for k, v in table["auto_form"].value_counts().items()},
        "coverage": round(float(cov.mean()), 3) if len(cov) else None,
        "n_unusable": int((~frame[frame["form"] == HEADLINE]["usable"].astype(bool)).sum()),
        "mae_units": "points (accuracy-like tasks only; unusable predictions scored as no change)",
        "n_point_tasks": int(len(points)),
        # Spearman between the fit set's estimated skill (scalecheck.laws.reliability) and the realised skill on
        # the hold-out, across tasks: of the headline form, and of the exponential law the estimate backtests.
        "reliability_rank_correlation": _spearman(table["estimated_skill"], table[f"skill_{HEADLINE}"]),
        "reliability_rank_correlation_exponential": _spearman(table["estimated_skill"], table["skill_exponential"]),
        # The estimate before this session's change: the combined forecast's inner track record alone.
        "reliability_rank_correlation_track": _spearman(table["estimated_skill_track"], table[f"skill_{HEADLINE}"]),
        "n_tasks_with_estimate": int(np.isfinite(table["estimated_skill"]).sum()),
        # How far any estimate can rank the realised skill: the realised skill is itself noisy, so its Spearman with
        # anything is bounded by about the square root of its reliability (split-half over the held-out models,
        # Spearman-Brown corrected to full length).
        "realised_skill_reliability": _split_half(frame),
    }


def _oracle(table: pd.DataFrame, frame: pd.DataFrame, grid: int = 21) -> float | None:
    """The median over predictable tasks of the best realised skill of ``w * law + (1 - w) * no change`` over every
    form (auto, the fixed forms, the pooled exponential) and ``w`` in 0, 1/(grid-1), ..., 1 (w = 0: no change,
    skill 0; w = 1: the form alone), picked per task with the hold-out's truths known."""
    tasks = set(map(tuple, table.loc[table["verdict"] == "predictable", ["task", "scope"]].to_numpy().tolist()))
    if not tasks:
        return None
    w = np.linspace(0.0, 1.0, grid)[:, None]
    best: dict[tuple, float] = {}
    for (task, scope, _), g in frame.groupby(["task", "scope", "form"]):
        if (task, scope) not in tasks:
            continue
        nc, y = g["no_change_predicted"].to_numpy(float), g["actual"].to_numpy(float)
        law = np.where(g["usable"].astype(bool) & np.isfinite(g["predicted"]), g["predicted"], nc)
        base = np.mean(np.abs(nc - y))
        with np.errstate(all="ignore"):
            skill = 1.0 - np.mean(np.abs(w * law + (1.0 - w) * nc - y), axis=1) / base
        top = float(np.nanmax(skill)) if np.isfinite(skill).any() else 0.0
        best[(task, scope)] = max(best.get((task, scope), 0.0), top)
    return round(float(np.median([best.get(t, 0.0) for t in tasks])), 3)


def _split_half(frame: pd.DataFrame, reps: int = 200, seed: int = 0) -> dict | None:
    """Split-half reliability of auto's realised skill across tasks: the held-out models split at random in two
    halves (``reps`` times), each task's skill computed on each half, the mean Spearman between the halves;
    ``full``, its Spearman-Brown length correction (2r / (1 + r)); ``ceiling``, its square root, about the highest
    rank correlation an estimate of the skill can reach."""
    from scipy import stats

    head = frame[frame["form"] == HEADLINE]
    models = np.array(sorted(head["model"].unique()), object)
    if len(models) < 2:
        return None
    rng = np.random.default_rng(seed)
    rs = []
    for _ in range(reps):
        half = set(rng.permutation(models)[: len(models) // 2].tolist())
        g = (head.assign(half=head["model"].isin(half))
             .groupby(["task", "scope", "half"])[["abs_error_scored", "abs_error_no_change"]].mean())
        with np.errstate(all="ignore"):
            skill = (1.0 - g["abs_error_scored"] / g["abs_error_no_change"]).unstack("half")
        skill = skill[np.isfinite(skill).all(axis=1)] if skill.shape[1] == 2 else skill.iloc[:0]
        if len(skill) >= 3:
            rs.append(stats.spearmanr(skill[True], skill[False])[0])
    if not rs:
        return None
    r = float(np.nanmean(rs))
    full = 2 * r / (1 + r) if r > 0 else r
    return {"split_half": round(r, 3), "full": round(full, 3), "ceiling": round(float(np.sqrt(max(full, 0.0))), 3)}


def _spearman(a, b) -> float | None:
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return None
    return round(float(stats.spearmanr(a[ok], b[ok])[0]), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--testbeds", nargs="+", default=["gadre", "olmo", "pythia", "sloth"])
    ap.add_argument("--output", default=None, help="folder for the per-task tables (skill_<testbed>.csv)")
    ap.add_argument("--validate", action="store_true",
                    help="score the validation question inside each fit set (its largest size predicted from the "
                         "smaller ones; the hold-out left out): where rules are compared before the hold-out")
    args = ap.parse_args()
    pd.set_option("display.width", 220)
    out = {"headline_form": HEADLINE, "no_change": NO_CHANGE, "level": 0.9, "testbeds": {}}
    t0 = time.perf_counter()
    for name in args.testbeds:
        t = time.perf_counter()
        tb, spec = load(name)
        table, frame = task_table(tb, spec, validate=args.validate)
        summary = summarise(table, frame)
        summary["seconds"] = round(time.perf_counter() - t, 1)
        summary["x"], summary["groups"] = spec.x, group_column(tb)
        out["testbeds"][name] = summary
        if args.output:
            Path(args.output).mkdir(parents=True, exist_ok=True)
            table.to_csv(Path(args.output) / f"skill_{name}.csv", index=False)
            frame.to_csv(Path(args.output) / f"predictions_{name}.csv", index=False)
        cols = ["task", "scope", "verdict", "auto_form", "mae_no_change", f"mae_{HEADLINE}", f"mae_{POOLED}",
                f"skill_{HEADLINE}"]
        print(f"\n== {name}: {len(table)} tasks, x = {spec.x} ({summary['seconds']} s)")
        print(table[cols].round(3).sort_values(f"skill_{HEADLINE}").to_string(index=False, max_rows=30))
        print(json.dumps(summary))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
