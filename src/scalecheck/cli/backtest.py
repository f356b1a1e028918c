"""``backtest``: fit laws on the smaller models, predict the larger ones, and report errors and coverage."""

from __future__ import annotations

import argparse

from ._common import (
    N_BOOT,
    N_BOOT_MAX,
    HelpFormatter,
    add_run_options,
    add_selection_options,
    add_testbed_argument,
    run_analysis,
)

# The schemes and forms, named here rather than imported so that `--help` does not load the analysis (fast
# start-up); tests/cli check them against scalecheck.backtest.SCHEMES and scalecheck.laws.FORMS.
SCHEMES = ("expanding", "leave_largest_out", "holdout")
AUTO_CANDIDATES = ("exponential", "direct_compute", "loglog", "broken_power", "linear")  # laws.select
GROUPINGS = ("auto", "pooled", "offsets", "separate")  # scalecheck.laws.groups.GROUPINGS
FORMS = ("broken_power", "chinchilla", "direct_compute", "exponential", "linear", "logit_linear", "loglog", "loss_to_loss",
         "power_floor", "sigmoid", "sigmoid_logcompute")

DESCRIPTION = """\
Will this law extrapolate? For every task (and scope), fit a law on the smaller models and predict the larger
ones it never saw; report the absolute error (points for accuracies), relative error, signed bias, and whether
the prediction interval covered the truth, per prediction and summarised per task and form.

schemes:
  expanding          fit on the k smallest model sizes, predict every larger one, for every k
                     (several token budgets at one parameter count are one size step)
  leave_largest_out  fit on all sizes but the largest, predict the largest
  holdout            fit on the models not declared hold-out, predict those: the testbed's `holdout` column,
                     or a ladder file's `holdout: true` models (--holdout FILE)

Writes OUTPUT/backtest.csv (one row per prediction), OUTPUT/backtest_summary.csv (per task, scope and form)
and OUTPUT/backtest.html (self-contained report section with figures).

examples:
  scalecheck backtest                                     # built-in testbed, expanding window, x = C4 loss
  scalecheck backtest --scheme holdout --by corpus -o out # predict the 1.4B and 6.9B runs per corpus
  scalecheck backtest --form exponential sigmoid --tasks hellaswag arc_easy
  scalecheck backtest mine.parquet --scheme holdout --holdout ladder.yaml
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="predict larger models from smaller ones and score the predictions",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    add_selection_options(p, by_default="none",
                          by_help="backtest separately per value of this model column (corpus, family); 'none' pools "
                                  "(the default here: a corpus alone rarely has enough model sizes to fit and predict)")
    p.add_argument("--form", nargs="+", default=["auto"], metavar="FORM",
                   help=f"law forms to backtest: 'auto' (the default) runs an inner backtest on each task's fit set "
                        f"and combines the forms that pass it ({', '.join(AUTO_CANDIDATES)}) with no change, weighted "
                        f"by their inner errors; or name forms (built in: "
                        f"{', '.join(FORMS)}; or any registered with scalecheck.laws.register_form)")
    p.add_argument("--scheme", default="expanding", choices=SCHEMES, help="which models are predicted")
    p.add_argument("--holdout", default=None, metavar="LADDER",
                   help="ladder file (YAML) declaring the hold-out models, instead of the testbed's column")
    p.add_argument("--groups", default="auto", choices=GROUPINGS,
                   help="a pooled series whose models come from several corpora (or families): 'auto' chooses "
                        "between one law for all ('pooled'), one shape with per-group offsets ('offsets') and one "
                        "law per group ('separate'): with --form auto for each form by its inner backtest, else by "
                        "BIC on the fit set")
    p.add_argument("--no-adapt", dest="adapt", action="store_false",
                   help="keep the calibrated intervals as they are (by default each split's are widened where the fit "
                        "sets' own inner backtests miss more than they allow: scalecheck.laws.prediction.adapt; rows "
                        "say so in spread_multiplier, n_inner_rows)")
    p.add_argument("--n-boot", type=N_BOOT, default=0,
                   help=f"bootstrap replicates per fit, 0 to {N_BOOT_MAX:,} (0: delta-method intervals, calibrated "
                        "on simulations)")
    add_run_options(p, output_default="scalecheck-backtest", seed_help="seed of the bootstrap (results are "
                    "deterministic)", level_help="coverage of the prediction intervals")
    p.set_defaults(func=run_backtest)


def render_summary(bt, console) -> None:
    """Error, bias and coverage per form over every task."""
    from rich.table import Table

    t = Table(title=f"backtest ({bt.scheme}, x = {bt.x}, {bt.level:.0%} intervals)")
    for c in ("form", "predictions", "MAE", "median AE", "bias", "coverage"):
        t.add_column(c, justify="right" if c != "form" else "left")
    def num(v, spec):
        return format(v, spec) if v == v else "-"

    for r in bt.by_form().itertuples():
        # Unusable predictions (a form that cannot fit, an ill-posed extrapolation) are counted, never averaged.
        n = str(r.n_predictions) + (f" ({r.n_unusable} unusable)" if r.n_unusable else "")
        t.add_row(r.form, n, num(r.mae, ".2f"), num(r.median_ae, ".2f"), num(r.bias, "+.2f"), num(r.coverage, ".0%"))
    console.print(t)
    f = bt.predictions
    if "fitted_form" in f.columns and (f["form"] == "auto").any():
        # Which form each task's inner backtest chose (one count per series and split).
        a = f[f["form"] == "auto"].drop_duplicates(["task", "scope", "k_sizes_fit"])
        counts = a["fitted_form"].value_counts()
        console.print("auto combined (what passed the inner backtest on each fit set): "
                      + ", ".join(f"{k} {v}" for k, v in counts.items()))


def check_flags(args: argparse.Namespace) -> None:
    """Flag combinations that would be ignored or give an empty result: refused before anything is read."""
    from ..errors import SelectionError

    if args.holdout is not None and args.scheme != "holdout":
        raise SelectionError(f"--holdout declares the targets of --scheme holdout; with --scheme {args.scheme} it "
                             "would be ignored (add --scheme holdout, or drop --holdout)")


def check_holdouts(testbed, selection, holdout) -> None:
    """--scheme holdout needs declared targets among the models analysed: say so instead of an empty table."""
    from ..errors import SelectionError

    if holdout is not None:
        return  # a ladder file: the engine names the declared models that are missing
    models = selection.apply(testbed).models
    if not models["holdout"].fillna(False).any():
        raise SelectionError(f"--scheme holdout: {testbed.name or 'the testbed'} declares no hold-out models (its "
                             "'holdout' column is false everywhere); declare them in a ladder file (--holdout "
                             "LADDER) or use --scheme expanding")


def run_backtest(args: argparse.Namespace) -> int:
    from ..backtest import Backtest, BacktestOptions
    from ..errors import SelectionError
    from ..report.backtest import write_backtest_report

    check_flags(args)

    def compute(testbed, selection, progress):
        if args.scheme == "holdout":
            check_holdouts(testbed, selection, args.holdout)
        options = BacktestOptions(forms=args.form, scheme=args.scheme, level=args.level, holdout=args.holdout,
                                  n_boot=args.n_boot, seed=args.seed, groups=args.groups,
                                  adapt=args.adapt)
        bt = Backtest.fit(testbed, selection, options, progress=progress("backtest"))
        if bt.predictions.empty:
            raise SelectionError(f"no predictions: no series has enough model sizes to fit and predict with "
                                 f"--scheme {args.scheme} (try fewer --by groups, or another scheme)")
        return bt

    def write(bt, testbed, out_dir, progress):
        return write_backtest_report(bt, out_dir, subtitle=f"{testbed.name or 'testbed'}: {len(testbed.models)} "
                                     f"models, {len(testbed.tasks)} tasks")

    return run_analysis(args, compute, write, render=render_summary, choose_setting=True)
