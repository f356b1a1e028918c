"""The plain long format: the door for anyone else's data, and what ``Testbed.to_frame`` writes.

One row per score, CSV or Parquet. Columns (only the first four are required):

=================  ==========================================================================
model              model or checkpoint id
task               task name
metric             metric name ("accuracy", "loss", ...)
value              the score
stderr             standard error of value
n_examples         examples behind value (gives binomial noise when stderr is missing)
chance             chance level of the metric
higher_is_better   true/false (default: true)
shots, variant     the setting (number of demonstrations; prompt variant)
source, family,    model metadata: repeated on every row of a model, and must agree across them
corpus, size,
params,
params_nonembed,
tokens, flops,
step, holdout
loss_<set>         validation loss on <set> (nats per token), one column per validation set
task_type,         task metadata, repeated on every row of a task
category
=================  ==========================================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import LOSS_PREFIX, MODEL_COLUMNS, SCORE_COLUMNS, Tables, build_tables
from ._readers import read_csv
from .registry import Source, register

NAME = "csv"
_TASK_ONLY = ("task_type", "category")


def _read_any(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt", ".gz"):
        # What Testbed.to_frame().to_csv wrote reads back bit for bit: pandas < 3's default float parser may
        # differ in the last digit (the dependency-floor CI job caught it); pandas 3's default is exact and it
        # deprecates the option.
        exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
        return read_csv(path, sep="\t" if ".tsv" in path.name else ",", keep_default_na=True, na_values=[""],
                        dtype={"model": str, "task": str}, **exact)
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow errors on corrupt Parquet files
            raise InputError(path, f"cannot read ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})") from None
    raise InputError(path, f"unsupported file type {suffix!r} (expected .csv, .tsv or .parquet)")


def split_long_frame(df: pd.DataFrame, origin: str, *, first_line: int = 2) -> Tables:
    """Split a long frame into the three tables, checking that per-model and per-task columns agree.

    ``first_line`` is the file line of the frame's first row (2 for a CSV with a header), so that
    errors name the line a user sees in an editor.
    """
    if df.empty:
        raise InputError(origin, "no rows")
    known = set(SCORE_COLUMNS) | set(MODEL_COLUMNS) | set(_TASK_ONLY)
    unknown = [c for c in df.columns if c not in known and not str(c).startswith(LOSS_PREFIX)]
    if unknown:
        raise InputError(origin, f"unknown column {unknown[0]!r} (see `scalecheck sources` for the format)",
                         field=str(unknown[0]))
    for col in ("model", "task", "metric", "value"):
        if col not in df.columns:
            raise InputError(origin, "missing column", field=col)
        bad = df[col].isna().to_numpy()
        if bad.any():
            raise InputError(origin, "missing value", row=int(np.flatnonzero(bad)[0]) + first_line,
                             field=col, where="line")
    df = df.reset_index(drop=True)
    if "source" not in df.columns:
        df["source"] = NAME
    model_cols = [c for c in df.columns if c in MODEL_COLUMNS or str(c).startswith(LOSS_PREFIX)]
    models = _unique_rows(df, "model", model_cols, origin, first_line)
    task_cols = [c for c in df.columns if c in ("task", *_TASK_ONLY)]
    tasks = _unique_rows(df, "task", task_cols, origin, first_line)
    score_cols = [c for c in df.columns if c in SCORE_COLUMNS]
    scores = df[score_cols].copy()
    if "higher_is_better" not in scores.columns:
        scores["higher_is_better"] = True
    # Describe each task by its first score's metric, chance and size; build_tables fills the rest.
    first = scores.drop_duplicates("task").set_index("task")
    for col in ("metric", "chance", "n_examples", "shots"):
        if col in first.columns:
            tasks[col] = tasks["task"].map(first[col])
    return build_tables(models.drop(columns="__line"), scores, tasks.drop(columns="__line"), origin=origin,
                        model_rows=models["__line"].tolist(), score_rows=[i + first_line for i in range(len(df))],
                        row_where="line")


def _unique_rows(df: pd.DataFrame, key: str, cols: list[str], origin: str, first_line: int) -> pd.DataFrame:
    sub = df[cols]
    firsts = sub.drop_duplicates(key)
    merged = sub.merge(firsts, on=key, how="left", suffixes=("", "__first"))
    for c in cols:
        if c == key:
            continue
        a, b = merged[c], merged[c + "__first"]
        differ = ~((a == b).fillna(False) | (a.isna() & b.isna()))
        if differ.any():
            i = int(np.flatnonzero(differ.to_numpy())[0])
            raise InputError(origin, f"{key} {df[key].iloc[i]!r} has {c}={a.iloc[i]!r} here but "
                             f"{b.iloc[i]!r} on its first row", row=i + first_line, field=c, where="line")
    firsts = firsts.assign(__line=firsts.index + first_line)
    return firsts.reset_index(drop=True)


def read_long_file(path: Path) -> Tables:
    return split_long_frame(_read_any(path), str(path), first_line=2 if path.suffix.lower() != ".parquet" else 1)


register(Source(
    name=NAME,
    description="plain long-format CSV/TSV/Parquet: one row per score (model, task, metric, value, ...); "
                "see scalecheck.sources.plain for the columns",
    reader=read_long_file,
    expects="file",
))
