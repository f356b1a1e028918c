"""``reality-check``: classify every task's scaling behaviour and write the report (the main job)."""

from __future__ import annotations

import argparse

from ._common import (
    HelpFormatter,
    add_run_options,
    add_selection_options,
    add_testbed_argument,
    run_analysis,
    series_label,
)

DESCRIPTION = """\
The reality check: does each task scale predictably? Classifies every task's score against a validation loss
(or a scale axis) into one of six behaviours, over all models and per corpus, with a confidence and the
evidence, and writes a report. Each verdict gives the probability of all six behaviours, and a caveat on
sampling noise, chance and significance; the share predictable counts verdicts of confidence >= 0.5.

  predictable    a visible rise the law (exponential in loss) follows closely on the plot scaled to the data
  inverse        a visible trend that gets worse as scale grows
  non-monotonic  a reversal the eye sees (inverted-U or U-shaped)
  noisy          a visible trend, but the law explains little of the visible variance: scatter large on the plot
  trendless      no visible trend (typically flat near chance)
  breakthrough   flat for the smaller models, a sharp jump, then flat again
  (insufficient-data where a series supports no verdict)

Writes OUTPUT/verdicts.csv (one row per task and scope, with the evidence), OUTPUT/report.html (self-contained:
one figure per task, the verdicts and why) and OUTPUT/figures/*.png.

examples:
  scalecheck reality-check                                # built-in Gadre et al. testbed, x = C4 loss
  scalecheck reality-check --by none --output out         # pooled over all models only
  scalecheck reality-check pythia.parquet --x params --by family
  scalecheck reality-check --tasks hellaswag arc_easy     # just these tasks
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reality-check", help="classify each task's scaling behaviour and write a report",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    add_selection_options(p, by_default="corpus",
                          by_help="also classify per value of this model column (corpus, family); 'none' to skip")
    add_run_options(p, output_default="scalecheck-report", level_help=None, not_here={
        "--level": "the verdicts' thresholds are fixed, simulation-calibrated constants (scalecheck.trends."
                   "THRESHOLDS); figures draw the law's 90% band"})
    p.set_defaults(func=run_reality_check)


def _badge(category: str) -> str:
    from ..report.figures import CATEGORY_COLOURS

    return f"[{CATEGORY_COLOURS.get(category, 'white')}]{category}[/]"


def render_summary(result, console) -> None:
    """The terminal summary: verdicts per task and scope, then counts and the share predictable."""
    from rich.markup import escape
    from rich.table import Table

    from ..trends import ALL, CATEGORIES

    t = Table(title=escape(f"reality check: {result.testbed_name or 'testbed'} vs {result.x}"), show_lines=False)
    t.add_column("task", no_wrap=True)
    for scope in result.scopes:
        t.add_column(scope, no_wrap=True)
    for task in result.tasks:
        cells = []
        for scope in result.scopes:
            v = result.verdict(task, scope)
            cells.append(f"{_badge(v.category)} {v.confidence:.2f}")
        t.add_row(series_label(task), *cells)
    console.print(t)
    counts = result.counts()
    c = Table(title="verdicts per scope")
    c.add_column("scope")
    for cat in CATEGORIES:
        c.add_column(cat, justify="right")
    c.add_column("share predictable (confidence >= 0.5)", justify="right")
    for scope in counts.index:
        share = result.share_predictable(scope)
        c.add_row(scope, *[str(int(counts.loc[scope, cat])) for cat in CATEGORIES],
                  "-" if share != share else f"{share:.0%}")
    console.print(c)
    console.print(f"[bold]share of predictable tasks, all models: {result.predictable_text(ALL)}[/bold]")


def run_reality_check(args: argparse.Namespace) -> int:
    from ..report.reality import write_report
    from ..trends import reality_check

    def compute(testbed, selection, progress):
        return reality_check(testbed, selection=selection, seed=args.seed, progress=progress("classifying"))

    def write(result, testbed, out_dir, progress):
        return write_report(result, testbed, out_dir, progress=progress("drawing"))

    return run_analysis(args, compute, write, render=render_summary, choose_setting=True)
