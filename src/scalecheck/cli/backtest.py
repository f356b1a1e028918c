"""``backtest``: fit laws on the smaller models, predict the larger ones, and report errors and coverage."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..backtest import SCHEMES, backtest
from ..laws import FORMS
from ..report.backtest import write_backtest_report
from ._common import HelpFormatter, add_testbed_argument, open_testbed

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
    p.add_argument("--x", default=None, metavar="X",
                   help="x of the law: a validation loss or params/tokens/flops (default: c4_val, else the "
                        "testbed's first loss)")
    p.add_argument("--by", default="none", metavar="COLUMN",
                   help="backtest separately per value of this model column (corpus, family); 'none' pools")
    p.add_argument("--form", nargs="+", default=["exponential"], choices=sorted(FORMS), metavar="FORM",
                   help=f"law forms to backtest ({', '.join(sorted(FORMS))})")
    p.add_argument("--scheme", default="expanding", choices=SCHEMES, help="which models are predicted")
    p.add_argument("--holdout", default=None, metavar="LADDER",
                   help="ladder file (YAML) declaring the hold-out models, instead of the testbed's column")
    p.add_argument("--level", type=float, default=0.9, help="coverage of the prediction intervals")
    p.add_argument("--n-boot", type=int, default=0,
                   help="bootstrap replicates per fit (0: delta-method intervals, calibrated on simulations)")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    p.add_argument("--metric", default=None, help="score metric (default: each task's own)")
    p.add_argument("--checkpoints", default="final", choices=("final", "all"),
                   help="of a run's intermediate checkpoints, keep the last (a model) or all")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (results are deterministic)")
    p.add_argument("--output", "-o", default="scalecheck-backtest", metavar="DIR", help="folder for the results")
    p.set_defaults(func=run_backtest)


def run_backtest(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    t0 = time.perf_counter()
    testbed = open_testbed(args.testbed)
    by = None if str(args.by).lower() in ("none", "") else args.by
    bt = backtest(testbed, forms=args.form, x=args.x, by=by, scheme=args.scheme, level=args.level, tasks=args.tasks,
                  metric=args.metric, holdout=args.holdout, n_boot=args.n_boot, seed=args.seed,
                  checkpoints=args.checkpoints, progress=err.is_terminal)
    files = write_backtest_report(bt, Path(args.output), subtitle=f"{testbed.name or 'testbed'}: {len(testbed.models)} "
                                  f"models, {len(testbed.tasks)} tasks")
    console = Console() if Console().is_terminal else Console(width=160)
    t = Table(title=f"backtest ({bt.scheme}, x = {bt.x}, {bt.level:.0%} intervals)")
    for c in ("form", "predictions", "MAE", "median AE", "bias", "coverage"):
        t.add_column(c, justify="right" if c != "form" else "left")
    for r in bt.by_form().itertuples():
        t.add_row(r.form, str(r.n_predictions), f"{r.mae:.2f}", f"{r.median_ae:.2f}", f"{r.bias:+.2f}",
                  f"{r.coverage:.0%}" if r.coverage == r.coverage else "-")
    console.print(t)
    err.print(f"wrote {', '.join(str(f) for f in files.values())} ({time.perf_counter() - t0:.1f} s)")
    return 0
