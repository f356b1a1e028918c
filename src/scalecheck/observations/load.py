"""``scalecheck.load``: one call from a source name (and path) to a testbed."""

from __future__ import annotations

from pathlib import Path

from .. import sources
from .testbed import Testbed


def load(source: str = "gadre2024", path: str | Path | None = None, **options) -> Testbed:
    """Load a testbed.

    ``load("gadre2024")`` returns the built-in Gadre et al. 2024 testbed (104 models, 46 tasks, 8 losses);
    ``load("pythia", "path/to/pythia_evals")`` imports a published folder; ``load("testbed", "x.parquet")``
    (or just ``load("x.parquet")``, ``load("mine.csv")``) reads a testbed file written by ``scalecheck import``
    or :meth:`Testbed.to_parquet`, a plain long-format CSV, or a ``scalecheck evaluate`` output folder.
    See ``scalecheck sources`` for the list. ``options`` go to the importer
    (``load("lm-eval", "runs/", ladder="ladder.yaml")``).
    """
    if source == "testbed":
        if path is None:
            from ..errors import ScalecheckError

            raise ScalecheckError("load('testbed', path): give the testbed file")
        return Testbed.read(path)
    if path is None and source not in sources.builtin_names() and Path(source).exists():
        return Testbed.read(source)  # load("mine.csv"), load("mine.parquet"), load("out/evaluate-folder")
    tables = sources.read(source, path, **options)
    name = source if path is None else f"{source}:{Path(path).name}"
    return Testbed.from_tables(tables, name=name)
