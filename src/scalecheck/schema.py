"""The testbed's table schema: column names, dtypes and validation, shared by every stage.

A testbed is three tables (see ``docs`` in the README):

* **models**: one row per model or checkpoint. Fixed columns below, plus one ``loss_<set>`` column per
  validation set (nats per token).
* **scores**: one row per (model, task, metric, shots, variant).
* **tasks**: one row per task.

This module is the lowest layer of scalecheck: importers (``scalecheck.sources``), the evaluator and the
testbed all build their tables through :func:`build_tables`, so every table that exists is valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

LOSS_PREFIX = "loss_"

# name -> pandas dtype. "string" columns may be missing (<NA>) unless listed as required.
MODEL_COLUMNS: dict[str, str] = {
    "model": "string",  # unique id of the model or checkpoint within the testbed
    "source": "string",  # importer or origin ("gadre2024", "pythia", "evaluate", ...)
    "family": "string",  # model family / ladder ("open_lm", "pythia", "olmo-ladder")
    "corpus": "string",  # pretraining corpus
    "size": "string",  # size label as the source names it ("d=512_l=8_h=4", "70m", "190M")
    "params": "float64",  # total parameters
    "params_nonembed": "float64",  # non-embedding parameters, where known
    "tokens": "float64",  # pretraining tokens seen
    "flops": "float64",  # training FLOPs; 6*N*D where the source gives none
    "run": "string",  # training run a checkpoint belongs to (<NA> when each model is its own run)
    "step": "Int64",  # checkpoint step, where the model is an intermediate checkpoint
    "holdout": "boolean",  # a declared prediction target (fit on the others, predict these)
}
MODEL_REQUIRED = ("model", "source")

SCORE_COLUMNS: dict[str, str] = {
    "model": "string",
    "task": "string",
    "metric": "string",  # "accuracy", "acc_norm", "loss", "bpb", ...
    "value": "float64",
    "stderr": "float64",  # standard error of value, where the source reports it
    "n_examples": "float64",  # examples behind value (binomial noise when stderr is missing)
    "chance": "float64",  # chance level of this metric (0.25 for 4-way multiple choice)
    "higher_is_better": "boolean",
    "shots": "Int64",  # setting: number of in-context demonstrations
    "variant": "string",  # setting: prompt variant or evaluation format ("" when there is one)
}
SCORE_REQUIRED = ("model", "task", "metric", "value")
SCORE_KEY = ["model", "task", "metric", "shots", "variant"]

TASK_COLUMNS: dict[str, str] = {
    "task": "string",
    "metric": "string",  # the task's primary metric (the default when a series is selected)
    "chance": "float64",
    "n_examples": "float64",
    "shots": "Int64",
    "task_type": "string",  # "multiple choice", "language modeling", ...
    "category": "string",  # "world knowledge", "commonsense reasoning", ...
}
TASK_REQUIRED = ("task",)

SCALE_AXES = ("params", "params_nonembed", "tokens", "flops")
# Metrics that are never a share of examples, whatever their range (a classification loss of 0.6 is no accuracy):
# no binomial noise for them, and no "points" (x100).
NOT_PROPORTIONS = frozenset({"loss", "bpb", "ppl", "perplexity", "logodds", "absolute_logodds"})

# Metrics that are proportions (a share of examples, or a probability): their values and chance lie in [0, 1]. An
# accuracy of 1.5 or 85.3 is a wrong file (a percentage, a swapped column), not a score. Other metrics (loss, bpb,
# perplexity, BLEU on 0-100, log-probabilities) only need to be finite.
PROPORTION_METRICS = frozenset({"acc", "accuracy", "acc_norm", "acc_mutual_info", "exact_match", "em", "mc1", "mc2",
                                "inst_level_acc", "prompt_level_acc", "pct_stereotype", "soft"})


def is_proportion(metric: str) -> bool:
    """Whether ``metric`` is a proportion in [0, 1] (see PROPORTION_METRICS; also ``pass@k`` and ``acc_*``)."""
    m = str(metric).strip().lower()
    return m in PROPORTION_METRICS or m.startswith(("acc_", "accuracy_", "pass@"))


def _num(v) -> str:
    """A number as a user wrote it (``1.5``, ``inf``), not numpy's repr (``np.float64(1.5)``)."""
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return repr(v)


def loss_column(name: str) -> str:
    return name if name.startswith(LOSS_PREFIX) else LOSS_PREFIX + name


def loss_names(models: pd.DataFrame) -> list[str]:
    return [c[len(LOSS_PREFIX):] for c in models.columns if c.startswith(LOSS_PREFIX)]


@dataclass(frozen=True)
class _Rows:
    """Maps a table's positional row to what an error should call it (a file line, a JSON index)."""

    labels: list | None
    where: str

    def __call__(self, i: int):
        return i if self.labels is None else self.labels[i]


@dataclass(frozen=True)
class Tables:
    """What an importer or the evaluator produces: three validated tables (see :func:`build_tables`)."""

    models: pd.DataFrame
    scores: pd.DataFrame
    tasks: pd.DataFrame


def _coerce(df: pd.DataFrame, columns: dict[str, str], required: tuple[str, ...], table: str,
            origin: str | None, extra_float_prefix: str | None = None, rows: _Rows | None = None) -> pd.DataFrame:
    rows = rows or _Rows(None, "row")
    df = df.copy()
    for col in required:
        if col not in df.columns:
            raise InputError(origin, f"{table} table has no column '{col}'", field=col)
    extra = [c for c in df.columns if c not in columns]
    if extra_float_prefix is None and extra:
        raise InputError(origin, f"{table} table has unknown column(s) {extra}", field=extra[0])
    for c in extra:
        if not c.startswith(extra_float_prefix or "\0"):
            raise InputError(origin, f"{table} table has unknown column '{c}'", field=c)
    out = {}
    n = len(df)
    for col, dtype in columns.items():
        if col not in df.columns:
            out[col] = pd.Series([pd.NA] * n, dtype=dtype, index=df.index) if dtype != "float64" else \
                pd.Series(np.full(n, np.nan), index=df.index)
            continue
        out[col] = _coerce_column(df[col], dtype, table, col, origin, rows)
    for col in sorted(extra):
        out[col] = _coerce_column(df[col], "float64", table, col, origin, rows)
    res = pd.DataFrame(out, index=df.index)
    for col in required:
        bad = res[col].isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(origin, f"{table} table: missing value", row=rows(i), field=col, where=rows.where)
    return res.reset_index(drop=True)


def _convert(s: pd.Series, dtype: str) -> pd.Series:
    """Convert to ``dtype``; raises ValueError or TypeError on a value that does not fit."""
    if dtype == "float64":
        return pd.to_numeric(s, errors="raise").astype("float64")
    if dtype == "Int64":
        num = pd.to_numeric(s, errors="raise")
        if (num.dropna() != np.round(num.dropna())).any():
            raise ValueError("not an integer")
        return num.astype("Int64")
    if dtype == "boolean":
        if s.dtype == object or str(s.dtype) in ("string", "str"):
            mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
            low = s.map(lambda v: v if not isinstance(v, str) else mapping.get(v.strip().lower(), v))
            if not low.dropna().map(lambda v: isinstance(v, (bool, np.bool_, int, np.integer))).all():
                raise ValueError("not a boolean")
            return low.astype("boolean")
        return s.astype("boolean")
    return s.astype("string")


def _coerce_column(s: pd.Series, dtype: str, table: str, col: str, origin: str | None,
                   rows: _Rows | None = None) -> pd.Series:
    rows = rows or _Rows(None, "row")
    try:
        return _convert(s, dtype)
    except (ValueError, TypeError) as exc:
        # Find the first offending row for a precise message.
        for i, v in enumerate(s.tolist()):
            try:
                _convert(pd.Series([v], dtype=object), dtype)
            except (ValueError, TypeError):
                raise InputError(origin, f"{table} table: {v!r} is not a valid {dtype} value",
                                 row=rows(i), field=col, where=rows.where) from None
        raise InputError(origin, f"{table} table: column is not {dtype} ({exc})", field=col) from None


def _one_chance_per_task(s: pd.DataFrame, origin: str | None, sr: _Rows) -> None:
    """A task's metric has one chance level: rows that disagree are a wrong file, and a series would take the first."""
    known = s[["task", "metric", "chance"]].assign(_pos=np.arange(len(s)))
    known = known[known["chance"].notna()]
    if known.empty:
        return
    first = known.groupby(["task", "metric"], sort=False)["chance"].transform("first")
    differ = (known["chance"] != first).to_numpy()
    if differ.any():
        j = int(np.flatnonzero(differ)[0])
        r = known.iloc[j]
        same = known[(known["task"] == r["task"]) & (known["metric"] == r["metric"])].iloc[0]
        raise InputError(origin, f"task {r['task']!r} [{r['metric']}] has chance {_num(r['chance'])} here but "
                         f"{_num(same['chance'])} at {sr.where} {sr(int(same['_pos']))}: one chance level per task "
                         "and metric", row=sr(int(r["_pos"])), field="chance", where=sr.where)


def build_tables(models: pd.DataFrame, scores: pd.DataFrame, tasks: pd.DataFrame | None = None,
                 *, origin: str | None = None, allow_missing_models: bool = False,
                 model_rows: list | None = None, score_rows: list | None = None, row_where: str = "row") -> Tables:
    """Coerce and validate the three tables; the one door through which every testbed's data passes.

    Checks: required columns and values, dtypes, unique keys, finite scores, non-negative stderr,
    that every score's model is in ``models`` and every task is in ``tasks``. Fills ``flops`` as 6*N*D
    where params and tokens are known, and the tasks table from the scores where it lacks a task.
    ``model_rows``/``score_rows`` name each input row in errors (e.g. the file line it came from).
    Rows come out sorted (models by family, corpus, params, tokens, step, model; scores by key) so
    that the same input always gives the same testbed.
    """
    mr, sr = _Rows(model_rows, row_where), _Rows(score_rows, row_where)
    m = _coerce(models, MODEL_COLUMNS, MODEL_REQUIRED, "models", origin, extra_float_prefix=LOSS_PREFIX, rows=mr)
    s = _coerce(scores, SCORE_COLUMNS, SCORE_REQUIRED, "scores", origin, rows=sr)
    t = _coerce(tasks if tasks is not None else pd.DataFrame({"task": pd.Series([], dtype="string")}),
                TASK_COLUMNS, TASK_REQUIRED, "tasks", origin)
    s["variant"] = s["variant"].fillna("")
    _check_models(m, origin, mr)
    _fill_models(m)
    _check_score_values(s, origin, sr)
    _check_score_rows(s, m, origin, sr, allow_missing_models)
    dup = t["task"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(origin, f"duplicate task {t['task'].iloc[i]!r}", row=i, field="task")
    t = _describe_new_tasks(t, s, origin)
    return _sorted(m, s, t)


def _first(bad) -> int:
    return int(np.flatnonzero(np.asarray(bad))[0])


def _check_models(m: pd.DataFrame, origin: str | None, mr: _Rows) -> None:
    """Unique ids; sizes, tokens and FLOPs finite and positive, losses finite and non-negative."""
    dup = m["model"].duplicated()
    if dup.any():
        i = _first(dup)
        raise InputError(origin, f"duplicate model id {m['model'].iloc[i]!r}", row=mr(i), field="model", where=mr.where)
    for col in ["params", "params_nonembed", "tokens", "flops", *[c for c in m.columns if c.startswith(LOSS_PREFIX)]]:
        vals = m[col].to_numpy()
        bad = ~np.isnan(vals) & ~(np.isfinite(vals) & (vals > 0 if not col.startswith(LOSS_PREFIX) else vals >= 0))
        if bad.any():
            i = _first(bad)
            raise InputError(origin, f"models table: {_num(vals[i])} is not a finite positive number", row=mr(i), field=col,
                             where=mr.where)


def _fill_models(m: pd.DataFrame) -> None:
    # 6*N*D: the standard training-compute estimate (Kaplan et al. 2020), used where the source gives none.
    missing = m["flops"].isna() & m["params"].notna() & m["tokens"].notna()
    m.loc[missing, "flops"] = 6.0 * m.loc[missing, "params"] * m.loc[missing, "tokens"]
    m["holdout"] = m["holdout"].fillna(False)


def _check_score_values(s: pd.DataFrame, origin: str | None, sr: _Rows) -> None:
    """Each score's value, chance, stderr and number of examples within what its metric allows."""
    vals = s["value"].to_numpy()
    bad = ~np.isfinite(vals)
    if bad.any():
        i = _first(bad)
        raise InputError(origin, f"scores table: value {_num(vals[i])} is not finite (model {s['model'].iloc[i]!r}, "
                         f"task {s['task'].iloc[i]!r})", row=sr(i), field="value", where=sr.where)
    proportion = s["metric"].map(is_proportion).to_numpy(bool)
    bad = proportion & ((vals < 0) | (vals > 1))
    if bad.any():
        i = _first(bad)
        hint = " (a percentage? divide by 100)" if 1 < vals[i] <= 100 else ""
        raise InputError(origin, f"scores table: {s['metric'].iloc[i]} {_num(vals[i])} is not a proportion in [0, 1]"
                         f"{hint} (model {s['model'].iloc[i]!r}, task {s['task'].iloc[i]!r})", row=sr(i),
                         field="value", where=sr.where)
    ch = s["chance"].to_numpy()
    bad = ~np.isnan(ch) & (~np.isfinite(ch) | (proportion & ((ch < 0) | (ch > 1))))
    if bad.any():
        i = _first(bad)
        what = "in [0, 1]" if proportion[i] else "finite"
        raise InputError(origin, f"scores table: chance {_num(ch[i])} of {s['metric'].iloc[i]} is not {what} "
                         f"(task {s['task'].iloc[i]!r})", row=sr(i), field="chance", where=sr.where)
    _one_chance_per_task(s, origin, sr)
    se = s["stderr"].to_numpy()
    bad = ~np.isnan(se) & ~(np.isfinite(se) & (se >= 0))
    if bad.any():
        i = _first(bad)
        raise InputError(origin, f"scores table: stderr {_num(se[i])} is not a finite non-negative number",
                         row=sr(i), field="stderr", where=sr.where)
    ne = s["n_examples"].to_numpy()
    bad = ~np.isnan(ne) & ~(np.isfinite(ne) & (ne >= 1))
    if bad.any():
        i = _first(bad)
        raise InputError(origin, f"scores table: n_examples {_num(ne[i])} is not a positive count", row=sr(i),
                         field="n_examples", where=sr.where)


def _check_score_rows(s: pd.DataFrame, m: pd.DataFrame, origin: str | None, sr: _Rows,
                      allow_missing_models: bool) -> None:
    """One score per key, and (unless allowed otherwise) every score's model in the models table."""
    dup = s.duplicated(SCORE_KEY)
    if dup.any():
        i = _first(dup)
        r = s.iloc[i]
        raise InputError(origin, f"duplicate score for model {r['model']!r}, task {r['task']!r}, metric "
                         f"{r['metric']!r}", row=sr(i), field="value", where=sr.where)
    if not allow_missing_models:
        unknown = ~s["model"].isin(m["model"])
        if unknown.any():
            i = _first(unknown)
            raise InputError(origin, f"score names model {s['model'].iloc[i]!r}, which is not in the models table",
                             row=sr(i), field="model", where=sr.where)


def _describe_new_tasks(t: pd.DataFrame, s: pd.DataFrame, origin: str | None) -> pd.DataFrame:
    """Tasks named by scores but not described: described from the scores."""
    known = set(t["task"].tolist())
    new = [k for k in pd.unique(s["task"]) if k not in known]
    if not new:
        return t
    rows = []
    for k in new:
        sub = s[s["task"] == k]
        rows.append({
            "task": k,
            "metric": sub["metric"].mode().iloc[0],
            "chance": sub["chance"].dropna().iloc[0] if sub["chance"].notna().any() else np.nan,
            "n_examples": sub["n_examples"].dropna().iloc[0] if sub["n_examples"].notna().any() else np.nan,
            "shots": sub["shots"].dropna().iloc[0] if sub["shots"].notna().any() else pd.NA,
        })
    return pd.concat([t, _coerce(pd.DataFrame(rows), TASK_COLUMNS, TASK_REQUIRED, "tasks", origin)],
                     ignore_index=True)


def _sorted(m: pd.DataFrame, s: pd.DataFrame, t: pd.DataFrame) -> Tables:
    """The same input in any row order gives the same testbed."""
    m = m.sort_values(["family", "corpus", "params", "tokens", "run", "step", "model"], na_position="last",
                      kind="mergesort").reset_index(drop=True)
    s = s.sort_values(["task", "metric", "shots", "variant", "model"], na_position="last",
                      kind="mergesort").reset_index(drop=True)
    t = t.sort_values("task", kind="mergesort").reset_index(drop=True)
    return Tables(m, s, t)
