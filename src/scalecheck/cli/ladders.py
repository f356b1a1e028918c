"""``ladders``: the built-in ladders of public model families, and what is known of each model."""

from __future__ import annotations

import argparse

from ._common import HelpFormatter

DESCRIPTION = """\
List the built-in ladders: public model families with, per model, the hub id, parameters (total and
non-embedding), training tokens, training FLOPs, context length and licence. Any of them can be scored by name,
and a ladder file can extend one (`extends: pythia`, then the models to add or to change).

examples:
  scalecheck ladders                          # every ladder, one line per model
  scalecheck ladders pythia                   # one ladder
  scalecheck ladders --csv > ladders.csv      # the same table for pandas
  scalecheck evaluate --ladder pythia --task memo-trap_classification.jsonl --output out/memo-trap
  scalecheck evaluate --ladder pythia-deduped@step71000 --task neqa_classification.jsonl --output out/neqa

Pythia (standard and deduped) publishes checkpoints as hub revisions step0, step1, step2, step4, ..., step512,
step1000, ..., step143000: NAME@stepN scores that checkpoint of every model. FLOPs are 6 x params x tokens
(column flops_source); where each figure comes from: scalecheck/sources/builtin/NOTICE.md.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ladders", help="list the built-in ladders of public model families",
                       description=DESCRIPTION, formatter_class=HelpFormatter)
    p.add_argument("name", nargs="?", default=None, metavar="LADDER", help="show only this ladder")
    p.add_argument("--csv", action="store_true", help="write the table as CSV to standard output")
    p.set_defaults(func=run_ladders)


def _si(x, unit: str = "") -> str:
    if x is None or x != x:  # None or NaN
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}{unit}"
    return f"{x:.3g}{unit}"


def run_ladders(args: argparse.Namespace) -> int:
    from ..sources.public_ladders import public_ladders_frame

    frame = public_ladders_frame(args.name)
    if args.csv:
        print(frame.to_csv(index=False), end="")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped or captured: the full width of the table, not an 80-column guess
        console = Console(width=140)
    table = Table(title="built-in ladders (scalecheck evaluate --ladder NAME)")
    for col, just in (("ladder", "left"), ("hub id", "left"), ("params", "right"), ("non-embed", "right"),
                      ("tokens", "right"), ("FLOPs", "right"), ("context", "right"), ("licence", "left")):
        table.add_column(col, justify=just, no_wrap=True)
    last = None
    for r in frame.itertuples(index=False):
        flops = "-" if r.flops != r.flops else f"{r.flops:.2e}" + ("" if r.flops_source == "6ND" else "*")
        table.add_row(r.ladder if r.ladder != last else "", r.id, _si(r.params), _si(r.params_nonembed),
                      _si(r.tokens), flops, f"{r.context:,}", r.licence, end_section=False)
        last = r.ladder
    console.print(table)
    print("FLOPs = 6 x params x tokens; pythia and pythia-deduped take a checkpoint: NAME@stepN")
    return 0
