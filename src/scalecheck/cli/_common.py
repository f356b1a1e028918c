"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..observations import Testbed, load

TESTBED_HELP = ("a testbed file written by `scalecheck import` (.parquet) or a long-format CSV; "
                "default: the built-in Gadre et al. 2024 testbed")


def add_testbed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("testbed", nargs="?", default=None, metavar="TESTBED", help=TESTBED_HELP)


def open_testbed(path: str | None) -> Testbed:
    if path is None:
        return load("gadre2024")
    return Testbed.read(Path(path))


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples in descriptions as written and shows defaults."""
