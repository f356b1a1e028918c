"""The ``scalecheck`` command: a thin shell over the Python API.

Each sub-command lives in its own module with ``add_parsers(subparsers)``, which adds its parser(s) and sets a
``run_<command>(args)`` function as each parser's ``func``; the analysis commands are built from the shared
options and run skeleton of :mod:`scalecheck.cli._common`. Errors the user can fix are printed as one line, with
exit status 2. ``-v`` shows the library's log of silent decisions (tasks left out, points dropped) on stderr.
Heavy libraries are imported inside the run functions only, so that ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ScalecheckError
from . import backtest, data, evaluate, inverse_scaling, ladders, reality_check, sensitivity

# Sub-command modules, in the order ``--help`` lists them.
COMMANDS = [data, reality_check, backtest, sensitivity, inverse_scaling, evaluate, ladders]

DESCRIPTION = """\
scalecheck: does a downstream task scale predictably with language-model scale, and why (not)?

The main job, on the built-in testbed (Gadre et al. 2024: 104 models, 46 tasks, 8 validation losses):
  scalecheck reality-check                      # verdict per task, report in ./scalecheck-report/

Typical flow on your own data:
  scalecheck import pythia ../shared/data/pythia_evals -o pythia.parquet
  scalecheck show pythia.parquet
  scalecheck reality-check pythia.parquet --x params --by family --shots 0
  scalecheck backtest --output bt/              # fit small models, predict the large ones
  scalecheck sensitivity --output sens/         # do verdicts survive a change of validation set or corpus?
  scalecheck evaluate --ladder ladder.yaml --task memo-trap_classification.jsonl --output runs/

Run `scalecheck COMMAND --help` for each command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    from ._common import OneLineParser

    parser = OneLineParser(prog="scalecheck", description=DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"scalecheck {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log decisions made silently (tasks left out, points dropped), and show the traceback "
                             "of an unexpected error; -vv for more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if args.verbose:
        import logging

        handler = logging.StreamHandler()  # stderr; only scalecheck's own loggers, not its libraries'
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger = logging.getLogger("scalecheck")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if args.verbose == 1 else logging.DEBUG)
    try:
        return int(args.func(args) or 0)
    except ScalecheckError as exc:
        print(f"scalecheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"scalecheck {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file system refusal the command did not foresee: name the file and the reason
        if args.verbose:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"scalecheck {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the last resort: one line naming what failed, -v for the traceback
        if args.verbose:
            raise
        what = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "(no message)"
        print(f"scalecheck {args.command}: error: unexpected {exc.__class__.__name__}: {what} (rerun with "
              f"`scalecheck -v {args.command} ...` for the traceback, and please report it)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
