"""How many verdicts change under a benign change of setting, on the built-in testbed (Gadre et al. 2024)?

Runs ``scalecheck.sensitivity.sensitivity`` with its defaults (every validation loss as x, each corpus alone,
every other metric or setting) over all 46 tasks and prints its headline and counts. A flip counts only between
verdicts of confidence >= 0.5 on both sides (the ``confident`` column, issue 17); ``*_flips_any_confidence`` counts
every change of category, as earlier versions did, for comparison. Final line: a JSON object.

    python benchmarks/sensitivity_flips.py
"""

from __future__ import annotations

import json
import time

import scalecheck
from scalecheck.sensitivity import sensitivity


def main() -> None:
    t0 = time.perf_counter()
    sens = sensitivity(scalecheck.load("gadre2024"))
    for line in sens.headline():
        print(line)
    counts = {k: (int(v) if hasattr(v, "__int__") else v) for k, v in sens.counts().items()}
    v = sens.verdicts
    changed = (v["factor"] != "baseline") & (v["category"] != v["baseline_category"]) & v["comparable"]
    for factor in ("x", "corpus", "setting"):
        sub = changed & (v["factor"] == factor)
        counts[f"{factor}_flips_any_confidence"] = int(sub.sum())
        counts[f"{factor}_tasks_flipped_any_confidence"] = int(v.loc[sub, "task"].nunique())
    print(json.dumps({"benchmark": "sensitivity_flips", **counts, "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
