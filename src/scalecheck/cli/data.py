"""``sources``, ``import`` and ``show``: getting data into a testbed and looking at it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import HelpFormatter, add_testbed_argument, check_output_file, open_testbed


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sources", help="list what can be imported", formatter_class=HelpFormatter,
                       description="List the importers: their names, what they read, and whether a copy is built in.")
    p.set_defaults(func=run_sources)

    p = sub.add_parser("import", help="import published results into a testbed file", formatter_class=HelpFormatter,
                       description="Read a published multi-scale result with one of the importers and write a testbed.\n\n"
                                   "examples:\n"
                                   "  scalecheck import gadre2024 ../shared/data/gadre2024 -o gadre.parquet\n"
                                   "  scalecheck import csv my_scores.csv -o mine.parquet\n"
                                   "  scalecheck import lm-eval runs/ --ladder ladder.yaml -o mine.parquet\n\n"
                                   "The output is Parquet: `pandas.read_parquet(FILE)` gives one row per score with its\n"
                                   "model's columns joined on; `scalecheck.load('testbed', FILE)` gives the testbed.")
    p.add_argument("source", metavar="SOURCE", help="importer name (see `scalecheck sources`)")
    p.add_argument("path", metavar="PATH", nargs="?", default=None,
                   help="folder or file to read; omit for the built-in copy (gadre2024)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="testbed file to write (.parquet or .csv)")
    p.add_argument("--ladder", metavar="YAML", default=None,
                   help="ladder file with the models' metadata (lm-eval; default: ladder.yaml in PATH if present)")
    p.set_defaults(func=run_import)

    p = sub.add_parser("show", help="summarise a testbed", formatter_class=HelpFormatter,
                       description="Summarise a testbed: models per family and corpus, scale ranges, tasks, losses.\n\n"
                                   "examples:\n  scalecheck show                 # the built-in testbed\n"
                                   "  scalecheck show pythia.parquet")
    add_testbed_argument(p)
    p.set_defaults(func=run_show)


def run_sources(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .. import sources

    table = Table(title="scalecheck sources", show_lines=False)
    for col in ("name", "reads", "built in", "description"):
        table.add_column(col)
    for s in sources.available():
        table.add_row(s.name, s.expects, "yes" if s.builtin else "", s.description)
    Console().print(table)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..observations import load

    options = {"ladder": args.ladder} if args.ladder else {}
    out = Path(args.output)
    check_output_file(out, (".parquet", ".csv"))  # before reading: a bad -o fails at once
    testbed = load(args.source, args.path, **options)
    if out.suffix.lower() == ".csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        testbed.to_frame().to_csv(out, index=False)
    else:
        testbed.to_parquet(out)
    from rich.console import Console

    Console(stderr=True).print(f"wrote {out}: {len(testbed.models)} models, {len(testbed.tasks)} tasks, "
                               f"{len(testbed.scores)} scores")
    return 0


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def render_summary(testbed, console) -> None:
    from rich.table import Table

    s = testbed.describe()
    console.print(f"[bold]{s['name'] or 'testbed'}[/bold]: {s['n_models']} models, {s['n_tasks']} tasks, "
                  f"{s['n_scores']} scores; metrics: {', '.join(s['metrics'])}; "
                  f"{s['n_holdout']} declared hold-out targets")
    t = Table(title="models per family and corpus")
    t.add_column("family")
    t.add_column("corpus")
    t.add_column("models", justify="right")
    for g in s["groups"]:
        t.add_row(str(g["family"]), str(g["corpus"]), str(g["models"]))
    console.print(t)
    r = Table(title="scale ranges")
    r.add_column("axis")
    r.add_column("min", justify="right")
    r.add_column("max", justify="right")
    for axis, (lo, hi) in s["ranges"].items():
        r.add_row(axis, _fmt(lo), _fmt(hi))
    console.print(r)
    if s["losses"]:
        console.print(f"validation losses ({len(s['losses'])}): {', '.join(s['losses'])}")
    shown = s["tasks"][:60]
    more = f" ... and {len(s['tasks']) - len(shown)} more" if len(s["tasks"]) > len(shown) else ""
    console.print(f"tasks ({len(s['tasks'])}): {', '.join(shown)}{more}")


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    render_summary(open_testbed(args.testbed), Console())
    return 0
