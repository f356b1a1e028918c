"""``sensitivity``: rerun the verdicts while changing one thing at a time, and report what changed."""

from __future__ import annotations

import argparse

from ._common import HelpFormatter, add_run_options, add_selection_options, add_testbed_argument, run_analysis

FACTORS = ("x", "corpus", "setting")  # scalecheck.sensitivity.FACTORS, named here to keep `--help` fast

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
  scalecheck sensitivity --by none                        # pooled only: no corpus factor, no rank reversals
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sensitivity", help="count verdict flips under benign changes of setting",
                       formatter_class=HelpFormatter, description=DESCRIPTION)
    add_testbed_argument(p)
    add_selection_options(p, by_default="corpus",
                          by_help="model column whose values are the corpora; 'none' pools (no corpus factor and "
                                  "no rank reversals)",
                          metric_help="the baseline's metric (default: each task's own); --shots and --variant fix "
                                      "the baseline setting the same way")
    p.add_argument("--xs", nargs="+", default=None, metavar="X", help="validation losses to try (default: all)")
    p.add_argument("--factors", nargs="+", default=list(FACTORS), choices=FACTORS, help="what to vary")
    add_run_options(p, output_default="scalecheck-sensitivity", seed_help="seed of the classifier's "
                    "resampling (results are deterministic)", level_help="confidence level for deciding corpus orders")
    p.set_defaults(func=run_sensitivity)


def render_summary(sens, console) -> None:
    for line in sens.headline():
        console.print(line)


def run_sensitivity(args: argparse.Namespace) -> int:
    from ..report.sensitivity import write_sensitivity_report
    from ..sensitivity import Sensitivity, SensitivityOptions
    from ._common import normalise_by

    if "corpus" in args.factors and normalise_by(args.by) is None and args.factors != list(FACTORS):
        why = "--factors corpus varies the --by column's values, and --by none pools them"
        if set(args.factors) == {"corpus"}:  # nothing else to do: an empty result would look like "no flips"
            from ..errors import SelectionError

            raise SelectionError(f"{why}: pass --by corpus (or family), or choose other --factors")
        from ._common import stderr_console

        stderr_console().print(f"note: {why}; the corpus factor is skipped", highlight=False, markup=False)

    def compute(testbed, selection, progress):
        options = SensitivityOptions(xs=args.xs, factors=args.factors, level=args.level, seed=args.seed)
        return Sensitivity.fit(testbed, selection, options, progress=progress("sensitivity"))

    def write(sens, testbed, out_dir, progress):
        return write_sensitivity_report(sens, out_dir, subtitle=f"{testbed.name or 'testbed'}: "
                                        f"{len(testbed.models)} models, {len(testbed.tasks)} tasks")

    return run_analysis(args, compute, write, render=render_summary)
