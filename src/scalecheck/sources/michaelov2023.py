"""Michaelov & Bergen 2023, "Emergent Inabilities? Inverse Scaling Over the Course of Pretraining".

Reads the ``results`` folder of jmichaelov/emergent-inabilities (the shared copy is ``emergent_inabilities``):
the 8 standard Pythia models (70M-12B) at 8 checkpoints each (steps 2000-143000), zero-shot, on the 10
classification tasks of the Inverse Scaling Prize and on TruthfulQA-MC, scored by lm-evaluation-harness v0.3.0::

    results/pythia-<size>_step<N>.json     acc, acc_stderr, acc_norm, acc_norm_stderr per task (mc1/mc2 for TruthfulQA)
    results/all_results.tsv                ModelName, ModelRevision, Task, Accuracy, Accuracy_SE (acc only)

The path may be the release folder or its ``results`` folder. One model row per checkpoint
(``pythia-1b@step143000``, run ``pythia-1b``); the Prize tasks are named without the harness's ``isp_`` prefix
(``memo_trap``). Checked: the file name against ``config.model_args`` (model and revision), ``num_fewshot``,
every value a finite number in [0, 1], standard errors non-negative, every checkpoint once, and, where
``all_results.tsv`` is present, each of its rows against the JSON file of the same run.

What the files do not carry comes from the paper and the PROVENANCE notes:

* parameters (total and non-embedding) from the Pythia suite (:data:`scalecheck.sources.pythia.PYTHIA_PARAMS`);
  tokens = step x 2,097,152 (1024 sequences of 2048 tokens per step); FLOPs = 6 x params x tokens (the testbed's
  convention, total parameters). The Prize (McKenzie et al. 2023) plots against training FLOPs estimated as
  6ND; at one checkpoint every Pythia model has seen the same D, so FLOPs are proportional to N and a verdict
  over scale is the same against FLOPs or parameters.
* the number of examples per task, which the paper's Table 1 gives and which inverting acc and its standard
  error (se = sqrt(p(1-p)/(n-1))) reproduces on every file (:data:`N_EXAMPLES`);
* chance: 0.5 for every Prize task (each has two answer classes); none (NaN) for TruthfulQA, whose questions
  have varying numbers of options (MC1) or of true answers (MC2), which the folder does not record.

A caveat from PROVENANCE.md: lm-eval v0.3.0 scored each class with an extra leading space, not the Prize's
official protocol; use these numbers for trend shapes, not as reference values.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import Tables, build_tables
from ._readers import field, number, read_builtin_csv, read_json
from .pythia import PYTHIA_PARAMS, TOKENS_PER_STEP
from .registry import Source, register

NAME = "michaelov2023"
FAMILY = "pythia"
CORPUS = "pile"
SIZES = ("70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b")
STEPS = (2000, 4000, 8000, 16000, 32000, 64000, 128000, 143000)

# Rows per task (PROVENANCE.md; the paper's Table 1): the harness's acc standard error inverts to these exactly.
PRIZE_TASKS = ("hindsight_neglect", "into_the_unknown", "memo_trap", "modus_tollens", "neqa",
               "pattern_matching_suppression", "redefine", "repetitive_algebra", "resisting_correction", "sig_figs")
TRUTHFULQA = "truthfulqa_mc"
N_EXAMPLES: dict[str, int] = {
    "hindsight_neglect": 315, "into_the_unknown": 1824, "memo_trap": 936, "modus_tollens": 1236, "neqa": 300,
    "pattern_matching_suppression": 1428, "redefine": 1244, "repetitive_algebra": 1000,
    "resisting_correction": 7344, "sig_figs": 20897, TRUTHFULQA: 817,
}
PRIZE_CHANCE = 0.5  # every Prize classification task here has two answer classes
METRICS = {**{t: ("acc", "acc_norm") for t in PRIZE_TASKS}, TRUTHFULQA: ("mc1", "mc2")}
DEFAULT_METRIC = {**{t: "acc" for t in PRIZE_TASKS}, TRUTHFULQA: "mc1"}
HARNESS_TASK = {**{f"isp_{t}": t for t in PRIZE_TASKS}, TRUTHFULQA: TRUTHFULQA}
# all_results.tsv names TruthfulQA's two metrics as two tasks.
TSV_TASK = {**{f"isp_{t}": (t, "acc") for t in PRIZE_TASKS},
            "truthfulqa_mc1": (TRUTHFULQA, "mc1"), "truthfulqa_mc2": (TRUTHFULQA, "mc2")}
TSV_COLUMNS = ("ModelName", "ModelRevision", "Task", "Accuracy", "Accuracy_SE")

_FILE = re.compile(r"^pythia-(?P<size>\d+(?:\.\d+)?[mb])_step(?P<step>\d+)\.json$")
_ARGS = re.compile(r"^pretrained=EleutherAI/pythia-(?P<size>[^,]+),revision=step(?P<step>\d+)$")


def model_id(size: str, step: int) -> str:
    return f"pythia-{size}@step{step}"


def model_row(size: str, step: int) -> dict:
    """The models-table row of one checkpoint (everything comes from its size and step)."""
    params, nonembed = PYTHIA_PARAMS[size]
    return {"model": model_id(size, step), "source": NAME, "family": FAMILY, "corpus": CORPUS, "size": size,
            "params": float(params), "params_nonembed": float(nonembed), "tokens": float(step * TOKENS_PER_STEP),
            "run": f"pythia-{size}", "step": step, "holdout": False}


def tasks_table() -> pd.DataFrame:
    return pd.DataFrame([{"task": t, "metric": DEFAULT_METRIC[t],
                          "chance": PRIZE_CHANCE if t in PRIZE_TASKS else np.nan,
                          "n_examples": float(N_EXAMPLES[t]), "shots": 0, "task_type": "multiple choice",
                          "category": "inverse scaling prize" if t in PRIZE_TASKS else "truthfulness"}
                         for t in (*PRIZE_TASKS, TRUTHFULQA)])


def _results_dir(path: Path) -> Path:
    if (path / "results").is_dir():
        return path / "results"
    if any(_FILE.match(p.name) for p in path.glob("pythia-*.json")):
        return path
    raise InputError(path, "not the emergent-inabilities folder (expected results/pythia-<size>_step<N>.json)")


def _read_run(path: Path, size: str, step: int) -> tuple[int, list[dict]]:
    d = read_json(path)
    config = field(d, "config", path, kind=dict)
    args = field(config, "model_args", path, where="config", kind=str)
    m = _ARGS.match(args)
    if m is None or m.group("size") != size or int(m.group("step")) != step:
        raise InputError(path, f"model_args {args!r} is not pythia-{size} at step{step} (the file name's)",
                         field="config.model_args")
    shots = field(config, "num_fewshot", path, where="config", kind=int)
    results = field(d, "results", path, kind=dict)
    rows = []
    for harness_task, task in HARNESS_TASK.items():
        metrics = field(results, harness_task, path, where="results", kind=dict)
        for metric in METRICS[task]:
            where = f"results.{harness_task}"
            value = number(field(metrics, metric, path, where=where), path, f"{where}.{metric}")
            se = number(field(metrics, metric + "_stderr", path, where=where), path, f"{where}.{metric}_stderr")
            if not 0.0 <= value <= 1.0:
                raise InputError(path, f"{metric} {value} outside [0, 1]", field=f"{where}.{metric}")
            if se < 0:
                raise InputError(path, f"negative standard error {se}", field=f"{where}.{metric}_stderr")
            rows.append({"model": model_id(size, step), "task": task, "metric": metric, "value": value,
                         "stderr": se, "shots": shots})
    unknown = sorted(set(results) - set(HARNESS_TASK))
    if unknown:
        raise InputError(path, f"unexpected task {unknown[0]!r}", field=f"results.{unknown[0]}")
    return shots, rows


def _check_tsv(path: Path, scores: pd.DataFrame) -> None:
    """Every row of all_results.tsv must equal the JSON file of its run (the upstream script derived it)."""
    lookup = {(r.model, r.task, r.metric): (r.value, r.stderr) for r in scores.itertuples()}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            missing = [c for c in TSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, "missing column", row=1, field=missing[0], where="line")
            seen = 0
            for row in reader:
                line = reader.line_num
                name, rev = row["ModelName"] or "", row["ModelRevision"] or ""
                size = name.removeprefix("EleutherAI/pythia-")
                if not name.startswith("EleutherAI/pythia-") or size not in PYTHIA_PARAMS:
                    raise InputError(path, f"unknown model {name!r}", row=line, field="ModelName", where="line")
                if not re.fullmatch(r"step\d+", rev):
                    raise InputError(path, f"revision {rev!r} is not step<N>", row=line, field="ModelRevision",
                                     where="line")
                if row["Task"] not in TSV_TASK:
                    raise InputError(path, f"unknown task {row['Task']!r}", row=line, field="Task", where="line")
                task, metric = TSV_TASK[row["Task"]]
                key = (model_id(size, int(rev[4:])), task, metric)
                if key not in lookup:
                    raise InputError(path, f"no JSON result for {key[0]}", row=line, field="ModelRevision",
                                     where="line")
                for col, want in zip(("Accuracy", "Accuracy_SE"), lookup[key], strict=True):
                    try:
                        got = float(row[col])
                    except (TypeError, ValueError):
                        raise InputError(path, f"not a number: {row[col]!r}", row=line, field=col,
                                         where="line") from None
                    # The upstream script printed the JSON's values with 15 significant digits.
                    if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                        raise InputError(path, f"{got!r} differs from the JSON file's {want!r}", row=line,
                                         field=col, where="line")
                seen += 1
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    if seen == 0:
        raise InputError(path, "no rows")


def read_folder(folder: Path) -> Tables:
    results = _results_dir(folder)
    files = sorted(p for p in results.glob("*.json"))
    if not files:
        raise InputError(results, "no result files (pythia-<size>_step<N>.json)")
    model_rows, score_rows, settings = [], [], set()
    for path in files:
        m = _FILE.match(path.name)
        if m is None:
            raise InputError(path, "file name is not pythia-<size>_step<N>.json")
        size, step = m.group("size"), int(m.group("step"))
        if size not in PYTHIA_PARAMS:
            raise InputError(path, f"unknown Pythia size {size!r} (known: {', '.join(PYTHIA_PARAMS)})")
        if step <= 0:
            raise InputError(path, "step 0 is the untrained model: no tokens to place it on a scale axis")
        shots, rows = _read_run(path, size, step)
        settings.add(shots)
        model_rows.append(model_row(size, step))
        score_rows += rows
    scores = pd.DataFrame(score_rows)
    scores["n_examples"] = scores["task"].map(N_EXAMPLES).astype(float)
    scores["chance"] = np.where(scores["task"].isin(PRIZE_TASKS), PRIZE_CHANCE, np.nan)
    scores["higher_is_better"], scores["variant"] = True, ""
    tsv = results / "all_results.tsv"
    if tsv.exists():
        _check_tsv(tsv, scores)
    tasks = tasks_table()
    if len(settings) == 1:
        tasks["shots"] = settings.pop()
    return build_tables(pd.DataFrame(model_rows), scores, tasks, origin=str(folder))


# --- The built-in copy --------------------------------------------------------------------------------------
# One compact numeric table: size, step, task, metric, value, stderr, shots. Everything else (the models table,
# n_examples, chance, the tasks table) follows from the constants above.
BUILTIN_FILE = "michaelov2023_scores.csv"
_BUILTIN_COLUMNS = ["size", "step", "task", "metric", "value", "stderr", "shots"]


def builtin_table_from(tables: Tables) -> pd.DataFrame:
    """The compact numeric form that ships in the package: figures and ids only, no text."""
    m = tables.models.set_index("model")
    s = tables.scores.assign(size=lambda d: d["model"].map(m["size"]), step=lambda d: d["model"].map(m["step"]))
    return s[_BUILTIN_COLUMNS].reset_index(drop=True)


def read_builtin() -> Tables:
    s = read_builtin_csv(BUILTIN_FILE, {"size": "string", "task": "string", "metric": "string"})
    pairs = s[["size", "step"]].drop_duplicates()
    models = pd.DataFrame([model_row(str(r.size), int(r.step)) for r in pairs.itertuples()])
    scores = s.assign(model=[model_id(str(a), int(b)) for a, b in zip(s["size"], s["step"], strict=True)])
    scores = scores.drop(columns=["size", "step"])
    scores["n_examples"] = scores["task"].map(N_EXAMPLES).astype(float)
    scores["chance"] = np.where(scores["task"].isin(PRIZE_TASKS), PRIZE_CHANCE, np.nan)
    scores["higher_is_better"], scores["variant"] = True, ""
    return build_tables(models, scores, tasks_table(), origin="scalecheck built-in michaelov2023")


register(Source(
    name=NAME,
    description="Michaelov & Bergen 2023: 8 Pythia models (70M-12B) x 8 checkpoints (4B-300B tokens), zero-shot, "
                "on 10 Inverse Scaling Prize tasks and TruthfulQA-MC (acc, acc_norm with standard errors)",
    reader=read_folder,
    expects="folder",
    shared_folder="emergent_inabilities",
    builtin=read_builtin,
))
