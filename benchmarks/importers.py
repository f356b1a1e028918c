"""How long each importer takes to load its published folder (best of N), and the Parquet round trip.

    .venv/bin/python benchmarks/importers.py [--repeat 3]

Target: pythia (759 JSON files, ~116k scores) loads in a few seconds at most. Prints one line per source
and a final JSON line with the timings in seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _shared import shared_data_dir  # benchmarks/_shared.py

from scalecheck.observations import Testbed, load

SOURCES = {"pythia": "pythia_evals", "olmo-ladder": "olmo_ladder", "obsscaling": "obsscaling",
           "gadre2024": "gadre2024"}
TARGET_S = {"pythia": 5.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = shared_data_dir()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, folder in SOURCES.items():
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                tb = load(name, data / folder)
                times.append(time.perf_counter() - t0)
            path = Path(tmp) / f"{name}.parquet"
            t0 = time.perf_counter()
            tb.to_parquet(path)
            Testbed.read(path)
            round_trip = time.perf_counter() - t0
            out[name] = {"load_s": round(min(times), 3), "round_trip_s": round(round_trip, 3),
                         "models": len(tb.models), "scores": len(tb.scores), "tasks": len(tb.tasks)}
            print(f"{name:12s} load {min(times):6.2f} s (best of {args.repeat})  parquet round trip "
                  f"{round_trip:6.2f} s  {len(tb.models)} models, {len(tb.scores)} scores")
    ok = all(out[k]["load_s"] <= v for k, v in TARGET_S.items())
    print(json.dumps({"benchmark": "importers", "results": out, "targets_s": TARGET_S, "ok": ok}))


if __name__ == "__main__":
    main()
