"""Speed of the exponential law y = a*exp(c*x) + b against a scipy curve_fit multi-start, on the built-in testbed.

Part 1: every series of the testbed (46 tasks x 3 corpora x 8 validation losses = 1,104) fitted by
``scalecheck.laws.fit_batch`` (unweighted least squares; with its quality measures, leave-one-out included) and by
the baseline: ``scipy.optimize.curve_fit`` from a small grid of starts over (a, b, c), best SSE kept, as Gadre et
al.'s code does. Both are timed in this run; the unweighted SSE of ours must never be worse than the baseline's
by more than 1e-6 relative.

Part 2: 1,000 bootstrap refits (resampling models by size) for each of the 138 series on the C4 validation loss
(138,000 fits, weighted by the series' binomial noise), which must take less time than the baseline's 1,104 fits.

    .venv/bin/python benchmarks/fit_speed.py [--quick]

Prints a final JSON line: seconds of each part, speedup, worst SSE ratio, peak memory.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

import scalecheck
from scalecheck.laws import fit_batch, fit_many

# The baseline's starts: a few values of each parameter, all combinations (18 starts).
STARTS = list(itertools.product([-1.0, 1.0, 10.0], [0.0, 0.5], [-2.0, -0.5, 0.5]))


def exponential(x, a, b, c):
    return a * np.exp(c * x) + b


def baseline_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    best, best_sse = np.full(3, np.nan), np.inf
    for p0 in STARTS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (OptimizeWarning, RuntimeWarning))
                p, _ = curve_fit(exponential, x, y, p0=p0, maxfev=20000)
        except (RuntimeError, ValueError):
            continue
        with np.errstate(all="ignore"):
            sse = float(np.sum((y - exponential(x, *p)) ** 2))
        if np.isfinite(sse) and sse < best_sse:
            best, best_sse = p, sse
    return best, best_sse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one validation loss only (138 series), 100 replicates")
    args = ap.parse_args()

    tb = scalecheck.load("gadre2024")
    losses = tb.loss_names[:1] if args.quick else tb.loss_names
    series = [s for loss in losses for s in tb.iter_series(loss, by="corpus")]
    xs, ys = [s.x for s in series], [s.y for s in series]
    print(f"{len(series)} series ({len(losses)} losses), {min(map(len, ys))}-{max(map(len, ys))} points each")

    t0 = time.perf_counter()
    ours = fit_batch(xs, ys, "exponential")
    t_ours = time.perf_counter() - t0
    print(f"scalecheck.laws: {len(ours)} fits (with LOO) in {t_ours:.2f} s")

    t0 = time.perf_counter()
    base = [baseline_fit(x, y) for x, y in zip(xs, ys, strict=True)]
    t_base = time.perf_counter() - t0
    print(f"curve_fit x {len(STARTS)} starts: {len(base)} fits in {t_base:.2f} s")

    ratios = []
    for r, (_, bsse) in zip(ours, base, strict=True):
        if r.usable and np.isfinite(bsse) and bsse > 0:
            ratios.append(r.quality.sse / bsse)
    ratios = np.array(ratios)
    worst = float(ratios.max())
    print(f"SSE ours / baseline: worst {worst:.9f}, best {ratios.min():.6f}, "
          f"ours better by >1e-6 on {int(np.sum(ratios < 1 - 1e-6))} of {len(ratios)}")

    n_boot = 100 if args.quick else 1000
    c4 = list(tb.iter_series("c4_val", by="corpus"))
    t0 = time.perf_counter()
    boot = fit_many(c4, "exponential", n_boot=n_boot, seed=0, loo=False)
    t_boot = time.perf_counter() - t0
    n_boot_fits = sum(r.n_boot for r in boot)
    print(f"bootstrap: {n_boot_fits} refits of {len(c4)} series in {t_boot:.2f} s")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "benchmark": "fit_speed", "series": len(series), "baseline_starts": len(STARTS),
        "ours_s": round(t_ours, 3), "baseline_s": round(t_base, 3), "speedup": round(t_base / t_ours, 1),
        "worst_sse_ratio": worst, "sse_ok": bool(worst <= 1 + 1e-6),
        "bootstrap_fits": n_boot_fits, "bootstrap_s": round(t_boot, 3), "bootstrap_ok": bool(t_boot < t_base),
        "speedup_ok": bool(t_base / t_ours >= 20), "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
