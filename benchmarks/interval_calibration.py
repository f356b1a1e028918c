"""Do prediction intervals mean what they say at every level? Calibrated on some testbeds, checked on another.

Expanding-window backtests (fit the exponential law on the k smallest sizes, predict every larger one, for every
k) of the tasks the reality check calls predictable, on four testbeds: Gadre et al. 2024 (built in, x = C4
loss), the OLMo ladder (final checkpoints, rc accuracy, x = C4 loss), Pythia (final checkpoints of the pythia
family, 0-shot, x = LAMBADA loss) and Sloth (built in, x = FLOPs, 22 public families).
Each testbed's models are pooled into one exponential law, as the three first testbeds always were (with one law
per Sloth family, 3-8 models each, the 3-parameter law overshoots so wildly that calibrating on them drove the
numbers to "no change", covering 0.46 at 90% on the OLMo ladder).

The five numbers of :class:`scalecheck.laws.prediction.PredictionModel` (``low`` and ``high``, the range of the
realised share of the deliverable change; ``residual`` and ``distance``, the scatter's; ``saturation``, how far a
predicted change is delivered against the law's change across its data) are chosen for each testbed on the OTHER
three only (leave-one-testbed-out): the numbers with the lowest mean over testbeds of CRPS relative to the
residual-only interval's plus the largest |coverage - level| (MISCALIBRATION), found by Powell's method from two
starts over the prediction rows (the
raw terms of each prediction do not depend on the numbers, so the fits are done once; Sloth's 85k rows are
subsampled to 2000, fixed seed, for the calibration only). That testbed is then scored on all its rows, beside
the residual-only interval (scalecheck's first: the curve's variance plus the residual variance, t with the fit's
dof) on the same rows.

Scores (accuracies in points; rows in other units are left out of the means): coverage at 50, 60, 70, 80, 90 and
95% (the calibration curve) and ``max_miscalibration``, the largest |coverage - level| over them; Gneiting and
Raftery's interval score at 90% and its mean over the six levels; CRPS (the integral of the squared difference
between the predictive CDF and the step at the truth, both clipped to [0, 1] for proportions, as the backtest
clips its intervals).

Adaptation (the default; ``--no-adapt`` leaves it out: :func:`scalecheck.laws.prediction.adapt`, as
``BacktestOptions.adapt`` applies it).
Before a split's targets are seen, its predictive distributions are adapted to the testbed from the rows known at
that time: rows of earlier splits (fewer sizes fitted) whose targets are among the split's own fit set (size rank
below k), pooled over the testbed's tasks. The rule (rule 2): every interval widened about its median by the
multiplier s >= 1 whose intervals cover those inner truths closest to their levels (least squares over 50-95%),
shrunk as s^w, w = n / (n + 4), n the tasks with inner rows; never narrowed, the median never moved. The first
split of every task has no inner rows and keeps the prior. The five numbers are calibrated unadapted, as before
(the prior). ``unadapted`` scores the same numbers without the adaptation.

What was chosen after seeing which figures (everyone had seen last stop's leave-one-testbed-out figures: Gadre
0.756/0.152, OLMo 0.898/0.096, Pythia 0.859/0.059, Sloth 0.772/0.132 at cov90/max miss). With last stop's
leave-one-out numbers held fixed, the cached rows scored sequentially as above: (a) a spread multiplier (every
interval scaled about the median) and a shift of the share range, both by maximum likelihood on the inner rows:
the likelihood is driven by a few outliers (Gadre's multiplier 3-7, Sloth's 30-400000), discarded at once; (b)
the shift as the median share and the multiplier matching the inner rows' coverage at 50-95%: max miss Gadre
0.123, OLMo 0.107, Pythia 0.077, Sloth 0.252 (Sloth's inner rows, from far extrapolations, asked for narrower
intervals; its later splits needed wider); (c) a per-split recalibration of the PIT by the inner rows' empirical
PIT distribution: 0.125-0.127, 0.075-0.081, 0.065-0.097, 0.121-0.123 (n0 0-4): the inner rows' errors do not
transfer in shape either; (d) three numbers (shift, share-range and scatter multipliers) matched likewise: 0.123,
0.059, 0.103, 0.263; even fitted on a testbed's own outer rows (an oracle) they left a miss of 0.036-0.083; (e)
the shift alone: 0.156, 0.132, 0.063, 0.110, MAE of the median Gadre 6.95 -> 7.01, OLMo 4.21 -> 3.85, Sloth 18.49
-> 15.46.

Rule 1, frozen and run once: the shift alone (e), with the five numbers calibrated with the adaptation in the
loop (committed as 940a614 before its one run, the default at that commit; cov90 / max miss, CRPS; unadapted with
the same numbers, then last stop's leave-one-out figures, in brackets): Gadre 0.669 / 0.249, 5.43 [0.654 / 0.262,
5.69; 0.756 / 0.152, 4.80]; OLMo 0.907 / 0.129, 2.78 [0.898 / 0.112, 2.89; 0.898 / 0.096, 3.10]; Pythia 0.835 /
0.067, 4.26 [0.845 / 0.067, 4.19; 0.859 / 0.059, 4.27]; Sloth 0.777 / 0.124, 11.48 [0.760 / 0.143, 11.56; 0.772 /
0.132, 11.86]; MAE of the median, adapted vs unadapted: 7.27 vs 7.51, 3.69 vs 3.82, 5.10 vs 5.01, 15.31 vs 15.75.
Calibrated with the adaptation in the loop on three testbeds, the prior expects the laws to deliver more (Gadre's
fold: share range [0.52, 1.84]), and every task's first split, which has no inner rows (56% of Gadre's targets),
keeps that prior. It covered worse than last stop's on three testbeds of four, and on the built-in hold-out
(``scalecheck backtest --scheme holdout``) raised the MAE from 3.79 to 4.56 points (coverage 0.85).

Rule 2 (this one) was chosen after rule 1's run and after (b)'s figures, which showed a matched multiplier helping
where it widened (Gadre) and hurting where it narrowed (Sloth); with last stop's numbers held fixed, widening only
gave max miss Gadre 0.125, OLMo 0.096, Pythia 0.059, Sloth 0.119 (and with the shift too: 0.123, 0.132, 0.061,
0.104). It is not blind: it was picked having seen all four testbeds' sequential figures. Its run (committed as
742b029 before it; the final line's figures): cov90 / max miss, CRPS, IS90 [unadapted]: Gadre 0.777 / 0.123,
4.754, 41.80 [0.756 / 0.152, 4.800, 42.70]; OLMo 0.898 / 0.096, 3.101, 24.59 [the same: every multiplier 1];
Pythia 0.859 / 0.059, 4.2675, 43.955 [0.859 / 0.059, 4.2671, 43.953: one split widened by 1.02]; Sloth 0.789 /
0.118, 11.77, 92.04 [0.772 / 0.132, 11.86, 93.76]. Coverage moves toward the level on Gadre and Sloth and nowhere
away from it; the targets (0.85-0.95 at 90%, max miss <= 0.05) are still missed on Gadre and Sloth at 90% and
everywhere across levels. Gadre's first split (56% of its targets) has no inner rows, and Sloth's inner rows are
narrower than the prior until its 16th split, so both keep the prior where they most need more.

The no-change forecast's interval (:class:`scalecheck.laws.prediction.NoChangeModel`, used where ``--form auto``
trusts no law): for every expanding split, the fit set's level and the root mean square of its own inner-backtest
errors; scale and degrees of freedom by maximum likelihood, leave-one-testbed-out likewise, against a normal about
the same sd (``no_change``; ``no_change_calibrated_all`` must equal the library's defaults).
When the inner backtest's origins became each group's own (:func:`scalecheck.laws.select.inner_splits`), the
no-change rows' sd changed on the OLMo ladder and Sloth and the defaults were refitted (scale 1.897 -> 1.98, df
1.573 -> 1.568); leave-one-testbed-out max miss before -> after: Gadre 0.026 -> 0.013, OLMo 0.155 -> 0.135, Pythia
0.138 -> 0.154, Sloth 0.061 -> 0.102 (Sloth's 90% coverage 0.839 -> 0.798: its expanding splits here are on the
pooled sizes, so a family with no model below the origin gets the overall level, which per-family inner errors
do not know). The law rows and every other figure above are unchanged (rerun with ``--cache``: identical).

2026-12-05, knowing every figure above: the calibration's objective with the worst calibration testbed's max miss
in place of their mean (no free number; adoption criterion written before its one run: the largest of the four
leave-one-out max misses below 0.123, cov90 in 0.85-0.95 on at least three testbeds, CRPS below the residual-only
interval's on all four). Its run (``--cache``): max miss Gadre 0.093, OLMo 0.090, Pythia 0.079, Sloth 0.125; cov90
0.817, 0.896, 0.879, 0.781. Not adopted (largest miss 0.125; two testbeds in range, as before).

Then the OLMo ladder's two-step prediction of its 7B/13B targets (the path of benchmarks/olmo_ladder_backtest.py,
its selected step 1 "both") with numbers calibrated without the OLMo ladder: intervals covering, mean width.

Ceilings of the shape (added 2026-12-05, nothing chosen on them): ``oracle_own_rows``, per testbed the five
numbers fitted on its OWN rows, its truths known, minimising its largest |coverage - level| alone (differential
evolution, then Powell from its best, the starts above, ORACLE_STARTS and the leave-one-out numbers, on at most 2000
rows, within the far wider ORACLE_BOUNDS), unadapted, and that miss on all its rows; ``oracle_joint``, one set of
numbers fitted so on all four at once, minimising the worst testbed's miss; ``oracle_targets``, one set for all four
minimising the worst miss while each testbed's CRPS stays below 0.98 x the residual-only interval's (the issue's two
targets at once; differential evolution alone). Where a testbed's own ceiling is small and its leave-one-testbed-out
miss is not, the shape fits it and numbers calibrated on the others do not transfer to it. Coverage alone is a weak
constraint: the own-rows and joint numbers put the median where the law's change reverses (low -2 to -5, high
0.2-0.3), which no one would forecast; hence ``oracle_targets``. A first version searched within the calibration's
BOUNDS (Sloth's own miss 0.060, freed 0.023), and the next by Powell alone (own rows 0.022-0.033, joint 0.073 on
Gadre). Measured with differential evolution (final line, second session of 2026-12-05): own rows Gadre 0.016,
OLMo 0.008, Pythia 0.015, Sloth 0.021; joint 0.055, 0.053, 0.049, 0.061; targets 0.075, 0.071, 0.061, 0.060
(cov90 0.846, 0.894, 0.853, 0.858), and Pythia's IS90 53.3 above the residual-only interval's 47.8. With the floor
(``--floor``: the same search with the sixth number) the targets' ceiling is 0.055, 0.055, 0.053, 0.055, Pythia's
IS90 50.4 against 47.8. So even with the truths known, no set of numbers found meets the calibration and the
sharpness targets on all four testbeds at once; a rule that meets them must give each testbed numbers of its own,
learned before its targets are seen. Gadre et al.'s first split (its two smallest sizes fitted, 1064 of its 1900 targets) has
no inner backtest to learn them from: those targets get numbers from the other testbeds whatever the rule.

Second session of 2026-12-05, two rules (criterion written and committed before either run). A search with
scipy's differential evolution (``--search de``) of the max-miss-only objective of the ceilings found one set of
the five numbers within 0.054-0.062 of every testbed at once (Powell from every start: 0.073): the joint ceiling
above was the search's, not the shape's. With a sixth number, a floor on the scatter's sd on the fitting scale
(``PredictionModel.floor``: a new model scatters by some points whatever its fit's residuals; tasks with tiny
residual sds, Gadre's squad and hellaswag, the OLMo ladder's mmlu tests, miss most), the same search found one set
within 0.028-0.031 of all four (floor 0.065). Chosen on all four testbeds' truths, so the figures below are not
blind; the fifth testbed, ``--extra obsscaling`` (Ruan et al.'s public models by FLOPs, many shared with Sloth,
other tasks), is scored once after both runs, with the numbers calibrated on all four, beside the library's
defaults. Rules: R1, the calibration's objective and BOUNDS unchanged, searched by differential evolution
(seed 0, popsize 10, at most 100 generations, then Powell from its best); R2, R1 with the floor (0-0.1).
Adopt the better of R1 and R2 if (i) CRPS and IS90 stay below the residual-only interval's on all four testbeds
(leave-one-testbed-out, adapted), (ii) either both calibration targets (cov90 in 0.85-0.95, max miss <= 0.05)
hold on more testbeds than now (none), or the largest max miss falls below 0.123 with cov90 in range on at least
three, and (iii) on obsscaling its max miss is at most the library defaults' + 0.02; better: more testbeds
meeting both targets, then the smaller largest max miss.

Their runs (``--cache --search de [--floor] --no-oracle --extra obsscaling``; cov90 / max miss, CRPS, IS90,
leave-one-testbed-out, adapted): R1 Gadre 0.774 / 0.126, 4.750, 42.08; OLMo 0.892 / 0.094, 3.124, 24.76; Pythia
0.861 / 0.055, 4.297, 44.05; Sloth 0.786 / 0.120, 11.667, 92.15 (the Powell search had found about the objective's
optimum); R2 (floor calibrated to 0.006-0.024) 0.779 / 0.128; 0.895 / 0.068; 0.855 / 0.051; 0.728 / 0.172.
obsscaling, numbers calibrated on all four: library defaults (unchanged since before this testbed was first
scored) 0.857 / 0.056, CRPS 8.35 (residual-only 10.62), IS90 73.71 (73.11); R1 0.841 / 0.071; R2 0.790 / 0.120.
Neither adopted: (ii) fails for both. The objective's CRPS term keeps the floor small: it prefers sharpness to
the calibration the floor buys. So, written before their runs: R3, R2 with the objective "constrained" (the mean
CRPS ratio plus 20 x each calibration testbed's max miss beyond 0.03, the joint ceiling with the floor: the
sharpest numbers among those calibrated on every calibration testbed); R4, the same objective without the floor
(its joint ceiling, 0.054-0.062, is above the tolerance: it then mostly minimises the misses). Same criterion.

Their runs, stopped once (i) had failed (cov90 / max miss, CRPS and IS90 against the residual-only interval's): R3
Gadre 0.883 / 0.161, 4.99 (8.05), 46.2 (95.4); the OLMo ladder 0.871 / 0.042, CRPS 8.92 against 4.01, IS90 53.6
against 32.4 (fails (i): floor 0.058, the share range [-1.34, 0.12], calibrated to the others' coverage). R4 Gadre
0.784 / 0.122, 4.67, 46.5; the OLMo ladder 0.948 / 0.101, 3.17, 23.9; Pythia 0.855 / 0.071, CRPS 6.59 against 7.54,
IS90 54.7 against 47.8 (fails (i)). Neither adopted. Calibrated first, numbers from three testbeds give up the
sharpness that beats the residual-only interval on the fourth, and still miss its coverage (Gadre 0.161, 0.122).

A fifth testbed, never calibrated on (``--extra obsscaling``, Ruan et al.'s ~150 public base models by FLOPs, 12
tasks called predictable; many models are also in Sloth, the tasks mostly not), scored with the numbers calibrated on
all four as a user meets them (the library's defaults, fixed before it was first scored, adapted as the backtest
adapts): cov90 0.857, max miss 0.056, CRPS 8.35 against the residual-only interval's 10.62, IS90 73.7 against 73.1.

Final line, JSON: per testbed (``testbeds.<name>``) the scores above, new and old, the numbers used and what they
were calibrated on, the own-rows oracle's numbers and miss; ``oracle_joint``; ``oracle_targets``; the numbers
calibrated on all four (``calibrated_all``, which the library's defaults must equal to the rounding shown); the 13B
targets; ``extra`` (``--extra``); ``goal``.

    python benchmarks/interval_calibration.py [--n-boot 1000] [--cache DIR] [--extra obsscaling] [--no-oracle]
        [--search powell|de] [--floor] [--objective crps|constrained]

The defaults (Powell, five numbers, the CRPS objective) are the library's rule; the other options reproduce the
rules tried and not adopted (above). With ``--cache`` the run takes about 14 minutes on two cores, most of it the
ceilings.

``--cache DIR`` keeps each testbed's prediction rows (and verdicts) as parquet files there and reads them back
on the next run (delete them after changing the laws or the backtest).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from _shared import shared_data_dir  # benchmarks/_shared.py
from scipy import optimize, stats
from scipy.integrate import trapezoid  # numpy's own is 2.0+; the floor is numpy 1.24

import scalecheck
from scalecheck.backtest.engine import _law_x, testbed_series, units_of
from scalecheck.backtest.two_step import ladder_prediction
from scalecheck.backtest.windows import size_ranks, size_scale, splits
from scalecheck.laws import fit_many
from scalecheck.laws import prediction as pred
from scalecheck.laws.fitting import to_fit_scale
from scalecheck.laws.prediction import PredictionModel
from scalecheck.laws.select import no_change_fit
from scalecheck.observations import final_models
from scalecheck.sources.olmo_ladder import paper_setup
from scalecheck.trends import reality_check

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
FREE = ("low", "high", "residual", "distance", "saturation")
# Bounds of the search: the realised share's range anywhere in [-1.5, 2]; the distance coefficient 0-40; the
# residual multiplier b 0.5-2. Almost every backtest row lies past the fitted range, where b trades off against
# the distance term (free, b went to 3.2-3.4 and the distance term down), so the rows hardly say what b is inside
# the range; there a new model scatters like the fitted ones, with s from few dof: b = 2 is a t quantile at 3-4
# dof, and the laws' own simulations (tests/laws/test_bootstrap.py) over-cover (1.0 at 90%) with b = 3.3.
# The saturation 0.05-50 (50: hardly any).
BOUNDS = [(-1.5, 1.0), (0.0, 2.0), (0.5, 2.0), (0.0, 40.0), (0.05, 50.0)]
# Two starts: from the first alone the search for the OLMo ladder's fold stopped at low = high = 0 ("no change").
STARTS = ((-0.5, 1.0, 1.9, 6.0, 2.0), (-0.1, 1.2, 1.5, 5.0, 5.0))
# The objective: mean over testbeds of CRPS / the residual-only interval's CRPS + MISCALIBRATION x the largest
# |coverage - level| over LEVELS. CRPS alone (MISCALIBRATION 0) under-covered (0.69-0.86 at 90%, max miss up to
# 0.21, the numbers calibrated on the other three): with a shape that does not fit every testbed exactly, the
# sharpest good CRPS is too narrow. 1 was the only other value tried (chosen after seeing CRPS alone's figures).
MISCALIBRATION = 1.0
CALIBRATION_ROWS = 2000  # rows per testbed at most in the calibration (Sloth: 85k); all are scored
# Adapt each split's predictive distribution to its testbed from the rows known when it is made (see the
# docstring's "Adaptation"), as the library does by default; --no-adapt gives the unadapted figures.
ADAPT = True
GRID = 121  # points of the CRPS integral per row (61 in the calibration's search)
# The search: "powell" (from STARTS) or "de" (scipy's differential evolution over the bounds, fixed seed, then
# Powell from its best). FLOOR: also calibrate the scatter's floor (PredictionModel.floor), within FLOOR_BOUNDS.
SEARCH = "powell"
DE_POPSIZE, DE_MAXITER = 10, 100
FLOOR = False
FLOOR_BOUNDS = (0.0, 0.1)
# OBJECTIVE "constrained": the mean CRPS ratio plus PENALTY x each testbed's max miss beyond TOLERANCE (sharpness
# subject to calibration) in place of MISCALIBRATION x the max miss. TOLERANCE is the joint ceiling with the floor
# (0.028-0.031, rounded up); PENALTY only has to make a miss beyond it cost more than any CRPS gain.
OBJECTIVE = "crps"
TOLERANCE, PENALTY = 0.03, 20.0


def testbeds() -> dict:
    data = shared_data_dir()
    return {
        "gadre2024": (lambda: scalecheck.load("gadre2024"), {}),
        "olmo-ladder": (lambda: scalecheck.load("olmo-ladder", data / "olmo_ladder"), {"variant": "rc"}),
        "pythia": (lambda: final_models(scalecheck.load("pythia", data / "pythia_evals")).select(family="pythia"),
                   {"shots": 0}),
        "sloth2024": (lambda: scalecheck.load("sloth2024"), {}),
    }


# Testbeds no calibration uses: a check of the numbers on a testbed they never saw (--extra), as testbeds() gives them.
EXTRA = ("obsscaling",)


def extra_testbeds() -> dict:
    return {"obsscaling": (lambda: scalecheck.load("obsscaling", shared_data_dir() / "obsscaling"), {})}


def _r(v, nd=4):
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def prediction_rows(tb, x: str, tasks: list[str], kw: dict) -> pd.DataFrame:
    """One row per (expanding split, held-out model): the raw terms of its prediction (independent of the
    model's numbers), the residual-only interval's variance and dof, the truth, and how it is scored."""
    series = testbed_series(tb, x, tasks=tasks, **kw)
    jobs = [(s, sp) for s in series for sp in splits(s, "expanding", min_train=3)]
    laws = fit_many([s.subset(sp.train) for s, sp in jobs], "exponential", level=0.9)
    rows = []
    for (s, sp), law in zip(jobs, laws, strict=True):
        if not law.usable:
            continue
        test = s.subset(sp.test)
        xt = _law_x(test, law)
        d, edge = pred._distance(law.law, np.asarray(law.x, float), xt)
        with np.errstate(all="ignore"):
            centre = to_fit_scale(law.law, law.law.predict_params(law.param_vector, xt))
            at_edge = to_fit_scale(law.law, law.law.predict_params(law.param_vector, edge))
            span = pred.fitted_span(law)
        scale, units = units_of(s)
        rows.append(pd.DataFrame({
            "task": s.task, "k": sp.k_sizes_fit, "model": test.models,
            "rank": size_ranks(size_scale(s))[sp.test], "y": test.y, "centre": centre,
            "edge": at_edge, "residual_var": float(law.noise_scale) ** 2, "distance": d, "span": span,
            "old_var": law.fit_scale_variance(xt) + float(law.noise_scale) ** 2,
            "old_dof": max(int(law.quality.dof), 1), "scale": scale, "units": units,
            "proportion": bool(s.metric_is_proportion)}))
    return pd.concat(rows, ignore_index=True)


def no_change_rows(tb, x: str, tasks: list[str], kw: dict) -> pd.DataFrame:
    """One row per (expanding split, held-out model) of the no-change forecast (the fit set's largest size's
    level, per group) with the scale of its interval (the root mean square of its own inner-backtest errors,
    :func:`scalecheck.laws.select.no_change_fit`): no fits, so every split of every task counts."""
    rows = []
    for s in testbed_series(tb, x, tasks=tasks, **kw):
        scale, units = units_of(s)
        for sp in splits(s, "expanding", min_train=3):
            train, test = s.subset(sp.train), s.subset(sp.test)
            nc = no_change_fit(train)
            rows.append(pd.DataFrame({"task": s.task, "k": sp.k_sizes_fit, "model": test.models, "y": test.y,
                                      "level": nc.predict_groups(test.groups), "sd": nc.sd,
                                      "n_inner": nc.choice.n_inner, "scale": scale, "units": units}))
    return pd.concat(rows, ignore_index=True)


def calibrate_no_change(rows_by_testbed: dict[str, pd.DataFrame]) -> pred.NoChangeModel:
    """The no-change model's scale and df by maximum likelihood, each testbed weighted equally."""
    return pred.calibrate_no_change([((r["y"] - r["level"]) / r["sd"]).to_numpy(float)
                                     for r in rows_by_testbed.values()])


def coverage(need: np.ndarray) -> tuple[dict[float, float], float]:
    """Coverage at every level from each row's smallest covering level, and the largest |coverage - level|."""
    cov = {lv: float(np.mean(need <= lv)) for lv in LEVELS}
    return cov, max(abs(c - lv) for lv, c in cov.items())


def score_no_change(rows: pd.DataFrame, model: pred.NoChangeModel) -> dict:
    y, c, sd = (rows[k].to_numpy(float) for k in ("y", "level", "sd"))
    sc = rows["scale"].to_numpy(float)
    cov, miss = coverage(model.level_to_cover(c, sd, y))
    lo, hi = model.interval(c, sd, 0.9)
    return {"coverage": cov, "max_miscalibration": miss,
            "interval_score": float(np.nanmean(pred.interval_score(lo, hi, y, 0.9) * sc))}


def scorable_no_change(rows: pd.DataFrame) -> pd.DataFrame:
    ok = (rows["units"] == "points") & np.isfinite(rows["sd"]) & (rows["sd"] > 0)
    return rows[ok].reset_index(drop=True)


class _ResidualOnlyRows:
    """The residual-only interval's distribution on prediction rows: t with the fit's dof about the law."""

    def __init__(self, rows):
        self.centre = rows["centre"].to_numpy(float)
        self.sd = np.sqrt(rows["old_var"].to_numpy(float))
        self.dof = rows["old_dof"].to_numpy(float)

    def _b(self, y):
        k = np.ndim(y) - 1
        return tuple(v.reshape(v.shape + (1,) * k) for v in (self.centre, self.sd, self.dof))

    def cdf(self, y):
        c, s, d = self._b(y)
        return stats.t.cdf((y - c) / s, d)

    def quantile(self, p):
        return self.centre + self.sd * stats.t.ppf(p, self.dof)

    def interval(self, level):
        return self.quantile((1 - level) / 2), self.quantile((1 + level) / 2)

    def level_to_cover(self, y):
        return np.abs(2 * self.cdf(y) - 1)


def distribution(rows: pd.DataFrame, model: PredictionModel | None, spread=None):
    """The predictive distribution of each row: ``model``'s (None: residual-only), scaled about its median by
    ``spread`` (one per row: the testbed's adaptation at the row's split; None: the prior), as
    :meth:`~scalecheck.laws.prediction.PredictionModel.adapted` scales it."""
    if model is None:
        return _ResidualOnlyRows(rows)
    d = model.from_terms(rows["centre"], rows["edge"], rows["residual_var"], rows["distance"], rows["span"])
    if spread is None:
        return d
    g, mid = np.asarray(spread, float), (model.low + model.high) / 2
    return replace(d, low=mid + g * (model.low - mid), high=mid + g * (model.high - mid), sd=g * d.sd)


def inner_rows(rows: pd.DataFrame, cap: int | None = None) -> dict[int, np.ndarray]:
    """For each split (k sizes fitted), the rows known when it is made: rows of earlier splits (k' < k) whose
    targets are among the k smallest sizes of their task (rank < k). ``cap``: at most so many, a fixed sample."""
    k, rank = rows["k"].to_numpy(int), rows["rank"].to_numpy(int)
    rng = np.random.default_rng(0)
    out = {}
    for kk in np.unique(k):
        idx = np.flatnonzero((k < kk) & (rank < kk))
        if cap is not None and len(idx) > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        out[int(kk)] = idx
    return out


def adaptations(rows: pd.DataFrame, model: PredictionModel, inner: dict[int, np.ndarray]
                ) -> dict[int, pred.Adaptation]:
    """The library's adaptation (:func:`scalecheck.laws.prediction.adapt`) of ``model`` at each split, from the
    rows known then (:func:`inner_rows`); the earliest splits have none and keep the prior."""
    out = {}
    for kk, idx in inner.items():
        r = rows.iloc[idx]
        out[kk] = pred.adapt(model, r["centre"], r["edge"], r["residual_var"], r["distance"], r["y"], r["span"],
                             tasks=r["task"])[1]
    return out


def row_spreads(rows: pd.DataFrame, adapted: dict[int, pred.Adaptation]) -> np.ndarray:
    return rows["k"].map({kk: a.spread for kk, a in adapted.items()}).to_numpy(float)


def crps(dist, rows: pd.DataFrame, grid: int = GRID) -> np.ndarray:
    """CRPS per row (y's units), by the trapezoid rule over a grid spanning the distribution's 0.1%-99.9%
    quantiles and the truth; for proportions the CDF is 0 below 0 and 1 from 1 on (the backtest clips there)."""
    y = rows["y"].to_numpy(float)
    with np.errstate(all="ignore"):
        if isinstance(dist, pred.Predictive):  # its support: the uniform part widened by 3.1 sds (0.1% each side)
            a, b = dist.edge + dist.low * dist.delivered, dist.edge + dist.high * dist.delivered
            z = pred._scatter(dist.df).ppf(0.999)
            lo, hi = np.minimum(a, b) - z * dist.sd, np.maximum(a, b) + z * dist.sd
        else:
            lo, hi = dist.quantile(0.001), dist.quantile(0.999)
    lo, hi = np.minimum(lo, y), np.maximum(hi, y)
    prop = rows["proportion"].to_numpy(bool)
    lo = np.where(prop, np.maximum(lo, np.minimum(0.0, y)), lo)
    hi = np.where(prop, np.minimum(hi, np.maximum(1.0, y)), hi)
    t = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, grid)[None]
    with np.errstate(all="ignore"):
        F = dist.cdf(t)
    F = np.where(prop[:, None] & (t < 0), 0.0, np.where(prop[:, None] & (t >= 1), 1.0, F))
    # The mass beyond the 0.1%/99.9% quantiles is left out: at most 0.001 * the tail's reach, negligible here.
    return trapezoid((F - (y[:, None] <= t)) ** 2, t, axis=1)


def score(rows: pd.DataFrame, model: PredictionModel | None, with_intervals: bool = True, grid: int = GRID,
          spread=None) -> dict:
    """Coverage at every level, CRPS and interval scores of ``model`` (None: residual-only) on ``rows``, scaled
    about the median by ``spread`` (one per row; None: unadapted)."""
    dist = distribution(rows, model, spread)
    y = rows["y"].to_numpy(float)
    sc = rows["scale"].to_numpy(float)
    with np.errstate(all="ignore"):
        need = dist.level_to_cover(y)
    cov, miss = coverage(need)
    out = {"coverage": cov, "max_miscalibration": miss,
           "crps": float(np.nanmean(crps(dist, rows, grid) * sc))}
    if with_intervals:
        prop = rows["proportion"].to_numpy(bool)
        with np.errstate(all="ignore"):
            med = dist.quantile(0.5)
        med = np.where(prop, np.clip(med, 0, 1), med)
        out["mae_median"] = float(np.nanmean(np.abs(med - y) * sc))  # the point forecast's error
        prop = rows["proportion"].to_numpy(bool)
        iss = {}
        for lv in LEVELS:
            with np.errstate(all="ignore"):
                lo, hi = dist.interval(lv)
            lo, hi = np.where(prop, np.clip(lo, 0, 1), lo), np.where(prop, np.clip(hi, 0, 1), hi)
            iss[lv] = float(np.nanmean(pred.interval_score(lo, hi, y, lv) * sc))
            if lv == 0.9:
                out["width_90"] = float(np.nanmean((hi - lo) * sc))
        out["interval_score"] = iss
    return out


def scorable(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in points whose law is finite where it predicts (a runaway law's row cannot be scored by either)."""
    ok = (rows["units"] == "points") & np.isfinite(rows["centre"]) & np.isfinite(rows["edge"])
    return rows[ok].reset_index(drop=True)


def _sample(rows_by_testbed: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """At most CALIBRATION_ROWS rows of each testbed (fixed seed) for a search; all are scored after it."""
    return {n: r if len(r) <= CALIBRATION_ROWS else r.sample(CALIBRATION_ROWS, random_state=0)
            for n, r in rows_by_testbed.items()}


def _numbers_model(v, on: tuple[str, ...]) -> PredictionModel:
    """The numbers ``v`` (in FREE's order, and the floor's if it is searched) as a model with normal scatter."""
    return PredictionModel(**dict(zip(_free(), map(float, v), strict=True)), df=np.inf, calibrated_on=on)


def _free() -> tuple[str, ...]:
    return (*FREE, "floor") if FLOOR else FREE


def _search(rows_by_testbed: dict[str, pd.DataFrame]):
    """What a search over the numbers scores: ``model(v)``, the numbers as a model, and ``scores(v)``, per testbed
    (CRPS / the residual-only interval's, max miss) on its sample of rows (:func:`_sample`), unadapted."""
    sample = _sample(rows_by_testbed)
    old = {n: score(r, None, False, 61)["crps"] for n, r in sample.items()}

    def model(v):
        return _numbers_model(v, tuple(sample))

    def scores(v):
        m = model(v)
        out = {}
        for n, r in sample.items():
            sc = score(r, m, False, 61)
            out[n] = (sc["crps"] / old[n], sc["max_miscalibration"])
        return out

    return model, scores


def calibrate(rows_by_testbed: dict[str, pd.DataFrame]) -> PredictionModel:
    """The numbers with the lowest mean CRPS relative to the residual-only interval's plus the penalty for
    miscalibration (see MISCALIBRATION), unadapted (the prior the adaptation starts from); the scatter is normal
    (df = inf: a Student-t's df went to ~1.8 and bought no better CRPS)."""
    model, scores = _search(rows_by_testbed)

    def objective(v):
        sc = scores(v).values()
        if OBJECTIVE == "constrained":
            return float(np.mean([ratio for ratio, _ in sc])
                         + PENALTY * sum(max(0.0, miss - TOLERANCE) for _, miss in sc))
        return float(np.mean([ratio + MISCALIBRATION * miss for ratio, miss in sc]))

    bounds = [*BOUNDS, FLOOR_BOUNDS] if FLOOR else BOUNDS
    if SEARCH == "de":
        de = optimize.differential_evolution(objective, bounds, seed=0, popsize=DE_POPSIZE, maxiter=DE_MAXITER,
                                             init="sobol", polish=False)
        starts = (tuple(de.x),)
    else:
        starts = tuple((*z0, 0.01) for z0 in STARTS) if FLOOR else STARTS
    best = min((optimize.minimize(objective, np.array(z0), method="Powell", bounds=bounds,
                                  options={"xtol": 1e-2, "ftol": 1e-4, "maxiter": 3000}) for z0 in starts),
               key=lambda r: r.fun)
    return model(best.x)


# The oracle's search is the shape's, not the calibration's: far wider bounds (with the calibration's, Sloth's own
# numbers stopped at them, low -1.41 and saturation 40, and missed by 0.060; freed, 0.023).
ORACLE_BOUNDS = [(-5.0, 1.0), (0.0, 5.0), (0.1, 5.0), (0.0, 200.0), (0.05, 1000.0)]
# The largest miss is a step function of the numbers, so Powell stops in local optima: many starts, spread over
# the bounds (from STARTS, the two first of these and its leave-one-out numbers, Sloth's own numbers stopped
# at a miss of 0.100; with the others too, 0.023).
ORACLE_STARTS = ((-2.0, 0.5, 2.5, 60.0, 200.0), (-1.5, 0.2, 3.0, 60.0, 300.0), (-1.4, 0.22, 1.9, 32.5, 40.0),
                 (-3.0, 0.2, 2.5, 60.0, 200.0), (-0.5, 1.0, 3.0, 100.0, 500.0), (-2.0, 0.5, 1.0, 50.0, 10.0),
                 (-0.6, 2.0, 2.0, 30.0, 5.0), (-1.0, 1.5, 1.7, 9.0, 4.5))


def _max_miss(rows: pd.DataFrame, model: PredictionModel) -> float:
    """The largest |coverage - level| of ``model`` on ``rows`` (unadapted), without the CRPS :func:`score` adds."""
    with np.errstate(all="ignore"):
        need = distribution(rows, model).level_to_cover(rows["y"].to_numpy(float))
    return coverage(need)[1]


def oracle(rows_by_testbed: dict[str, pd.DataFrame], starts=()) -> tuple[PredictionModel, dict[str, float]]:
    """A ceiling, not a rule: one set of the five numbers fitted on these testbeds' OWN rows (their truths known),
    minimising the largest |coverage - level| of the worst of them, unadapted, within :data:`ORACLE_BOUNDS`; and each
    testbed's miss on all its rows. For one testbed: where it is small and the leave-one-testbed-out miss is not,
    the shape fits the testbed and the numbers calibrated on the others do not transfer to it. For all four: how
    close one set of numbers can come on every testbed at once."""
    sample = _sample(rows_by_testbed)

    def model(v):
        return _numbers_model(v, tuple(sample))

    def objective(v):
        return max(_max_miss(r, model(v)) for r in sample.values())

    bounds = [*ORACLE_BOUNDS, FLOOR_BOUNDS] if FLOOR else ORACLE_BOUNDS
    lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
    # Differential evolution first (the miss is a step function: from the starts alone Powell stopped at 0.073 on
    # all four, DE reached 0.054-0.062), then Powell from its best and from every start.
    de = optimize.differential_evolution(objective, bounds, seed=0, popsize=20, maxiter=150, init="sobol",
                                         polish=False)
    z0s = [tuple(de.x), *((*z0, 0.0)[:len(bounds)] for z0 in (*STARTS, *ORACLE_STARTS, *starts))]
    best = min((optimize.minimize(objective, np.clip(np.array(z0, float), lo, hi), method="Powell",
                                  bounds=bounds, options={"xtol": 1e-3, "ftol": 1e-5, "maxiter": 8000})
                for z0 in z0s), key=lambda r: r.fun)
    m = model(best.x)
    return m, {n: _max_miss(r, m) for n, r in rows_by_testbed.items()}


# The targets side by side, truths known: one set of numbers for all four testbeds minimising the worst
# max miss while CRPS stays below SHARP x the residual-only interval's on every one (each testbed's excess CRPS
# ratio costs 10 a unit: a constraint, not a trade).
SHARP = 0.98


def oracle_targets(rows_by_testbed: dict[str, pd.DataFrame], residual_only: dict[str, dict]
                   ) -> tuple[PredictionModel, dict[str, dict]]:
    """A ceiling, not a rule: can one set of numbers meet the calibration and the sharpness targets on every testbed
    at once, with their truths known? Differential evolution (fixed seed) within :data:`ORACLE_BOUNDS`, then each
    testbed scored on all its rows: max miss, coverage at 90%, CRPS and IS90 beside the residual-only interval's
    (``residual_only``: its :func:`score` on the same rows, already computed)."""
    model, scores = _search(rows_by_testbed)

    def objective(v):
        sc = scores(v).values()
        return max(miss for _, miss in sc) + 10.0 * sum(max(0.0, ratio - SHARP) for ratio, _ in sc)

    bounds = [*ORACLE_BOUNDS, FLOOR_BOUNDS] if FLOOR else ORACLE_BOUNDS
    de = optimize.differential_evolution(objective, bounds, seed=0, popsize=15, maxiter=100, init="sobol",
                                         polish=False)
    m = model(de.x)
    out = {}
    for n, r in rows_by_testbed.items():
        new, res = score(r, m), residual_only[n]
        out[n] = {"max_miscalibration": _r(new["max_miscalibration"], 3), "coverage_90": _r(new["coverage"][0.9], 3),
                  "crps": [_r(new["crps"], 3), _r(res["crps"], 3)],
                  "interval_score": [_r(new["interval_score"][0.9], 2), _r(res["interval_score"][0.9], 2)]}
    return m, out


def numbers(m: PredictionModel) -> dict:
    return {f: round(float(getattr(m, f)), 3) for f in (*FREE, "floor")}


def with_ranks(rows: pd.DataFrame, load, kw, x: str, tasks: list[str]) -> pd.DataFrame:
    """``rows`` with each target's size rank within its task's series (0: the smallest size), for rows cached
    before the column existed."""
    if "rank" in rows.columns:
        return rows
    tb = final_models(load())
    ranks = pd.concat([pd.DataFrame({"task": s.task, "model": s.models, "rank": size_ranks(size_scale(s))})
                       for s in testbed_series(tb, x, tasks=tasks, **kw)], ignore_index=True)
    out = rows.merge(ranks, on=["task", "model"], how="left", validate="many_to_one")
    assert out["rank"].notna().all() and (out["rank"] >= out["k"]).all()
    return out


def load_rows(name, load, kw, cache: Path | None):
    paths = ((cache / f"rows_{name}.parquet", cache / f"tasks_{name}.json", cache / f"nc_{name}.parquet")
             if cache else None)
    if paths and all(p.exists() for p in paths):
        meta = json.loads(paths[1].read_text())
        rows = with_ranks(pd.read_parquet(paths[0]), load, kw, meta["x"], meta["tasks"])
        return rows, pd.read_parquet(paths[2]), meta["tasks"], meta["x"]
    tb = final_models(load())
    x = tb.default_x()
    verdicts = reality_check(tb, x=x, **kw).frame()
    tasks = sorted(verdicts.loc[(verdicts["scope"] == "all") & (verdicts["category"] == "predictable"), "task"])
    rows, nc = prediction_rows(tb, x, tasks, kw), no_change_rows(tb, x, tasks, kw)
    if paths:
        cache.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(paths[0])
        paths[1].write_text(json.dumps({"tasks": tasks, "x": x}))
        nc.to_parquet(paths[2])
    return rows, nc, tasks, x


def figures(d: dict, m: PredictionModel) -> tuple[dict, dict, dict]:
    """One testbed's scores with numbers ``m`` (adapted to it from its own inner rows when ADAPT), beside the
    residual-only interval's: the final line's entry, and the adapted and residual-only scores."""
    adapted = adaptations(d["rows"], m, inner_rows(d["rows"])) if ADAPT else {}
    spread = row_spreads(d["rows"], adapted) if ADAPT else None
    new, old, prior = score(d["rows"], m, spread=spread), score(d["rows"], None), score(d["rows"], m)
    out = {
        "x": d["x"], "n_tasks": len(d["tasks"]), "n_predictions": d["n_rows"], "n_scored": len(d["rows"]),
        "numbers": numbers(m), "calibrated_on": list(m.calibrated_on), "adapted": ADAPT,
        "adaptation_by_k": {str(kk): {"spread_multiplier": _r(a.spread, 3), "spread_inner": _r(a.spread_inner, 3),
                                      "n_inner_rows": a.n_rows, "n_inner_tasks": a.n_tasks,
                                      "n_targets": int((d["rows"]["k"] == kk).sum())}
                            for kk, a in adapted.items()},
        "unadapted": {"coverage_90": _r(prior["coverage"][0.9], 3),
                      "max_miscalibration": _r(prior["max_miscalibration"], 3),
                      "calibration": {f"{lv:.2f}": _r(prior["coverage"][lv], 3) for lv in LEVELS},
                      "crps": _r(prior["crps"]), "interval_score": _r(prior["interval_score"][0.9]),
                      "mae_median": _r(prior["mae_median"], 3)},
        "mae_median": {"new": _r(new["mae_median"], 3), "unadapted": _r(prior["mae_median"], 3)},
        "coverage_predictable": _r(new["coverage"][0.9], 3), "coverage_predictable_old": _r(old["coverage"][0.9], 3),
        "max_miscalibration": _r(new["max_miscalibration"], 3),
        "max_miscalibration_old": _r(old["max_miscalibration"], 3),
        "calibration": {f"{lv:.2f}": [_r(new["coverage"][lv], 3), _r(old["coverage"][lv], 3)] for lv in LEVELS},
        "interval_score": {"new": _r(new["interval_score"][0.9]), "old": _r(old["interval_score"][0.9]),
                           "units": "points", "level": 0.9},
        "interval_score_mean_levels": {"new": _r(np.mean(list(new["interval_score"].values()))),
                                       "old": _r(np.mean(list(old["interval_score"].values())))},
        "interval_score_by_level": {f"{lv:.2f}": [_r(new["interval_score"][lv], 2),
                                                  _r(old["interval_score"][lv], 2)] for lv in LEVELS},
        "crps": {"new": _r(new["crps"]), "old": _r(old["crps"]), "units": "points"},
        "mean_interval_width_90": {"new": _r(new["width_90"], 2), "old": _r(old["width_90"], 2)},
    }
    return out, new, old


def main() -> None:
    global ADAPT, SEARCH, FLOOR, OBJECTIVE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates of the ladder's two steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None, help="keep and reuse the prediction rows here")
    ap.add_argument("--no-adapt", dest="adapt", action="store_false",
                    help="score the prior unadapted (see Adaptation)")
    ap.add_argument("--search", choices=("powell", "de"), default=SEARCH, help="the calibration's search")
    ap.add_argument("--floor", action="store_true", help="also calibrate the scatter's floor")
    ap.add_argument("--objective", choices=("crps", "constrained"), default=OBJECTIVE,
                    help="the calibration's objective (see OBJECTIVE)")
    ap.add_argument("--no-oracle", dest="oracle", action="store_false", help="leave the ceilings out (faster)")
    ap.add_argument("--extra", action="append", default=[], choices=sorted(EXTRA),
                    help="also score this testbed, never calibrated on, with the numbers calibrated on all four "
                         "(and with the library's defaults)")
    args = ap.parse_args()
    ADAPT, SEARCH, FLOOR, OBJECTIVE = args.adapt, args.search, args.floor, args.objective
    t0 = time.perf_counter()
    data: dict[str, dict] = {}
    for name, (load, kw) in testbeds().items():
        rows, nc, tasks, x = load_rows(name, load, kw, args.cache)
        data[name] = {"x": x, "tasks": tasks, "rows": scorable(rows), "n_rows": len(rows),
                      "no_change": scorable_no_change(nc)}
        print(f"{name}: x={x}, {len(tasks)} predictable tasks, {len(rows)} predictions "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    result = {"levels": list(LEVELS), "scheme": "expanding", "form": "exponential", "testbeds": {}}
    chosen, residual_only = {}, {}
    for name, d in data.items():
        others = [u for u in data if u != name]
        m = chosen[name] = calibrate({u: data[u]["rows"] for u in others})
        result["testbeds"][name], new, old = figures(d, m)
        residual_only[name] = old
        if args.oracle:
            om, omisses = oracle({name: d["rows"]}, [tuple(getattr(m, f) for f in _free())])
            omiss = omisses[name]
            result["testbeds"][name]["oracle_own_rows"] = {"max_miscalibration": _r(omiss, 3), "numbers": numbers(om)}
            print(f"{name}: oracle (numbers fitted on its own rows) max miss {omiss:.3f}, {numbers(om)}", flush=True)
        print(f"{name}: {numbers(m)} (from {others}); coverage {new['coverage']} (max miss "
              f"{new['max_miscalibration']:.3f}, old {old['max_miscalibration']:.3f}); CRPS {new['crps']:.3f} (old "
              f"{old['crps']:.3f}); IS90 {new['interval_score'][0.9]:.2f} (old {old['interval_score'][0.9]:.2f})",
              flush=True)
    # The no-change forecast's interval (laws.prediction.NoChangeModel), leave-one-testbed-out likewise.
    result["no_change"] = {}
    for name, d in data.items():
        m = calibrate_no_change({u: data[u]["no_change"] for u in data if u != name})
        new, old = score_no_change(d["no_change"], m), score_no_change(d["no_change"], pred.NoChangeModel(1.0, np.inf))
        result["no_change"][name] = {
            "scale": _r(m.scale, 3), "df": _r(m.df, 3), "n": len(d["no_change"]),
            "calibration": {f"{lv:.2f}": [_r(new["coverage"][lv], 3), _r(old["coverage"][lv], 3)] for lv in LEVELS},
            "max_miscalibration": _r(new["max_miscalibration"], 3), "max_miscalibration_normal": _r(old["max_miscalibration"], 3),
            "interval_score": {"new": _r(new["interval_score"]), "normal": _r(old["interval_score"])}}
    every_nc = calibrate_no_change({u: data[u]["no_change"] for u in data})
    result["no_change_calibrated_all"] = {"scale": _r(every_nc.scale, 3), "df": _r(every_nc.df, 3)}
    result["no_change_library_defaults"] = {"scale": pred.NO_CHANGE.scale, "df": pred.NO_CHANGE.df}
    result["calibration_note"] = "calibration: level -> [new, old] coverage; interval_score_by_level likewise"
    every = calibrate({u: data[u]["rows"] for u in data})
    result["calibrated_all"] = numbers(every)
    if args.oracle:
        jm, jmiss = oracle({u: data[u]["rows"] for u in data}, [tuple(getattr(every, f) for f in _free())])
        result["oracle_joint"] = {"max_miscalibration": {n: _r(v, 3) for n, v in jmiss.items()},
                                  "numbers": numbers(jm)}
        print(f"oracle, one set of numbers for all four, their truths known: max miss {jmiss}, {numbers(jm)}",
              flush=True)
        tm, tfig = oracle_targets({u: data[u]["rows"] for u in data}, residual_only)
        result["oracle_targets"] = {"testbeds": tfig, "numbers": numbers(tm), "sharp": SHARP}
        print(f"oracle, one set of numbers for all four meeting the CRPS target, their truths known: {tfig}, "
              f"{numbers(tm)}", flush=True)
    # Testbeds never calibrated on, scored as a user meets them: with the numbers calibrated on all four.
    result["extra"] = {}
    for name in args.extra:
        load, kw = extra_testbeds()[name]
        rows, _, tasks, x = load_rows(name, load, kw, args.cache)
        d = {"x": x, "tasks": tasks, "rows": scorable(rows), "n_rows": len(rows)}
        result["extra"][name] = {"calibrated_all": figures(d, every)[0], "library_defaults": figures(d, pred.DEFAULT)[0]}
        for k, v in result["extra"][name].items():
            print(f"{name} ({k}): cov90 {v['coverage_predictable']}, max miss {v['max_miscalibration']}, CRPS "
                  f"{v['crps']}, IS90 {v['interval_score']}", flush=True)
    result["library_defaults"] = numbers(pred.DEFAULT)

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
    result["olmo_ladder_targets"] = {"numbers": numbers(m), "calibrated_on": [u for u in data if u != "olmo-ladder"],
                                     "n_boot": args.n_boot, "step1_axis": "both", **ladder}
    tb_res = result["testbeds"]
    result["goal"] = {
        "coverage_90_in_0.85_0.95": {n: bool(0.85 <= (v["coverage_predictable"] or 0) <= 0.95)
                                     for n, v in tb_res.items()},
        "max_miscalibration_at_most_0.05": {n: bool(v["max_miscalibration"] <= 0.05) for n, v in tb_res.items()},
        "interval_score_below_old": {n: bool(v["interval_score"]["new"] < v["interval_score"]["old"])
                                     for n, v in tb_res.items()},
        "crps_below_old": {n: bool(v["crps"]["new"] < v["crps"]["old"]) for n, v in tb_res.items()},
        "13B_covered": ladder.get("13B-5T", {}).get("covered"),
    }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, allow_nan=False))


if __name__ == "__main__":
    main()
