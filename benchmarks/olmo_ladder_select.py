"""Target-free selection of the ladder prediction's method, inside the OLMo ladder paper's own train runs.

The 7B/13B targets are never read here. Two validation splits of the paper's ``mode: train`` runs:
V1 fits 190M-760M and predicts the four 1.3B runs (1/2/5/10 x Chinchilla); V2 fits 190M-370M and predicts the
four 760M runs. Each held-out run's actual is the mean of its last 5 checkpoints (as the paper's actuals).
Candidates, declared before any result: A the paper's method (the default); B step 1 as a power law with floor
in training compute C = 6ND; C step 2 fitted on each run's final checkpoint only; D the mean of A's and B's
predictions (``step1_axis="both"``, interval the envelope of theirs). Rule, declared before any result: lowest
mean of the two splits' accuracy MAE (ties within 0.05 points go to the paper's method).

    python benchmarks/olmo_ladder_select.py [--path ../shared/data/olmo_ladder] [--n-boot 1000]

Prints the table, then as the final line a JSON object: per split and candidate, MAE (points) and coverage of
the 90% intervals; the mean MAE per candidate and the selected candidate.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from _shared import shared_data_dir  # benchmarks/_shared.py

import scalecheck
from scalecheck.backtest.two_step import ladder_prediction
from scalecheck.sources.olmo_ladder import paper_setup

CANDIDATES = {"A paper": {}, "B flops": {"step1_axis": "flops"}, "C step2 final only": {"step2_min_tokens_fraction": 1.0},
              "D mean of A and B": {"step1_axis": "both"}}
SPLITS = {"V1 190M-760M -> 1.3B": (("190M", "370M", "760M"), "1B"), "V2 190M-370M -> 760M": (("190M", "370M"), "760M")}
TIE = 0.05


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", default=None, help="the OLMo ladder paper folder (default: shared data)")
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    path = args.path or shared_data_dir() / "olmo_ladder"
    t0 = time.perf_counter()
    testbed = scalecheck.load("olmo-ladder", path)
    train, _ = paper_setup(path)  # the targets are deliberately not used
    rows = []
    for split, (fit_sizes, held) in SPLITS.items():
        fit_runs = [r for r in train if r.split("-")[0] in fit_sizes]
        held_out = {r: [r] for r in train if r.split("-")[0] == held}
        for name, kw in CANDIDATES.items():
            f = ladder_prediction(testbed, fit_runs, held_out, n_boot=args.n_boot, seed=0, **kw).frame()
            rows.append({"split": split, "candidate": name, "mae": float(f["abs_error"].mean()),
                         "covered": int(f["covered"].astype(bool).sum()), "n": len(f),
                         "unusable": int((~f["usable"].astype(bool)).sum())})
    table = pd.DataFrame(rows)
    mean = table.groupby("candidate", sort=False)["mae"].mean()
    best = mean.idxmin()
    selected = "A paper" if mean[best] > mean["A paper"] - TIE else best
    print(table.round(3).to_string(index=False))
    print(mean.round(3).to_string())
    print(f"selected: {selected}")
    print(json.dumps({"n_boot": args.n_boot, "splits": rows, "mean_mae": {k: round(v, 4) for k, v in mean.items()},
                      "selected": selected, "seconds": round(time.perf_counter() - t0, 1)}, allow_nan=False))


if __name__ == "__main__":
    main()
