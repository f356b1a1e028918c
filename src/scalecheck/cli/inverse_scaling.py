"""``inverse-scaling``: the Inverse Scaling Prize's analysis of a testbed, with its report."""

from __future__ import annotations

import argparse
import dataclasses

from ._common import (
    ALPHA,
    HelpFormatter,
    add_run_options,
    add_selection_options,
    add_testbed_argument,
    run_analysis,
)

DEFAULT_TESTBED = "michaelov2023"
TESTBED_HELP = ("a testbed file written by `scalecheck import` (.parquet) or a long-format CSV, or the name of a "
                "built-in testbed (see `scalecheck sources`)")

DESCRIPTION = """\
The Inverse Scaling Prize's analysis (McKenzie et al. 2023), automated, over scale and over training
(Michaelov & Bergen 2023). For every task (and metric and shot setting):

  over scale     each family's final checkpoints against training FLOPs (--x params for parameters)
  over training  each size's checkpoints against tokens (where the testbed holds intermediate checkpoints)

each series gets the verdict of scalecheck's trends classifier, read in the Prize's terms:

  inverse      worse as scale grows          inverted-U   better, then worse
  U-shaped     worse, then better            standard     better as scale grows
  flat         no detectable trend           noisy        swings far beyond its noise, no trend

with its decline in points and standard errors (smallest to largest model; from the turn for an inverted-U, to
it for a U), a regression test
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
  scalecheck inverse-scaling --metric acc,mc1               # only these (default: every metric a task has)
  scalecheck inverse-scaling evaluated.parquet              # `scalecheck import evaluate out/ -o evaluated.parquet`
"""


def _set_help(parser: argparse.ArgumentParser, dest: str, text: str) -> None:
    """This command's own help for a shared option whose shared default does not hold here (one default, said once)."""
    action = next(a for a in parser._actions if a.dest == dest)
    action.help = text
    action.default = parser.get_default(dest)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inverse-scaling", help="the Inverse Scaling Prize's analysis, over scale and over training",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    _set_help(p, "testbed", TESTBED_HELP)
    add_selection_options(
        p, by_default="family",
        by_help="over scale, one series (one line) per value of this model column, the Prize's families; 'none' "
                "pools every model",
        metric_help="the metric(s) to analyse, comma-separated, e.g. acc,acc_norm (default: every metric the "
                    "testbed holds for the task, e.g. TruthfulQA's mc1 and mc2, accuracy and classification loss)")
    # This command's defaults: the Prize's axis, and every checkpoint (the analyses over training need them).
    p.set_defaults(testbed=DEFAULT_TESTBED, checkpoints="all")
    p.add_argument("--correction", default="fdr_bh", choices=("fdr_bh", "holm"),
                   help="multiple-testing adjustment over every test: Benjamini-Hochberg (false discovery rate) "
                        "or Holm (family-wise error rate)")
    p.add_argument("--alpha", type=ALPHA, default=0.05, help="the level of that adjustment")
    _set_help(p, "x", "the axis over scale: flops (the Prize's; params where the testbed has no FLOPs), params or "
                      "params_nonembed; over training the axis is tokens")
    _set_help(p, "shots", "only this shot count (default: every shot count the testbed holds, each analysed in turn)")
    _set_help(p, "variant", "only this prompt variant (default: every variant, each analysed in turn)")
    add_run_options(p, output_default="inverse-scaling-report", level_help=None,
                    not_here={"--level": "no intervals here: significance is an adjusted p-value at --alpha"})
    p.epilog = (p.epilog + "\n\n" if p.epilog else "") + (
        "Here --checkpoints defaults to all (final skips the analyses over training), --x to flops (params where the "
        "testbed has no FLOPs), and --metric/--shots/--variant to every one the testbed holds, each analysed in turn.")
    p.set_defaults(func=run_inverse_scaling)


def render_summary(result, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..report.inverse_scaling import DECLINE_HEADER, TERM_COLOURS

    ov = result.overview()
    several = ov["family"].nunique() > 1
    t = Table(title=f"inverse scaling: {result.testbed_name or 'testbed'} (over scale vs {result.x})")
    for col in ("task", *(("family",) if several else ()), "over scale", "decline", "over training", "grid model"):
        t.add_column(col, no_wrap=col not in ("over training", "task"))
    labels = {u: result.label(u) for u in result.units}
    for r, unit in zip(ov.itertuples(), _units_of(ov), strict=True):
        term = str(r.over_scale)
        colour = TERM_COLOURS.get(term.rstrip("*"), "white")
        if r.decline != r.decline or term.startswith("insufficient"):
            dec = "-"
        else:  # points for a share of examples, metric units otherwise (a loss)
            size = f"{r.decline_points:+.1f} pts" if r.decline_points == r.decline_points else f"{r.decline:+.3g}"
            dec = f"{size} ({r.decline_se:.1f} se), {r.decline_from}"
        if r.turn_x == r.turn_x:
            term += f" (turn at {r.turn_x:.2g})"
        # Labels are text, not markup: "[loss]" would otherwise vanish as a style tag.
        t.add_row(escape(labels[unit]), *((escape(str(r.family)),) if several else ()), f"[{colour}]{term}[/]", dec,
                  str(r.over_training), str(r.grid))
    console.print(t)
    console.print(f"* = a trend significant after adjusting for every test ({result.correction}, {result.alpha}); "
                  f"{DECLINE_HEADER}")


def _units_of(ov) -> list[tuple]:
    """Each overview row's unit key (task, metric, shots, variant), with the frame's missing shots as None."""
    return [(r.task, r.metric, None if r.shots != r.shots or r.shots is None else int(r.shots), r.variant)
            for r in ov.itertuples()]


def run_inverse_scaling(args: argparse.Namespace) -> int:
    from ..inverse_scaling import inverse_scaling
    from ..report.inverse_scaling import write_report

    def compute(testbed, selection, progress):
        # --metric takes several, comma-separated: the selection's metrics (each checked against the testbed).
        if selection.metric is not None:
            metrics = tuple(m.strip() for m in selection.metric.split(",") if m.strip())
            selection = dataclasses.replace(selection, metric=None, metrics=metrics or None)
        return inverse_scaling(testbed, selection, correction=args.correction, alpha=args.alpha, seed=args.seed,
                               progress=progress("classifying"))

    def write(result, testbed, out_dir, progress):
        return write_report(result, out_dir, progress=progress("drawing"))

    return run_analysis(args, compute, write, render=render_summary)
