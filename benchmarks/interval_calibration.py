"""Do 90% prediction intervals hold 90% of held-out models? Calibrated on some testbeds, checked on another.

Expanding-window backtests (fit the exponential law in validation loss on the k smallest sizes, predict every
larger one, for every k) of the tasks the reality check calls predictable, on three testbeds: Gadre et al. 2024
(built in, x = C4 loss), the OLMo ladder (final checkpoints, rc accuracy, x = C4 loss) and Pythia (final
checkpoints of the pythia family, 0-shot, x = LAMBADA loss).

The coefficients of :class:`scalecheck.laws.prediction.PredictionModel` (``residual``, ``change``, held at or
above 1/z(0.95) = 0.608, and ``distance``; see that module) are chosen for each testbed on the OTHER two only
(leave-one-testbed-out): the coefficients with the lowest mean 90% interval score, each testbed's score relative to
the residual-only interval's, found by Powell's method in log space from three starts over the prediction rows
(the raw terms of each prediction do not depend on the coefficients, so the fits are done once). That testbed is
then backtested through ``scalecheck.backtest`` with them, beside the residual-only interval (scalecheck's first:
the curve's variance plus the residual variance, t with the fit's dof) on the same rows.

Then the OLMo ladder's two-step prediction of its 7B/13B targets (the path of benchmarks/olmo_ladder_backtest.py,
its selected step 1 "both") with coefficients calibrated on Gadre and Pythia only: intervals covering, mean width.

Final line, JSON: per testbed ``coverage_predictable`` (90%), ``interval_score`` new and old (mean, in points for
accuracies; over rows where both intervals are finite), the calibration curve (coverage at 50-95%), coverage by
extrapolation distance, the coefficients used; the coefficients calibrated on all three (``calibrated_all``,
which the library's defaults must equal); the 13B targets' coverage and mean width.

    python benchmarks/interval_calibration.py [--n-boot 1000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from _shared import shared_data_dir  # benchmarks/_shared.py
from scipy import optimize, stats

import scalecheck
from scalecheck.backtest import backtest, calibration
from scalecheck.backtest.engine import _law_x, distance_bins, testbed_series, units_of
from scalecheck.backtest.two_step import ladder_prediction
from scalecheck.backtest.windows import splits
from scalecheck.laws import fit_many
from scalecheck.laws import prediction as pred
from scalecheck.laws.prediction import RESIDUAL_ONLY, PredictionModel, interval_score
from scalecheck.observations import final_models
from scalecheck.sources.olmo_ladder import paper_setup
from scalecheck.trends import reality_check

LEVEL = 0.9
FREE = ("residual", "change", "distance")
# The change coefficient is held at or above 1/z(0.95) = 0.608: there the 90% interval reaches back to the law's
# value at the edge of its data (see scalecheck.laws.prediction).
BOUNDS = [(-3.0, 3.0), (float(np.log(1 / stats.norm.ppf(0.95))) + 1e-4, 1.5), (-3.0, 4.0)]
STARTS = ((0.3, -0.4, 2.0), (0.6, -0.2, 1.5), (0.0, 0.0, 2.5))


def testbeds() -> dict:
    data = shared_data_dir()
    return {
        "gadre2024": (lambda: scalecheck.load("gadre2024"), {}),
        "olmo-ladder": (lambda: scalecheck.load("olmo-ladder", data / "olmo_ladder"), {"variant": "rc"}),
        "pythia": (lambda: final_models(scalecheck.load("pythia", data / "pythia_evals")).select(family="pythia"),
                   {"shots": 0}),
    }


def _r(v, nd=4):
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def prediction_rows(tb, x: str, tasks: list[str], kw: dict) -> pd.DataFrame:
    """One row per (expanding split, held-out model): the raw terms of its prediction (independent of the
    coefficients), the residual-only interval's variance and dof, the truth, and how it is scored."""
    series = testbed_series(tb, x, tasks=tasks, **kw)
    jobs = [(s, sp) for s in series for sp in splits(s, "expanding", min_train=3)]
    laws = fit_many([s.subset(sp.train) for s, sp in jobs], "exponential", level=LEVEL)
    rows = []
    for (s, sp), law in zip(jobs, laws, strict=True):
        if not law.usable:
            continue
        test = s.subset(sp.test)
        xt = _law_x(test, law)
        t = pred.DEFAULT.terms(law, xt)
        old_var = law.fit_scale_variance(xt) + float(law.noise_scale) ** 2
        scale, units = units_of(s)
        rows.append(pd.DataFrame({
            "task": s.task, "k": sp.k_sizes_fit, "y": test.y, "centre": t.centre, "residual_var": t.residual_var,
            "change": t.change, "distance": t.distance, "old_var": old_var,
            "old_dof": max(int(law.quality.dof), 1), "scale": scale, "units": units,
            "proportion": bool(s.metric_is_proportion)}))
    return pd.concat(rows, ignore_index=True)


def score_rows(rows: pd.DataFrame, model) -> tuple[float, float]:
    """(coverage, mean interval score in points) of ``model`` (a PredictionModel, or None for residual-only)."""
    if model is None:
        half = stats.t.ppf(0.5 + LEVEL / 2, rows["old_dof"]) * np.sqrt(rows["old_var"])
    else:
        var = sum(model.variance(rows["residual_var"], rows["change"], rows["distance"]))
        half = stats.norm.ppf(0.5 + LEVEL / 2) * np.sqrt(var)
    lo, hi = rows["centre"] - half, rows["centre"] + half
    p = rows["proportion"].to_numpy()
    lo, hi = np.where(p, np.clip(lo, 0, 1), lo), np.where(p, np.clip(hi, 0, 1), hi)
    y = rows["y"].to_numpy()
    covered = (lo <= y) & (y <= hi)
    sc = interval_score(lo, hi, y, LEVEL) * rows["scale"].to_numpy()
    pts = (rows["units"] == "points").to_numpy() & np.isfinite(sc)
    return float(covered.mean()), float(sc[pts].mean())


def calibrate(rows_by_testbed: dict[str, pd.DataFrame]) -> PredictionModel:
    """The coefficients with the lowest mean interval score relative to the residual-only interval's."""
    old = {n: score_rows(r, None)[1] for n, r in rows_by_testbed.items()}

    def model(z):
        return PredictionModel(**dict(zip(FREE, np.exp(z), strict=True)), calibrated_on=tuple(rows_by_testbed))

    def objective(z):
        return float(np.mean([score_rows(r, model(z))[1] / old[n] for n, r in rows_by_testbed.items()]))

    best = min((optimize.minimize(objective, np.array(z0), method="Powell", bounds=BOUNDS,
                                  options={"xtol": 1e-3, "ftol": 1e-5, "maxiter": 3000}) for z0 in STARTS),
               key=lambda r: r.fun)
    return model(best.x)


def coefficients(m: PredictionModel) -> dict:
    return {f: round(float(getattr(m, f)), 3) for f in ("residual", "change", "distance")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates of the ladder's two steps")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    data: dict[str, dict] = {}
    for name, (load, kw) in testbeds().items():
        tb = final_models(load())
        x = tb.default_x()
        verdicts = reality_check(tb, x=x, **kw).frame()
        predictable = verdicts.loc[(verdicts["scope"] == "all") & (verdicts["category"] == "predictable"), "task"]
        tasks = sorted(predictable.tolist())
        data[name] = {"tb": tb, "x": x, "kw": kw, "tasks": tasks, "rows": prediction_rows(tb, x, tasks, kw)}
        print(f"{name}: x={x}, {len(tasks)} predictable tasks, {len(data[name]['rows'])} predictions "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    result = {"level": LEVEL, "scheme": "expanding", "form": "exponential", "testbeds": {}}
    chosen = {}
    for name, d in data.items():
        others = [u for u in data if u != name]
        m = chosen[name] = calibrate({u: data[u]["rows"] for u in others})
        common = dict(x=d["x"], scheme="expanding", level=LEVEL, tasks=d["tasks"], verdicts=False, **d["kw"])
        old = backtest(d["tb"], "exponential", prediction_model=RESIDUAL_ONLY, **common).frame()
        new = backtest(d["tb"], "exponential", prediction_model=m, **common).frame()
        ok = (np.isfinite(old["interval_score"].astype(float)) & np.isfinite(new["interval_score"].astype(float))
              & (new["units"] == "points")).to_numpy()
        other = (np.isfinite(new["interval_score"].astype(float)) & (new["units"] != "points")).to_numpy()

        def cov(f):
            c = f["covered"].dropna().astype(bool)
            return float(c.mean()) if len(c) else float("nan")

        curve, curve_old = calibration(new, by=()), calibration(old, by=())
        by_d = new.assign(b=distance_bins(new["distance"])).groupby("b", observed=True)["covered"].apply(
            lambda c: (float(c.dropna().astype(bool).mean()), int(c.notna().sum())))
        result["testbeds"][name] = {
            "x": d["x"], "n_tasks": len(d["tasks"]), "n_predictions": int(len(new)),
            "coefficients": coefficients(m), "calibrated_on": others,
            "coverage_predictable": _r(cov(new), 3), "coverage_predictable_old": _r(cov(old), 3),
            "interval_score": {"new": _r(new["interval_score"][ok].mean()), "old": _r(old["interval_score"][ok].mean()),
                               "new_median": _r(new["interval_score"][ok].median()),
                               "old_median": _r(old["interval_score"][ok].median()), "n_rows": int(ok.sum()),
                               "units": "points",
                               "other_units": None if not other.any() else {
                                   "n_rows": int(other.sum()), "units": sorted(set(new["units"][other])),
                                   "new_median": _r(new["interval_score"][other].median()),
                                   "old_median": _r(old["interval_score"][other].median())}},
            "mean_interval_width": {"new": _r(new["interval_width"][ok].mean()),
                                    "old": _r(old["interval_width"][ok].mean())},
            "calibration": {f"{lv:.2f}": [_r(a, 3), _r(b, 3)] for lv, a, b in
                            zip(curve["level"], curve["coverage"], curve_old["coverage"], strict=True)},
            "coverage_by_distance": {str(b): {"coverage": _r(v[0], 3), "n": v[1]} for b, v in by_d.items()},
        }
        print(f"{name}: {coefficients(m)} (from {others}); coverage {cov(new):.3f} (old {cov(old):.3f}); "
              f"interval score {new['interval_score'][ok].mean():.4g} (old {old['interval_score'][ok].mean():.4g})",
              flush=True)
    result["calibration_note"] = "calibration: level -> [new, old] coverage"
    every = calibrate({u: data[u]["rows"] for u in data})
    result["calibrated_all"] = coefficients(every)
    result["library_defaults"] = coefficients(pred.DEFAULT)

    # The OLMo ladder's 7B/13B targets through the two-step path, calibrated without the OLMo ladder.
    path = shared_data_dir() / "olmo_ladder"
    tb = scalecheck.load("olmo-ladder", path)
    train, targets = paper_setup(path)
    m = chosen["olmo-ladder"]
    lp = ladder_prediction(tb, train, targets, n_boot=args.n_boot, seed=args.seed, step1_axis="both",
                           prediction_model=m)
    ladder = {}
    for target, g in lp.frame().groupby("target", sort=False):
        ok = g[g["usable"].astype(bool)]
        ladder[target] = {"covered": f"{int(ok['covered'].astype(bool).sum())}/{len(g)}",
                          "mean_width_points": _r(100 * (ok["hi"] - ok["lo"]).mean(), 2),
                          "mae_points": _r(ok["abs_error"].mean(), 3)}
    result["olmo_ladder_targets"] = {"coefficients": coefficients(m),
                                     "calibrated_on": [u for u in data if u != "olmo-ladder"],
                                     "n_boot": args.n_boot, "step1_axis": "both", **ladder}
    thirteen = ladder.get("13B-5T", {})
    result["goal"] = {
        "coverage_in_0.85_0.95": {n: bool(0.85 <= (v["coverage_predictable"] or 0) <= 0.95)
                                  for n, v in result["testbeds"].items()},
        "interval_score_below_old": {n: bool(v["interval_score"]["new"] < v["interval_score"]["old"])
                                     for n, v in result["testbeds"].items()},
        "13B_covered": thirteen.get("covered"), "13B_mean_width_points": thirteen.get("mean_width_points"),
        "13B_at_least_7_of_8": bool(thirteen and int(thirteen["covered"].split("/")[0]) >= 7),
    }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, allow_nan=False))


if __name__ == "__main__":
    main()
