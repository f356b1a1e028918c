"""``inverse-scaling``: the Inverse Scaling Prize's analysis of a testbed, with its report."""

from __future__ import annotations

import argparse

from ._common import (
    ALPHA,
    HelpFormatter,
    add_run_options,
    add_selection_options,
    add_testbed_argument,
    run_analysis,
    series_label,
)

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
  scalecheck inverse-scaling --checkpoints final --correction holm   # over scale only, family-wise control
  scalecheck inverse-scaling --metric acc,acc_norm          # both of the harness's accuracies
  scalecheck inverse-scaling evaluated.parquet              # `scalecheck import evaluate out/ -o evaluated.parquet`
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inverse-scaling", help="the Inverse Scaling Prize's analysis, over scale and over training",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    add_selection_options(
        p, by_default="family",
        by_help="over scale, one series (one line) per value of this model column, the Prize's families; 'none' "
                "pools every model",
        metric_help="the metric(s) to analyse, comma-separated, e.g. acc,acc_norm (default: each task's own, "
                    "plus the classification loss where the testbed holds it)")
    # This command's defaults: the Prize's axis, and every checkpoint (the analyses over training need them).
    p.set_defaults(testbed=DEFAULT_TESTBED, checkpoints="all")
    p.add_argument("--correction", default="fdr_bh", choices=("fdr_bh", "holm"),
                   help="multiple-testing adjustment over every test: Benjamini-Hochberg (false discovery rate) "
                        "or Holm (family-wise error rate)")
    p.add_argument("--alpha", type=ALPHA, default=0.05, help="the level of that adjustment")
    add_run_options(p, output_default="inverse-scaling-report", level_help=None,
                    not_here={"--level": "no intervals here: significance is an adjusted p-value at --alpha"})
    p.epilog = (p.epilog + "\n\n" if p.epilog else "") + (
        "Here TESTBED defaults to michaelov2023, --x to flops (the Prize's axis; params or params_nonembed on request; "
        "over training the axis is tokens), --checkpoints to all (final skips the analyses over training), and "
        "--shots/--variant to every setting, each analysed in turn.")
    p.set_defaults(func=run_inverse_scaling)


def render_summary(result, console) -> None:
    from rich.table import Table

    from ..report.inverse_scaling import TERM_COLOURS

    t = Table(title=f"inverse scaling: {result.testbed_name or 'testbed'} (over scale vs {result.x})")
    for col in ("task", "over scale", "decline", "over training", "grid model"):
        t.add_column(col, no_wrap=col != "over training")
    for r in result.overview().itertuples():
        label = series_label(r.task, None if r.metric in ("acc", "accuracy") else r.metric,
                             r.shots if result.overview()["shots"].nunique() > 1 else None)
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
    from ..inverse_scaling import inverse_scaling
    from ..report.inverse_scaling import write_report

    def compute(testbed, selection, progress):
        metrics = [m.strip() for m in selection.metric.split(",") if m.strip()] if selection.metric else None
        return inverse_scaling(testbed, x=selection.x or "flops", by=selection.by,
                               tasks=list(selection.tasks) if selection.tasks else None, metrics=metrics,
                               shots=selection.shots, variant=selection.variant,
                               checkpoints=selection.checkpoints == "all", correction=args.correction,
                               alpha=args.alpha, seed=args.seed, progress=progress("classifying"))

    def write(result, testbed, out_dir, progress):
        return write_report(result, out_dir, progress=progress("drawing"))

    return run_analysis(args, compute, write, render=render_summary)
