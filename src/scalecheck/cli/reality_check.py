"""``reality-check``: classify every task's scaling behaviour and write the report (the main job)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..report.figures import CATEGORY_COLOURS
from ..report.reality import write_report
from ..trends import ALL, CATEGORIES, RealityCheck, reality_check
from ._common import HelpFormatter, add_testbed_argument, open_testbed

DESCRIPTION = """\
The reality check: does each task scale predictably? Classifies every task's score against a validation loss
(or a scale axis) into one of six behaviours, over all models and per corpus, with a confidence and the
evidence, and writes a report.

  predictable    improves steadily; a monotone law (exponential in loss) fits within sampling noise
  inverse        gets reliably worse as scale grows
  non-monotonic  a reliable reversal inside the range (inverted-U or U-shaped)
  noisy          a trend, but scatter far beyond sampling noise: a fitted law would not extrapolate
  trendless      no detectable trend (typically flat near chance)
  breakthrough   flat at the floor for the smaller models, then a sharp rise
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
    p.add_argument("--x", default="c4_val", metavar="X",
                   help="what to plot scores against: a validation loss (c4_val, ...) or params/tokens/flops")
    p.add_argument("--by", default="corpus", metavar="COLUMN",
                   help="also classify per value of this model column (corpus, family); 'none' to skip")
    p.add_argument("--output", "-o", default="scalecheck-report", metavar="DIR", help="folder for the report")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed for anything random (results are deterministic)")
    p.add_argument("--shots", type=int, default=None,
                   help="the setting to use where tasks were scored at several shot counts (e.g. Pythia: 0 or 5)")
    p.add_argument("--variant", default=None, help="the prompt variant to use where tasks have several")
    p.add_argument("--checkpoints", default="final", choices=("final", "all"),
                   help="of a run's intermediate checkpoints, keep the last (a model at scale) or all")
    p.set_defaults(func=run_reality_check)


def _badge(category: str) -> str:
    return f"[{CATEGORY_COLOURS.get(category, 'white')}]{category}[/]"


def render_summary(result: RealityCheck, console: Console) -> None:
    """The terminal summary: verdicts per task and scope, then counts and the share predictable."""
    t = Table(title=f"reality check: {result.testbed_name or 'testbed'} vs {result.x}", show_lines=False)
    t.add_column("task", no_wrap=True)
    for scope in result.scopes:
        t.add_column(scope, no_wrap=True)
    for task in result.tasks:
        cells = []
        for scope in result.scopes:
            v = result.verdict(task, scope)
            cells.append(f"{_badge(v.category)} {v.confidence:.2f}")
        t.add_row(task, *cells)
    console.print(t)
    counts = result.counts()
    c = Table(title="verdicts per scope")
    c.add_column("scope")
    for cat in CATEGORIES:
        c.add_column(cat, justify="right")
    c.add_column("share predictable", justify="right")
    for scope in counts.index:
        share = result.share_predictable(scope)
        c.add_row(scope, *[str(int(counts.loc[scope, cat])) for cat in CATEGORIES],
                  "-" if share != share else f"{share:.0%}")
    console.print(c)
    share = result.share_predictable(ALL)
    n = int(counts.loc[ALL, "predictable"]) if ALL in counts.index else 0
    total = int(counts.loc[ALL].drop("insufficient-data").sum()) if ALL in counts.index else 0
    console.print(f"[bold]share of predictable tasks (all models): {n}/{total} = "
                  f"{'-' if share != share else f'{share:.0%}'}[/bold]")


def run_reality_check(args: argparse.Namespace) -> int:
    console = Console()
    if not console.is_terminal:  # a log or a pipe: wide enough for a row per task on one line
        console = Console(width=160)
    err = Console(stderr=True)
    t0 = time.perf_counter()
    testbed = open_testbed(args.testbed)
    by = None if str(args.by).lower() in ("none", "") else args.by
    out = Path(args.output)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        job = bar.add_task("classifying", total=None)

        def classify_progress(done: int, total: int, what: str) -> None:
            bar.update(job, completed=done, total=total, description=f"classifying {what}")

        result = reality_check(testbed, x=args.x, by=by, tasks=args.tasks, progress=classify_progress,
                               shots=args.shots, variant=args.variant, checkpoints=args.checkpoints,
                               seed=args.seed)
        draw = bar.add_task("drawing", total=len(result.tasks))

        def draw_progress(done: int, total: int, what: str) -> None:
            bar.update(draw, completed=done, total=total, description=f"drawing {what}")

        files = write_report(result, testbed, out, progress=draw_progress)
    render_summary(result, console)
    err.print(f"wrote {files.verdicts_csv}, {files.html} and {len(files.figures)} figures in {files.out_dir}/ "
              f"({time.perf_counter() - t0:.1f} s)")
    return 0
