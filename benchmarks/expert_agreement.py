"""Does the reality check agree with the experts on tasks it has not seen? The issue-18 protocol, in order.

Reads the 23 calibration labels of Lourie, Hu and Cho (2025) (``calibration/lourie2025_labels_calibration.csv``
under the shared data folder's parent, or ``--labels``) and classifies each task's series over the whole built-in
testbed (scope ``all``, x = ``c4_val``, each run's final checkpoint: the defaults of ``scalecheck reality-check``).

1. The labels are split once, seeded (:data:`SPLIT_SEED`), stratified by label, into a design part (12) and a check
   part (11); the split is printed and written to the JSON line.
2. The criteria and their free numbers were designed looking only at the design part's figures and labels, and
   frozen (:data:`FROZEN_DESIGN`, the values at the freeze).
3. ``check_part_six_way``: the frozen classifier scored on the check part (of 11). It is an upper bound on unseen
   agreement: all 23 figures were read in an earlier round of this project.
4. The free numbers (``scalecheck.trends.classify.FREE`` over ``GRIDS``, and the uniform share of the probabilities
   ``FLOOR_PROBABILITY``) refitted on all 23 inside leave-one-out cross-validation: each task's verdict comes from
   numbers fitted on the other 22 (a coordinate search from the design values: most six-way agreement, then most
   predictable-or-not, then nearest the design values; the floor by log-loss). ``cv_*``: six-way,
   predictable-or-not, top-2 (the label among the two most probable categories), log-loss of the label's
   probability, mean confidence on wrong verdicts. ``shipped_thresholds``: the same search on all 23.

Also printed: the confusion table and the default run's predictable share on all 46 tasks, counting only verdicts of
confidence >= 0.5 (the paper: 18/46). Final line: a JSON object.

    python benchmarks/expert_agreement.py [--labels PATH] [--split-only]
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _shared import shared_data_dir

import scalecheck
from scalecheck.observations.checkpoints import final_models
from scalecheck.trends import reality_check

# The module (the package's ``classify`` name is the function).
C = importlib.import_module("scalecheck.trends.classify")


def _labels_path(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return shared_data_dir().parent / "calibration" / "lourie2025_labels_calibration.csv"


# The design/check split of the 23 labels (issue 18), made once before any rule was changed: within each label
# (sorted by name), the tasks in a seeded random order, dealt alternately to the design part and the check part
# (stratified, so both parts hold every label the 23 hold more than once). 12 design, 11 check.
SPLIT_SEED = 18


def split_labels(labels: pd.DataFrame, seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """(design tasks, check tasks): a seeded, label-stratified split of the calibration labels."""
    rng = np.random.default_rng(seed)
    dealt: list[str] = []
    for _, group in labels.sort_values(["category", "task"]).groupby("category", sort=True):
        dealt.extend(rng.permutation(group["task"].to_numpy()).tolist())
    return dealt[0::2], dealt[1::2]


# The design part's values at the freeze (commit 246f972), before the check part was scored.
FROZEN_DESIGN = {"trend_range": 0.35, "law_r2": 0.5, "reversal_range": 0.3, "plateau_share": 0.2, "floor_share": 0.15}
# The check part's score at the freeze, recorded when it was first (and only) scored, before any later change. Changes
# made after it (each listed in CHANGES_AFTER_CHECK) may move the rerun's figure; both are printed.
CHECK_PART_AT_FREEZE = 8
CHANGES_AFTER_CHECK = (
    "shipped defaults = the leave-one-out refit on all 23 (trend_range 0.35 -> 0.3, law_r2 0.5 -> 0.6), as the "
    "protocol's step 4 prescribes",
    "a floor-then-rise may be a pure step (a test of the issue's own case, 3 families x 6 sizes jumping 0 -> 0.30, "
    "read trendless); not chosen with any label in view",
    "a visible trend's change is read from the second to the second-last model, and each curve (monotone; arm of "
    "the two-arm curve) is held to its own simulated null instead of the maximum over both: made after the check "
    "part was scored and after the cross-validated disagreements had been printed, prompted by the Pythia "
    "inverse-scaling series (an exponential bent through one end point read predictable; 8-model declines of 25 "
    "points read trendless), not by a label; each curve's null at its 95th percentile so that together they show a "
    "trend in fewer than 1 in 10 flat plots, as the single null did",
)
FLOOR_GRID = (0.02, 0.05, 0.1, 0.2)
CONFIDENT = 0.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", default=None)
    ap.add_argument("--split-only", action="store_true", help="print the design/check split and stop")
    args = ap.parse_args()
    t0 = time.perf_counter()
    labels = pd.read_csv(_labels_path(args.labels))
    design, check = split_labels(labels)
    print(f"split (seed {SPLIT_SEED}): design part {len(design)}: {', '.join(design)}")
    print(f"                  check part {len(check)}: {', '.join(check)}")
    split = {"split_seed": SPLIT_SEED, "design_part": design, "check_part": check}
    if args.split_only:
        print(json.dumps({"benchmark": "expert_agreement", **split}))
        return
    truth = dict(zip(labels["task"], labels["category"], strict=True))
    tasks = list(truth)
    testbed = final_models(scalecheck.load("gadre2024"))
    readings = {t: C.read(testbed.series(t, "c4_val")) for t in tasks}  # the expensive part, once
    names = list(C.FREE)
    cache: dict[tuple, dict[str, float]] = {}

    def probs(t: str, g: tuple) -> dict[str, float]:
        if (t, g) not in cache:
            th = C.Thresholds(**dict(zip(names, g, strict=True)))
            saved, C.FLOOR_PROBABILITY = C.FLOOR_PROBABILITY, 0.0
            cache[t, g] = C.chain_probabilities(tuple(c(readings[t], th) for c in C.PIPELINE))
            C.FLOOR_PROBABILITY = saved
        return cache[t, g]

    def with_floor(p: dict[str, float], floor: float) -> dict[str, float]:
        return {k: (1 - floor) * v + floor / len(p) for k, v in p.items()}

    def verdict(t: str, g: tuple) -> str:
        p = probs(t, g)
        return max(C.BEHAVIOURS, key=lambda c: (p[c], -C.BEHAVIOURS.index(c)))

    prior = np.array([FROZEN_DESIGN[k] for k in names])
    spans = np.array([max(C.GRIDS[k]) - min(C.GRIDS[k]) for k in names])

    def fit(on: list[str]) -> tuple[tuple, float]:
        def key(g):
            six = sum(verdict(t, g) == truth[t] for t in on)
            two = sum((verdict(t, g) == "predictable") == (truth[t] == "predictable") for t in on)
            return (six, two, -float(np.sum(np.abs(np.array(g) - prior) / spans)))
        g = tuple(prior)
        for _ in range(2):  # coordinate search: the full grid is 4^5 points the labels cannot tell apart
            for i, k in enumerate(names):
                g = max((g[:i] + (v,) + g[i + 1:] for v in C.GRIDS[k]), key=key)
        floor = min(FLOOR_GRID, key=lambda f: -sum(np.log(with_floor(probs(t, g), f)[truth[t]]) for t in on))
        return g, floor

    frozen = tuple(prior)
    design_six = sum(verdict(t, frozen) == truth[t] for t in design)
    check_six = sum(verdict(t, frozen) == truth[t] for t in check)
    print(f"\nfrozen design values: {FROZEN_DESIGN}")
    print(f"design part (seen while designing): {design_six}/{len(design)} six-way")
    print(f"check part (scored once after the freeze; an upper bound, all 23 were read in an earlier round): "
          f"{CHECK_PART_AT_FREEZE}/{len(check)} six-way at the freeze; {check_six}/{len(check)} with today's code "
          f"(changes since: {'; '.join(CHANGES_AFTER_CHECK)})")
    cv = {}
    for t in tasks:
        g, floor = fit([o for o in tasks if o != t])
        cv[t] = (verdict(t, g), with_floor(probs(t, g), floor), g, floor)
    g_all, floor_all = fit(tasks)
    pred = {t: cv[t][0] for t in tasks}
    six = sum(pred[t] == truth[t] for t in tasks)
    two = sum((pred[t] == "predictable") == (truth[t] == "predictable") for t in tasks)
    top2 = sum(truth[t] in sorted(cv[t][1], key=lambda c: -cv[t][1][c])[:2] for t in tasks)
    log_loss = float(np.mean([-np.log(cv[t][1][truth[t]]) for t in tasks]))
    conf = {t: cv[t][1][pred[t]] for t in tasks}
    right = [conf[t] for t in tasks if pred[t] == truth[t]]
    wrong = [conf[t] for t in tasks if pred[t] != truth[t]]
    table = pd.crosstab(pd.Series([truth[t] for t in tasks], name="expert"),
                        pd.Series([pred[t] for t in tasks], name="scalecheck (cross-validated)"))
    pd.set_option("display.width", 200)
    print(table.to_string())
    print(f"\ncross-validated (leave-one-out): six-way {six}/23, predictable-or-not {two}/23, top-2 {top2}/23, "
          f"log-loss {log_loss:.3f}, mean confidence right {np.mean(right):.3f} / wrong "
          f"{np.mean(wrong) if wrong else float('nan'):.3f}")
    chosen = {k: sorted({float(cv[t][2][i]) for t in tasks}) for i, k in enumerate(names)}
    print("values chosen across the 23 folds: " + ", ".join(f"{k} {v}" for k, v in chosen.items())
          + f", FLOOR_PROBABILITY {sorted({cv[t][3] for t in tasks})}")
    print("fitted on all 23 (the shipped defaults): " + ", ".join(
        f"{k} = {v:g}" for k, v in zip(names, g_all, strict=True)) + f", FLOOR_PROBABILITY = {floor_all:g}")
    shipped = tuple(getattr(C.DEFAULT_THRESHOLDS, k) for k in names)
    if shipped != tuple(g_all) or C.FLOOR_PROBABILITY != floor_all:
        print("NOTE: the module's defaults differ from the fit on all 23")
    print("\ndisagreements (cross-validated):")
    for t in tasks:
        if pred[t] != truth[t]:
            runner = sorted(cv[t][1], key=lambda c: -cv[t][1][c])[1]
            print(f"  {t}: expert {truth[t]}, scalecheck {pred[t]} ({conf[t]:.2f}; then {runner} "
                  f"{cv[t][1][runner]:.2f})")
    rc = reality_check(scalecheck.load("gadre2024"), by=None)
    n_conf, n_tasks = rc.n_predictable(min_confidence=CONFIDENT), rc.n_with_verdict()
    counts = rc.counts().loc["all"].to_dict()
    print(f"\ndefault run (scalecheck reality-check, scope all): {counts}; "
          f"predictable (confidence >= {CONFIDENT}): {n_conf}/{n_tasks} (the paper: 18/46)")
    result = {"benchmark": "expert_agreement", **split, "n_labels": len(tasks),
              "frozen_design": FROZEN_DESIGN, "design_part_six_way": design_six,
              "check_part_six_way": CHECK_PART_AT_FREEZE, "check_part_six_way_rerun": check_six,
              "check_part_n": len(check), "changes_after_check": list(CHANGES_AFTER_CHECK),
              "check_part_note": "scored once after the freeze; an upper bound (all 23 were read in an earlier round)",
              "cv_six_way": six, "cv_predictable_or_not": two, "cv_top2": top2, "cv_log_loss": round(log_loss, 4),
              "cv_mean_confidence_right": round(float(np.mean(right)), 4),
              "cv_mean_confidence_wrong": round(float(np.mean(wrong)), 4) if wrong else None,
              "n_free_thresholds": C.n_free_thresholds, "free_numbers": list(C.LABEL_FITTED),
              "shipped_thresholds": {**dict(zip(names, map(float, g_all), strict=True)),
                                     "FLOOR_PROBABILITY": floor_all},
              "confusion": {e: {k: int(v) for k, v in row.items() if v} for e, row in table.iterrows()},
              "default_run_predictable_confident": n_conf, "default_run_tasks": n_tasks,
              "default_run_predictable_any_confidence": int(counts.get("predictable", 0)),
              "confidence_cut": CONFIDENT, "paper_predictable": "18/46",
              "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
