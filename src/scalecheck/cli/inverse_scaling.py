"""``inverse-scaling``: the Inverse Scaling Prize's analysis of a testbed, with its report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ._common import HelpFormatter, open_testbed

DEFAULT_TESTBED = "michaelov2023"

DESCRIPTION = """\
The Inverse Scaling Prize's analysis (McKenzie et al. 2023), automated, over scale and over training
(Michaelov & Bergen 2023). For every task (and metric and shot setting):

  over scale     each family's final checkpoints against training FLOPs (--x params for parameters)
  over training  each size's checkpoints against tokens (where the testbed holds intermediate checkpoints)

each series gets the verdict of scalecheck's trends classifier, read in the Prize's terms:

  inverse      worse as scale grows          inverted-U   better, then worse
  U-shaped     worse, then better            standard     better as scale grows
  flat         no detectable trend

with its decline in points and standard errors (first to last, or to and from the turn), a regression test
per series adjusted for multiple testing over every test (Benjamini-Hochberg, or --correction holm), the Prize's judging criteria (strength: monotone? how large
a decline? generality: in how many families, checkpoints and sizes), and a model of the whole size x
checkpoint grid (metric ~ log params * log tokens, errors clustered by run): worse with size, training, both?
Where the testbed holds the classification loss too (`scalecheck evaluate` output), loss and accuracy are
analysed side by side; where it holds several shot counts, each is analysed and compared with the fewest.

Writes OUTPUT/inverse_scaling.csv (one row per test), inverse_scaling_{overview,criteria,grid,demonstrations}.csv,
OUTPUT/inverse_scaling.html (self-contained) and OUTPUT/figures/*.png (the metric against FLOPs, one line per
family and per size, chance dashed; a size x checkpoint heatmap per task).

examples:
  scalecheck inverse-scaling                                # built-in Michaelov & Bergen 2023 Pythia results
  scalecheck inverse-scaling --x params --tasks memo_trap redefine
  scalecheck inverse-scaling --metrics acc acc_norm         # both of the harness's accuracies
  scalecheck inverse-scaling evaluated.parquet              # `scalecheck import evaluate out/ -o evaluated.parquet`
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inverse-scaling", help="the Inverse Scaling Prize's analysis, over scale and over training",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    p.add_argument("testbed", nargs="?", default=DEFAULT_TESTBED, metavar="TESTBED",
                   help="a built-in testbed's name, a testbed file (.parquet) or a long-format CSV")
    p.add_argument("--x", default="flops", choices=("flops", "params", "params_nonembed"),
                   help="the axis over scale (over training it is always tokens)")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                   help="metrics to analyse (default: each task's own, plus the classification loss where present)")
    p.add_argument("--shots", type=int, default=None, help="only this shot count (default: every setting)")
    p.add_argument("--no-checkpoints", dest="checkpoints", action="store_false",
                   help="skip the analyses over training and per checkpoint")
    p.add_argument("--correction", default="fdr_bh", choices=("fdr_bh", "holm"),
                   help="multiple-testing adjustment over every test: Benjamini-Hochberg (false discovery rate) "
                        "or Holm (family-wise error rate)")
    p.add_argument("--alpha", type=float, default=0.05, help="the level of that adjustment")
    p.add_argument("--output", "-o", default="inverse-scaling-report", metavar="DIR", help="folder for the report")
    p.add_argument("--seed", type=int, default=0, help="seed for anything random (results are deterministic)")
    p.set_defaults(func=run_inverse_scaling)


def render_summary(result, console) -> None:
    from rich.table import Table

    from ..report.inverse_scaling import TERM_COLOURS

    t = Table(title=f"inverse scaling: {result.testbed_name or 'testbed'} (over scale vs {result.x})")
    for col in ("task", "over scale", "decline", "over training", "grid model"):
        t.add_column(col, no_wrap=col != "over training")
    for r in result.overview().itertuples():
        label = r.task + ("" if r.metric in ("acc", "accuracy") else f" [{r.metric}]")
        if result.overview()["shots"].nunique() > 1:
            label += f" ({r.shots}-shot)"
        term = str(r.over_scale)
        colour = TERM_COLOURS.get(term.rstrip("*").split(" ")[0].rstrip(","), "white")
        dec = "-" if r.decline_points != r.decline_points else f"{r.decline_points:+.1f} pts ({r.decline_se:.1f} se)"
        if r.turn_x == r.turn_x:
            term += f" (turn at {r.turn_x:.2g})"
        t.add_row(label, f"[{colour}]{term}[/]", dec, str(r.over_training), str(r.grid))
    console.print(t)
    console.print(f"* = significant after adjusting for every test ({result.correction}, {result.alpha}); "
                  "decline: positive = worse")


def run_inverse_scaling(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..inverse_scaling import inverse_scaling
    from ..report.inverse_scaling import write_report

    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    err = Console(stderr=True)
    t0 = time.perf_counter()
    testbed = open_testbed(args.testbed)
    out = Path(args.output)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        job = bar.add_task("analysing", total=None)

        def analyse(done: int, total: int, what: str) -> None:
            bar.update(job, completed=done, total=total, description=f"classifying {what}")

        result = inverse_scaling(testbed, x=args.x, tasks=args.tasks, metrics=args.metrics, shots=args.shots,
                                 checkpoints=args.checkpoints, correction=args.correction, alpha=args.alpha, seed=args.seed, progress=analyse)
        draw = bar.add_task("drawing", total=len(result.units))

        def drawing(done: int, total: int, what: str) -> None:
            bar.update(draw, completed=done, total=total, description=f"drawing {what}")

        files = write_report(result, out, progress=drawing)
    render_summary(result, console)
    err.print(f"wrote {files.csv}, {files.html} and {len(files.figures)} figures in {files.out_dir}/ "
              f"({time.perf_counter() - t0:.1f} s)")
    return 0
