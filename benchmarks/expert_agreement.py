"""Does the reality check agree with the experts? Cross-validated agreement on the Reality Check paper's labels.

Reads the 23 calibration labels of Lourie, Hu and Cho (2025) (``calibration/lourie2025_labels_calibration.csv``
under the shared data folder's parent, or ``--labels``), classifies each task's series over the whole built-in
testbed (scope ``all``, x = ``c4_val``, each run's final checkpoint: the defaults of ``scalecheck reality-check``),
and measures agreement six-way and predictable-or-not.

The thresholds listed in ``scalecheck.trends.classify.CALIBRATED`` are fitted to the labels by a grid search
(maximum agreement, then predictable-or-not agreement; ties go to the grid point nearest the shipped prior); the
agreement reported as ``cv_*`` is leave-one-out: each task's verdict comes from thresholds fitted on the other 22.
The in-sample agreement (thresholds fitted on all 23, as shipped) is printed beside it, labelled as such: it says
nothing about unseen tasks. Also printed: the confusion table, the mean confidence of right and wrong verdicts,
and the predictable share of all 46 tasks in the default run. Final line: a JSON object.

    python benchmarks/expert_agreement.py [--labels PATH]
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
from scalecheck.trends.classify import CALIBRATED

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


def _span(values: tuple[float, ...]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return (max(finite) - min(finite)) or 1.0


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
    testbed = final_models(scalecheck.load("gadre2024"))
    series = {t: testbed.series(t, "c4_val") for t in labels["task"]}
    names = list(CALIBRATED)
    prior = np.array([getattr(C, k) for k in names], float)
    spans = np.array([_span(CALIBRATED[k]) for k in names])
    cache: dict[tuple[str, tuple], object] = {}

    class Verdicts:  # (task, thresholds) -> Verdict, each classified once
        def __getitem__(self, key):
            if key not in cache:
                t, g = key
                cache[key] = C.classify(series[t], thresholds=dict(zip(names, g, strict=True)))
            return cache[key]

        def __contains__(self, key):
            return True

    verdicts = Verdicts()
    truth = dict(zip(labels["task"], labels["category"], strict=True))

    def fit(tasks: list[str]) -> tuple:
        def key(g):
            six = sum(verdicts[t, g].category == truth[t] for t in tasks)
            two = sum((verdicts[t, g].category == "predictable") == (truth[t] == "predictable") for t in tasks)
            diff = np.where(np.array(g) == prior, 0.0, np.abs(np.array(g) - prior))
            dist = float(np.sum(np.where(np.isfinite(diff), diff / spans, 1e3)))
            return (six, two, -dist)
        # Coordinate search from the prior (two passes over the thresholds, each set to its best grid value with
        # the others held): the full grid is thousands of points, and the labels cannot tell most of them apart.
        g = tuple(prior)
        for _ in range(2):
            for i, k in enumerate(names):
                g = max((g[:i] + (v,) + g[i + 1:] for v in CALIBRATED[k]), key=key)
        return g

    tasks = list(truth)
    cv_pred, cv_conf, chosen = {}, {}, []
    for t in tasks:
        g = fit([o for o in tasks if o != t])
        chosen.append(dict(zip(names, g, strict=True)))
        cv_pred[t], cv_conf[t] = verdicts[t, g].category, verdicts[t, g].confidence
    g_all = fit(tasks)
    shipped = tuple(prior)
    ins = {t: verdicts[t, g_all].category for t in tasks}
    ship = {t: verdicts[t, shipped].category for t in tasks}

    def agree(pred):
        six = sum(pred[t] == truth[t] for t in tasks)
        two = sum((pred[t] == "predictable") == (truth[t] == "predictable") for t in tasks)
        return six, two

    cv6, cv2 = agree(cv_pred)
    in6, in2 = agree(ins)
    sh6, sh2 = agree(ship)
    conf = pd.crosstab(pd.Series([truth[t] for t in tasks], name="expert"),
                       pd.Series([cv_pred[t] for t in tasks], name="scalecheck (cross-validated)"))
    pd.set_option("display.width", 200)
    print(conf.to_string())
    right = [cv_conf[t] for t in tasks if cv_pred[t] == truth[t]]
    wrong = [cv_conf[t] for t in tasks if cv_pred[t] != truth[t]]
    print(f"\ncross-validated (leave-one-out): six-way {cv6}/23, predictable-or-not {cv2}/23")
    print(f"in-sample (thresholds fitted on all 23 labels; says nothing about unseen tasks): six-way {in6}/23, "
          f"predictable-or-not {in2}/23")
    print(f"as shipped (the module's thresholds): six-way {sh6}/23, predictable-or-not {sh2}/23")
    print("thresholds fitted on all 23: " + ", ".join(f"{k} = {v:g}" for k, v in zip(names, g_all, strict=True)))
    stable = {k: sorted({c[k] for c in chosen}) for k in names}
    print("values chosen across the 23 folds: " + ", ".join(f"{k} {v}" for k, v in stable.items()))
    print("mean confidence, right vs wrong (cross-validated): "
          f"{np.mean(right):.3f} vs {np.mean(wrong) if wrong else float('nan'):.3f}")
    print("\ndisagreements (cross-validated):")
    for t in tasks:
        if cv_pred[t] != truth[t]:
            v = verdicts[t, tuple(chosen[tasks.index(t)][k] for k in names)]
            print(f"  {t}: expert {truth[t]}, scalecheck {cv_pred[t]} ({v.confidence:.2f}) - {v.reason}")
    rc = reality_check(scalecheck.load("gadre2024"), by=None)
    share = rc.share_predictable()
    counts = rc.counts().loc["all"].to_dict()
    print(f"\ndefault run (scalecheck reality-check, scope all): {counts}; predictable share {share:.1%} "
          "(the paper: 18/46 = 39%)")
    result = {"benchmark": "expert_agreement", **split, "n_labels": len(tasks), "cv_six_way": cv6,
              "cv_predictable_or_not": cv2, "in_sample_six_way": in6, "in_sample_predictable_or_not": in2,
              "shipped_six_way": sh6, "shipped_predictable_or_not": sh2,
              "fitted_thresholds": dict(zip(names, map(float, g_all), strict=True)),
              "cv_mean_confidence_right": round(float(np.mean(right)), 4),
              "cv_mean_confidence_wrong": round(float(np.mean(wrong)), 4) if wrong else None,
              "confusion": {e: {k: int(v) for k, v in row.items() if v} for e, row in conf.iterrows()},
              "default_run_predictable": int(counts.get("predictable", 0)),
              "default_run_tasks": int(sum(counts.values())),
              "default_run_predictable_share": round(float(share), 4), "paper_predictable_share": round(18 / 46, 4),
              "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
