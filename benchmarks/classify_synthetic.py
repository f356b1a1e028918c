"""How well does the trend classifier recover the behaviour a series was drawn from?

Draws ``--per-shape`` series (default 500) of each of the six shapes from ``scalecheck.trends.synthetic``
(C4-like losses, 8-40 models, chance 0.25/0.5/0, 50-10,000 examples with binomial noise), classifies each with
``scalecheck.trends.classify`` and prints the confusion matrix, per-class precision/recall/F1, and as the final
line a JSON object with those, the macro-F1 (the goal is >= 0.93) and the expected calibration error of the
verdicts' confidence (``ece``, 10 equal-width bins, the goal is <= 0.05) with its reliability table: the confidence
is meant as the probability that the verdict is right, so in each bin the share right should match the mean
confidence.

The map from a verdict's margin certainty to that probability (``CONFIDENCE_CALIBRATION`` in
``scalecheck.trends.classify``) is fitted on another simulated set: ``--fit-calibration`` draws seed 1 (not the
default seed 0 this benchmark scores), fits an isotonic regression of "right" on the margin, and prints the knots.

    python benchmarks/classify_synthetic.py [--per-shape 500] [--seed 0]
    python benchmarks/classify_synthetic.py --fit-calibration [--per-shape 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

from scalecheck.trends import CATEGORIES, classify
from scalecheck.trends.synthetic import SHAPES, draw_many


def score(truth: list[str], pred: list[str]) -> dict:
    per = {}
    for c in SHAPES:
        tp = sum(t == c and p == c for t, p in zip(truth, pred, strict=True))
        fp = sum(t != c and p == c for t, p in zip(truth, pred, strict=True))
        fn = sum(t == c and p != c for t, p in zip(truth, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[c] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "n": tp + fn}
    macro = sum(v["f1"] for v in per.values()) / len(per)
    acc = sum(t == p for t, p in zip(truth, pred, strict=True)) / len(truth)
    return {"per_class": per, "macro_f1": round(macro, 4), "accuracy": round(acc, 4)}


def reliability(conf: list[float], right: list[bool], bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table (equal-width bins of confidence)."""
    c, r = np.asarray(conf, float), np.asarray(right, float)
    idx = np.minimum((c * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        gap = abs(c[m].mean() - r[m].mean())
        ece += m.mean() * gap
        table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(m.sum()),
                      "mean_confidence": round(float(c[m].mean()), 4), "share_right": round(float(r[m].mean()), 4)})
    return round(float(ece), 4), table


def fit_calibration(margins: list[float], right: list[bool], knots: int = 24) -> tuple[tuple, tuple]:
    """Isotonic P(right | margin), thinned to at most ``knots`` points for the module constant."""
    order = np.argsort(margins, kind="mergesort")
    m, r = np.asarray(margins)[order], np.asarray(right, float)[order]
    fitted = isotonic_regression(r, increasing=True).x
    qs = np.unique(np.quantile(m, np.linspace(0, 1, knots)))
    ps = np.interp(qs, m, fitted)
    xs = np.concatenate([[0.0], qs, [1.0]])
    ps = np.concatenate([[ps[0]], ps, [ps[-1]]])
    xs, keep = np.unique(np.round(xs, 4), return_index=True)
    return tuple(float(x) for x in xs), tuple(round(float(p), 4) for p in ps[keep])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-shape", type=int, default=500)
    ap.add_argument("--seed", type=int, default=None, help="default 0 (1 with --fit-calibration)")
    ap.add_argument("--fit-calibration", action="store_true",
                    help="fit CONFIDENCE_CALIBRATION on this simulated set and print it")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = 1 if args.fit_calibration else 0
    t0 = time.perf_counter()
    truth, pred, conf, margin = [], [], [], []
    for shape, series in draw_many(args.per_shape, seed=args.seed):
        truth.append(shape)
        v = classify(series, seed=args.seed)
        pred.append(v.category)
        conf.append(v.confidence)
        margin.append(v.evidence["margin_certainty"])
    right = [t == p for t, p in zip(truth, pred, strict=True)]
    if args.fit_calibration:
        xs, ps = fit_calibration(margin, right)
        print(f"CONFIDENCE_CALIBRATION = ({xs!r},\n                          {ps!r})")
        return
    elapsed = time.perf_counter() - t0
    confusion = pd.crosstab(pd.Series(truth, name="truth"), pd.Series(pred, name="verdict"))
    confusion = confusion.reindex(index=list(SHAPES), columns=[c for c in CATEGORIES if c in confusion.columns],
                                  fill_value=0)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(confusion)
    result = score(truth, pred)
    ece, table = reliability(conf, right)
    print(pd.DataFrame(table).to_string(index=False))
    result.update(ece=ece, reliability=table,
                  mean_confidence_right=round(float(np.mean([c for c, r in zip(conf, right, strict=True) if r])), 4),
                  mean_confidence_wrong=round(float(np.mean([c for c, r in zip(conf, right, strict=True) if not r]
                                                            or [np.nan])), 4))
    result.update(benchmark="classify_synthetic", n_series=len(truth), per_shape=args.per_shape, seed=args.seed,
                  seconds=round(elapsed, 1), series_per_second=round(len(truth) / elapsed, 1))
    for c, v in result["per_class"].items():
        print(f"{c:>14}: precision {v['precision']:.3f}  recall {v['recall']:.3f}  f1 {v['f1']:.3f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
