"""The Inverse Scaling Prize's analysis on the built-in Michaelov & Bergen (2023) Pythia testbed, timed, and its
recovery of known shapes on simulated ladders.

1. Runs `scalecheck inverse-scaling` with no arguments but the output folder (the built-in testbed: 8 Pythia
   sizes x 8 checkpoints, 10 Prize tasks + TruthfulQA, every metric: acc and acc_norm, mc1 and mc2), timing the
   whole command (the goal: < 30 s on the 2-core machine), and prints its overview table: tasks x {over scale, over
   training} and the grid model's answer, with the size of the HTML page.
2. Draws ``--per-shape`` simulated ladders (8 sizes, final checkpoints, 1,000 examples, effects >= 8 binomial
   sds) of each shape (inverse, inverted-U, U-shaped, standard, flat) and reports how often the analysis reads
   the shape back, and how often it is significant after the default adjustment (Benjamini-Hochberg).

The final line is a JSON object: the overview table, the seconds, and the recovery rates.

    python benchmarks/inverse_scaling.py [--per-shape 100] [--seed 0] [--output DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from scalecheck.cli import main as cli
from scalecheck.inverse_scaling import inverse_scaling
from scalecheck.inverse_scaling.synthetic import SHAPES, draw_ladder, expected_term


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-shape", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default=None, help="keep the report here (default: a temporary folder)")
    args = ap.parse_args()

    out = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="inverse-scaling-"))
    t0, c0 = time.perf_counter(), cpu_seconds()
    assert cli(["inverse-scaling", "--output", str(out)]) == 0
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    overview = pd.read_csv(out / "inverse_scaling_overview.csv")

    t1 = time.perf_counter()
    tb = draw_ladder([s for s in SHAPES for _ in range(args.per_shape)], seed=args.seed, n_steps=1)
    f = inverse_scaling(tb, over_training=False).frame()
    f["want"] = f["task"].map(expected_term)
    recovery = {s: round(float((f.loc[f["want"] == s, "term"] == s).mean()), 4) for s in SHAPES}
    significant = {s: round(float(f.loc[f["want"] == s, "significant"].mean()), 4) for s in SHAPES}
    confusion = pd.crosstab(f["want"], f["term"])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(confusion)
    print(json.dumps({
        "benchmark": "inverse_scaling",
        "command": "scalecheck inverse-scaling",
        "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "cpus": os.cpu_count(),
        "report": str(out / "inverse_scaling.html"), "html_bytes": (out / "inverse_scaling.html").stat().st_size,
        "overview": [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                     for r in overview[["task", "metric", "family", "over_scale", "decline_from", "decline_points",
                                        "decline_se", "p_adjusted", "over_training", "grid"]].round(4).to_dict("records")],
        "simulated": {"per_shape": args.per_shape, "seed": args.seed, "recovery": recovery,
                      "significant_after_adjustment": significant, "seconds": round(time.perf_counter() - t1, 1)},
    }))


if __name__ == "__main__":
    main()
