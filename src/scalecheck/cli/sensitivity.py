"""``sensitivity``: rerun the verdicts while changing one thing at a time, and report what changed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from ..report.sensitivity import write_sensitivity_report
from ..sensitivity import FACTORS, sensitivity
from ._common import HelpFormatter, add_testbed_argument, open_testbed

DESCRIPTION = """\
Does the verdict survive a benign change? Recomputes every task's verdict and trend sign while changing one
thing at a time against a baseline (x = the default validation loss, all models pooled, each task's default
metric and setting):

  x        the validation set whose loss is the x axis (every loss in the testbed)
  corpus   each pretraining corpus (or --by column value) alone instead of pooled
  setting  every other metric / shots / variant a task was scored with

and, for every pair of corpora, compares their fitted laws at a matched loss on each validation set: a rank
reversal is a pair whose order depends on where loss is measured.

Writes OUTPUT/sensitivity_verdicts.csv, sensitivity_corpus_ranks.csv, sensitivity_reversals.csv,
sensitivity_summary.csv and sensitivity.html (one table and one figure per finding).

examples:
  scalecheck sensitivity                                  # built-in testbed: 8 losses, 3 corpora
  scalecheck sensitivity --factors x --tasks hellaswag    # only the validation set, one task
  scalecheck sensitivity pythia.parquet --by family -o out
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sensitivity", help="count verdict flips under benign changes of setting",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    p.add_argument("--x", default=None, metavar="X", help="baseline validation loss (default: c4_val, else the first)")
    p.add_argument("--xs", nargs="+", default=None, metavar="X", help="validation losses to try (default: all)")
    p.add_argument("--by", default="corpus", metavar="COLUMN", help="model column whose values are the corpora")
    p.add_argument("--factors", nargs="+", default=list(FACTORS), choices=FACTORS, help="what to vary")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    p.add_argument("--level", type=float, default=0.9, help="confidence level for deciding corpus orders")
    p.add_argument("--output", "-o", default="scalecheck-sensitivity", metavar="DIR", help="folder for the results")
    p.set_defaults(func=run_sensitivity)


def run_sensitivity(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    t0 = time.perf_counter()
    testbed = open_testbed(args.testbed)
    sens = sensitivity(testbed, x=args.x, xs=args.xs, by=args.by, tasks=args.tasks, factors=args.factors,
                       level=args.level, progress=err.is_terminal)
    files = write_sensitivity_report(sens, Path(args.output), subtitle=f"{testbed.name or 'testbed'}: "
                                     f"{len(testbed.models)} models, {len(testbed.tasks)} tasks")
    console = Console() if Console().is_terminal else Console(width=160)
    for line in sens.headline():
        console.print(line)
    err.print(f"wrote {', '.join(str(f) for f in files.values())} ({time.perf_counter() - t0:.1f} s)")
    return 0
