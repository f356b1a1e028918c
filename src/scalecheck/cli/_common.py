"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..observations import Testbed, load

TESTBED_HELP = ("a testbed file written by `scalecheck import` (.parquet), a long-format CSV, or the name of a "
                "built-in testbed (gadre2024, michaelov2023); default: the built-in Gadre et al. 2024 testbed")


def add_testbed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("testbed", nargs="?", default=None, metavar="TESTBED", help=TESTBED_HELP)


def open_testbed(path: str | None) -> Testbed:
    if path is None:
        return load("gadre2024")
    if not Path(path).exists():
        from ..sources import available
        if path in {s.name for s in available() if s.builtin is not None}:
            return load(path)  # a built-in testbed by name (no file of that name here)
    return Testbed.read(Path(path))


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples in descriptions as written and shows defaults."""
