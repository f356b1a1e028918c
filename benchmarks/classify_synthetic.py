"""How well does the trend classifier recover the behaviour a series was drawn from?

Draws ``--per-shape`` series (default 500) of each of the six shapes from ``scalecheck.trends.synthetic``
(C4-like losses, 8-40 models, chance 0.25/0.5/0, 50-10,000 examples with binomial noise), classifies each with
``scalecheck.trends.classify`` and prints the confusion matrix, per-class precision/recall/F1, and as the final
line a JSON object with those and the macro-F1 (the goal is >= 0.9).

    python benchmarks/classify_synthetic.py [--per-shape 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-shape", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    truth, pred = [], []
    for shape, series in draw_many(args.per_shape, seed=args.seed):
        truth.append(shape)
        pred.append(classify(series, seed=args.seed).category)
    elapsed = time.perf_counter() - t0
    confusion = pd.crosstab(pd.Series(truth, name="truth"), pd.Series(pred, name="verdict"))
    confusion = confusion.reindex(index=list(SHAPES), columns=[c for c in CATEGORIES if c in confusion.columns],
                                  fill_value=0)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(confusion)
    result = score(truth, pred)
    result.update(benchmark="classify_synthetic", n_series=len(truth), per_shape=args.per_shape, seed=args.seed,
                  seconds=round(elapsed, 1), series_per_second=round(len(truth) / elapsed, 1))
    for c, v in result["per_class"].items():
        print(f"{c:>14}: precision {v['precision']:.3f}  recall {v['recall']:.3f}  f1 {v['f1']:.3f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
