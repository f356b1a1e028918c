"""Gadre et al. 2024's held-out large runs (1.4B and 6.9B) predicted from the smaller ones, per task and corpus.

Fits the exponential law in C4 validation loss (accuracy = a * exp(c * loss) + b) on the models with
``holdout == False`` of the built-in testbed (four sizes up to 411M parameters) and predicts the hold-out runs,
per corpus and pooled, with 90% prediction intervals. Prints the per-form summary, the worst and best tasks,
and as the final line a JSON object: per scope, the number of predictions, MAE and median absolute error (points),
bias, coverage, mean interval width, and per task the MAE and coverage; then the pooled errors grouped by the
verdict (scalecheck.trends.classify) of each task's fit set alone: does "predictable" predict small errors?

    python benchmarks/gadre_backtest.py [--n-boot 0] [--form exponential] [--groups pooled]

``--groups`` is how a pooled series' corpora are fitted (scalecheck.laws.groups: auto, pooled, offsets,
separate); the default, pooled, keeps this benchmark's historical meaning (one law for all corpora);
``--form auto`` chooses each task's form by an inner backtest on its fit set (benchmarks/extrapolation_skill.py
scores that against no change).
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

import scalecheck
from scalecheck.backtest import backtest
from scalecheck.trends import classify


def _finite(obj):
    """NaN (no interval, so no coverage) as JSON null: the final line stays strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return None if isinstance(obj, float) and obj != obj else obj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-boot", type=int, default=0, help="0: delta-method intervals")
    ap.add_argument("--form", default="exponential")
    ap.add_argument("--groups", default="pooled", choices=("auto", "pooled", "offsets", "separate"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    testbed = scalecheck.load("gadre2024")
    held = testbed.models[testbed.models["holdout"].astype(bool)]
    result = {"testbed": "gadre2024", "form": args.form, "groups": args.groups, "x": "c4_val", "level": 0.9,
              "n_boot": args.n_boot, "held_out_models": held["model"].tolist(), "scopes": {}}
    pd.set_option("display.width", 200)
    for by in (None, "corpus"):
        bt = backtest(testbed, forms=[args.form], x="c4_val", by=by, scheme="holdout", n_boot=args.n_boot,
                      groups=args.groups, seed=args.seed)
        f = bt.frame()
        label = "pooled" if by is None else "per corpus"
        o = bt.by_form().iloc[0]
        print(f"\n{label}: {len(f)} predictions of {f['model'].nunique()} held-out models")
        print(bt.by_form().round(3).to_string(index=False))
        per_task = bt.summary(("task",)).sort_values("mae")
        print("best tasks:\n" + per_task.head(5).round(3).to_string(index=False))
        print("worst tasks:\n" + per_task.tail(5).round(3).to_string(index=False))
        scope = {"n_predictions": int(o["n_predictions"]), "n_unusable": int(o["n_unusable"]),
                 "mae": round(float(o["mae"]), 3), "median_ae": round(float(o["median_ae"]), 3),
                 "bias": round(float(o["bias"]), 3), "coverage": round(float(o["coverage"]), 3),
                 "mean_interval_width": round(float(o["mean_interval_width"]), 3),
                 "per_task": {r.task: {"mae": round(float(r.mae), 2), "coverage": round(float(r.coverage), 2)}
                              for r in per_task.itertuples()}}
        if by is not None:
            per_scope = bt.summary(("scope",))
            scope["per_corpus"] = {r.scope: {"mae": round(float(r.mae), 3), "coverage": round(float(r.coverage), 3)}
                                   for r in per_scope.itertuples()}
            print(per_scope.round(3).to_string(index=False))
        result["scopes"][label] = scope
    # Does the reality check, run on the fit set alone (no peeking at the targets), tell which tasks will
    # extrapolate? Pooled predictions grouped by the verdict of the task's non-held-out series.
    verdicts = {}
    for task in testbed.task_names:
        s = testbed.series(task, "c4_val")
        verdicts[task] = classify(s.subset(~s.holdout)).category
    pooled = backtest(testbed, forms=[args.form], x="c4_val", scheme="holdout", n_boot=args.n_boot, seed=args.seed,
                      groups=args.groups)
    f = pooled.frame().assign(verdict=lambda d: d["task"].map(verdicts))
    by_verdict = f.groupby("verdict").agg(tasks=("task", "nunique"), mae=("abs_error", "mean"),
                                          coverage=("covered", lambda c: c.dropna().astype(bool).mean()))
    print("\npooled predictions by the fit set's verdict:\n" + by_verdict.round(3).to_string())
    result["by_fit_set_verdict"] = {k: {"tasks": int(r.tasks), "mae": round(float(r.mae), 3),
                                        "coverage": round(float(r.coverage), 3)} for k, r in by_verdict.iterrows()}
    # The yardstick: predictable tasks should extrapolate best, their MAE at most a third of every other
    # verdict's. In points, a flat (trendless) task errs little whatever the law, so the ratio is printed per verdict.
    if "predictable" in by_verdict.index:
        pred = float(by_verdict.loc["predictable", "mae"])
        ratios = {k: round(pred / float(r.mae), 3) for k, r in by_verdict.iterrows() if k != "predictable" and r.mae > 0}
        result["predictable_mae_over_other"] = ratios
        result["predictable_mae_at_most_a_third_of_each"] = bool(all(v <= 1 / 3 for v in ratios.values()))
        print("predictable MAE / each other verdict's: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(_finite(result), allow_nan=False))


if __name__ == "__main__":
    main()
