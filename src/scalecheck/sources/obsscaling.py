"""Observational scaling laws (Ruan, Maddison & Hashimoto 2024): ~150 public base models from 47 families.

Reads the ``eval_results`` folder of github.com/ryoungj/ObsScaling (the shared copy is ``obsscaling``):

* ``base_llm_benchmark_eval.csv`` (required; the main table): one row per base model with its family,
  ``Model Size (B)`` (params = x 1e9), ``Pretraining Data Size (T)`` (tokens = x 1e12), ``FLOPs (1E21)``
  (x 1e21, where given; it equals 6ND) and eight benchmark scores.
* ``base_llm_emergent_capability_eval.csv``: BIG-bench "emergent" tasks; columns ``<task>_<shots>_<metric>``.
  ``ipa_transliterate_2_bleu`` is BLEU on its own 0-100 scale; every other score is a fraction in [0, 1].
* ``base_llm_leaderboard_v2_eval.csv``: Open LLM Leaderboard v2 scores.

Every model of the extra tables must be in the main table; a blank score means "not evaluated" (no row).
The sub-10B table repeats a subset of the main table, and the post-training / instruct tables score other
kinds of models, so they are not read. Model ids are the Hugging Face ids of the ``Model`` column; the
files name no pretraining corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import Tables, build_tables
from ._readers import read_csv
from ._tasks import PROPORTION_METRICS
from .registry import Source, register

NAME = "obsscaling"
MAIN = "base_llm_benchmark_eval.csv"
EMERGENT = "base_llm_emergent_capability_eval.csv"
LEADERBOARD = "base_llm_leaderboard_v2_eval.csv"
META_COLUMNS = ("Model", "Model Family", "Model Size (B)", "Pretraining Data Size (T)", "FLOPs (1E21)")


@dataclass(frozen=True)
class Benchmark:
    """How one score column reads: task, metric, shots and, where known, chance and number of examples."""

    task: str
    metric: str
    shots: int | None
    chance: float | None = None
    n_examples: int | None = None
    scale: float = 1.0  # the largest possible score: 1 for fractions, 100 for BLEU
    task_type: str | None = None


# The main table. Shots follow the Open LLM Leaderboard v1 convention (PROVENANCE.md): MMLU 5, ARC-C 25,
# HellaSwag 10, WinoGrande 5, GSM8K 5; TruthfulQA was 0-shot there and HumanEval is zero-shot completion;
# XWinograd's setting is not documented. n_examples are the evaluation sets' sizes; for ARC-C, HellaSwag,
# WinoGrande, GSM8K and HumanEval over 90% of the scores are exact multiples of 1/n (the rest are rounded
# figures quoted from papers). MMLU is a mean over its 57 subjects and TruthfulQA-MC2 a mean of per-question
# probabilities, so their n is the number of questions behind the mean.
BENCHMARKS: dict[str, Benchmark] = {
    "MMLU": Benchmark("mmlu", "acc", 5, 0.25, 14042, task_type="multiple choice"),
    "ARC-C": Benchmark("arc_challenge", "acc_norm", 25, 0.25, 1172, task_type="multiple choice"),
    "HellaSwag": Benchmark("hellaswag", "acc_norm", 10, 0.25, 10042, task_type="multiple choice"),
    "Winograd": Benchmark("winogrande", "acc", 5, 0.5, 1267, task_type="multiple choice"),
    "TruthfulQA": Benchmark("truthfulqa", "mc2", 0, None, 817, task_type="multiple choice"),
    "GSM8K": Benchmark("gsm8k", "exact_match", 5, 0.0, 1319, task_type="generation"),
    "XWinograd": Benchmark("xwinograd", "acc", None, 0.5, None, task_type="multiple choice"),
    "HumanEval": Benchmark("humaneval", "pass@1", 0, 0.0, 164, task_type="code generation"),
}
# Emergent tasks: the number of examples is what every score is an exact multiple of (checked on the file:
# parsinlu_qa 1050, the others 2000; ipa_transliterate 1003 for 97% of scores). parsinlu_qa is four-way
# multiple choice; the rest are free generation (chance ~0). BLEU is not a proportion: no binomial n.
EMERGENT_TASKS: dict[str, tuple[float | None, int | None, str]] = {
    "parsinlu_qa": (0.25, 1050, "multiple choice"),
    "word_unscrambling": (0.0, 2000, "generation"),
    "ipa_transliterate": (0.0, 1003, "generation"),
    "arithmetic_3ds": (0.0, 2000, "generation"), "arithmetic_3da": (0.0, 2000, "generation"),
    "arithmetic_2dm": (0.0, 2000, "generation"), "arithmetic_2da": (0.0, 2000, "generation"),
}
_EMERGENT_COLUMN = re.compile(r"^(?P<task>[a-z0-9_]+?)_(?P<shots>\d+)_(?P<metric>acc|exact_match|bleu)$")
# Open LLM Leaderboard v2 settings (its documentation): BBH 3-shot, GPQA 0, IFEval 0 (instruction-level
# accuracy: 834 instructions), MATH level 5 4-shot, MMLU-Pro 5 (ten options), MuSR 0. Every score in the
# file is an exact multiple of 1/n for the n below.
LEADERBOARD_V2: dict[str, Benchmark] = {
    "leaderboard_bbh": Benchmark("leaderboard_bbh", "acc_norm", 3, None, 5761, task_type="multiple choice"),
    "leaderboard_gpqa": Benchmark("leaderboard_gpqa", "acc_norm", 0, 0.25, 1192, task_type="multiple choice"),
    "leaderboard_ifeval": Benchmark("leaderboard_ifeval", "inst_level_acc", 0, None, 834, task_type="generation"),
    "leaderboard_math_hard": Benchmark("leaderboard_math_hard", "exact_match", 4, 0.0, 1324, task_type="generation"),
    "leaderboard_mmlu_pro": Benchmark("leaderboard_mmlu_pro", "acc", 5, 0.1, 12032, task_type="multiple choice"),
    "leaderboard_musr": Benchmark("leaderboard_musr", "acc_norm", 0, None, 756, task_type="multiple choice"),
}


def parse_emergent_column(name: str) -> Benchmark | None:
    """``"arithmetic_3ds_2_acc"`` -> task ``arithmetic_3ds``, metric ``acc``, 2 shots; None if not that form."""
    m = _EMERGENT_COLUMN.match(name)
    if m is None:
        return None
    task, metric = m.group("task"), m.group("metric")
    chance, n, kind = EMERGENT_TASKS.get(task, (None, None, None))
    if metric == "bleu":
        chance, n = None, None
    return Benchmark(task, metric, int(m.group("shots")), chance, n, scale=100.0 if metric == "bleu" else 1.0,
                     task_type=kind)


def _read_table(path: Path) -> pd.DataFrame:
    # Only a blank cell is a missing score; "NaN" or "n/a" written out is refused as text.
    df = read_csv(path, dtype={"Model": str, "Model Family": str}, keep_default_na=False, na_values=[""])
    if "Model" not in df.columns:
        raise InputError(path, "missing column (is this an ObsScaling eval_results table?)", field="Model")
    bad = df["Model"].isna() | (df["Model"].astype(str).str.strip() == "")
    if bad.any():
        raise InputError(path, "missing model id", row=int(np.flatnonzero(bad.to_numpy())[0]) + 2, field="Model",
                         where="line")
    dup = df["Model"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(path, f"model {df['Model'].iloc[i]!r} appears twice", row=i + 2, field="Model", where="line")
    return df


def _numbers(path: Path, df: pd.DataFrame, col: str, *, required: bool) -> np.ndarray:
    """The column as floats: text, infinities (and, where required, blanks) are named by line and field."""
    s = df[col]
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    text = np.isnan(num) & s.notna().to_numpy()
    if text.any():
        i = int(np.flatnonzero(text)[0])
        raise InputError(path, f"{s.iloc[i]!r} is not a number", row=i + 2, field=col, where="line")
    bad = np.isinf(num) | (np.isnan(num) if required else np.zeros(len(num), bool))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(path, f"{s.iloc[i]!r} is not a finite number" if not np.isnan(num[i]) else "missing value",
                         row=i + 2, field=col, where="line")
    return num


def _scores(path: Path, df: pd.DataFrame, columns: dict[str, Benchmark]) -> list[pd.DataFrame]:
    parts = []
    for col, b in columns.items():
        v = _numbers(path, df, col, required=False)
        out = ~np.isnan(v) & ((v < 0) | (v > b.scale))
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise InputError(path, f"{v[i]!r} outside [0, {b.scale:g}]", row=i + 2, field=col, where="line")
        keep = ~np.isnan(v)
        parts.append(pd.DataFrame({
            "model": df["Model"].to_numpy()[keep], "task": b.task, "metric": b.metric, "value": v[keep],
            # Binomial noise only for proportions of 0/1 outcomes (not TruthfulQA's mc2 or BLEU).
            "n_examples": float(b.n_examples) if b.n_examples and b.metric in PROPORTION_METRICS else np.nan,
            "chance": np.nan if b.chance is None else b.chance, "higher_is_better": True,
            "shots": pd.array([b.shots] * int(keep.sum()), dtype="Int64"), "variant": "",
            "__line": np.flatnonzero(keep) + 2, "__file": path.name,
        }))
    return parts


def _results_folder(path: Path) -> Path:
    for cand in (path / "eval_results", path):
        if (cand / MAIN).is_file():
            return cand
    raise InputError(path, f"not an ObsScaling folder (expected eval_results/{MAIN})")


def read_folder(path: Path) -> Tables:
    folder = _results_folder(path)
    main_path = folder / MAIN
    main = _read_table(main_path)
    for col in (*META_COLUMNS, *BENCHMARKS):
        if col not in main.columns:
            raise InputError(main_path, "missing column", field=col)
    unknown = [c for c in main.columns if c not in META_COLUMNS and c not in BENCHMARKS]
    if unknown:
        raise InputError(main_path, "unknown column", field=unknown[0])
    fam = main["Model Family"]
    if fam.isna().any():
        raise InputError(main_path, "missing value", row=int(np.flatnonzero(fam.isna().to_numpy())[0]) + 2,
                         field="Model Family", where="line")
    size = _numbers(main_path, main, "Model Size (B)", required=True)
    tokens = _numbers(main_path, main, "Pretraining Data Size (T)", required=False)
    flops = _numbers(main_path, main, "FLOPs (1E21)", required=False)
    for col, v in (("Model Size (B)", size), ("Pretraining Data Size (T)", tokens), ("FLOPs (1E21)", flops)):
        bad = ~np.isnan(v) & (v <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(main_path, f"{v[i]!r} is not positive", row=i + 2, field=col, where="line")
    models = pd.DataFrame({
        "model": main["Model"].to_numpy(), "source": NAME, "family": fam.to_numpy(),
        "size": [f"{s:g}B" for s in size], "params": size * 1e9, "tokens": tokens * 1e12, "flops": flops * 1e21,
        "holdout": False,
    })
    parts = _scores(main_path, main, BENCHMARKS)
    known = set(main["Model"])
    for name in (EMERGENT, LEADERBOARD):
        p = folder / name
        if not p.exists():
            continue
        extra = _read_table(p)
        missing = ~extra["Model"].isin(known)
        if missing.any():
            i = int(np.flatnonzero(missing.to_numpy())[0])
            raise InputError(p, f"model {extra['Model'].iloc[i]!r} is not in {MAIN}", row=i + 2, field="Model",
                             where="line")
        columns: dict[str, Benchmark] = {}
        for col in extra.columns[1:]:
            b = parse_emergent_column(col) if name == EMERGENT else LEADERBOARD_V2.get(col)
            if b is None:
                raise InputError(p, "unknown column", field=col)
            columns[col] = b
        parts += _scores(p, extra, columns)
    scores = pd.concat(parts, ignore_index=True)
    lines = (scores.pop("__file") + " line " + scores.pop("__line").astype(str)).tolist()
    tasks = _tasks_table()
    tasks = tasks[tasks["task"].isin(set(scores["task"]))]
    return build_tables(models, scores, tasks, origin=str(folder), score_rows=lines, row_where="at")


def _tasks_table() -> pd.DataFrame:
    rows = {}
    for b in [*BENCHMARKS.values(), *LEADERBOARD_V2.values()]:
        rows[b.task] = {"task": b.task, "metric": b.metric, "chance": b.chance, "n_examples": b.n_examples,
                        "shots": b.shots, "task_type": b.task_type}
    for task, (chance, n, kind) in EMERGENT_TASKS.items():
        metric = "acc" if task.startswith(("parsinlu", "arithmetic")) else "exact_match"
        rows[task] = {"task": task, "metric": metric, "chance": chance, "n_examples": n, "shots": 2, "task_type": kind}
    return pd.DataFrame(list(rows.values()))


register(Source(
    name=NAME,
    description="ObsScaling (Ruan et al. 2024): 148 public base models of 47 families with params, tokens and "
                "FLOPs; 8 standard benchmarks, BIG-bench emergent tasks and Open LLM Leaderboard v2",
    reader=read_folder,
    expects="folder",
    shared_folder="obsscaling",
))
