"""Pythia (Biderman et al. 2023): EleutherAI's lm-evaluation-harness v0.3 results for every checkpoint.

Reads the ``evals`` folder of github.com/EleutherAI/pythia (the shared copy is ``pythia_evals``)::

    pythia-v1/pythia-<size>[-deduped]/zero-shot/<size>[-deduped]_step<N>.json
    pythia-v1/pythia-<size>[-deduped]/five-shot/<size>[-deduped]-5shot_step<N>.json
    pythia-v1/pythia-<size>-<k>MtokBS/[five-shot/]<size>-<k>MtokBS_step<N>.json     (batch-size variants)
    opt/opt-<size>.json, bloom/bloom-<size>.json                                       (final checkpoints)

One model row per checkpoint (``pythia-1.4b-deduped@step143000``, run ``pythia-1.4b-deduped``); a zero-shot
and a five-shot file of the same checkpoint give the same model scores at two settings (``shots``).
The path may be the whole folder, ``pythia-v1``, one model's folder, or ``opt``/``bloom``. Other sub-folders
of a model's folder (the upstream ``baseline/`` and ``intervention/`` of a pronoun-intervention case study,
not about scaling) are not read.

What is checked: the checkpoint in the file name against ``config.model_args`` (``revision=step<N>``), the
model in ``model_args`` against its folder, the shots of the folder (``zero-shot``/``five-shot``) against
``config.num_fewshot``, every value a finite number, accuracies in [0, 1], and no checkpoint twice.
Four files in ``pythia-1b-bf16/zero-shot`` are named ``1b-bf16-5shot_step<N>.json`` although their folder and
``num_fewshot`` both say zero-shot; the file-name tag is therefore not used for the setting.

Scale metadata is not in the files; it comes from the tables below (the suite's README and paper).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import LOSS_PREFIX, Tables, build_tables
from ._readers import field, number, read_json
from ._tasks import ACCURACY_METRICS, PROPORTION_METRICS, task_chance
from .registry import Source, register

NAME = "pythia"

# Total and non-embedding parameters (Pythia README / paper Table 1 / model cards), by size label.
PYTHIA_PARAMS: dict[str, tuple[int, int]] = {
    "70m": (70_426_624, 18_915_328),
    "160m": (162_322_944, 85_056_000),
    "410m": (405_334_016, 302_311_424),
    "1b": (1_011_781_632, 805_736_448),
    "1.4b": (1_414_647_808, 1_208_602_624),
    "2.8b": (2_775_208_960, 2_517_652_480),
    "6.9b": (6_857_302_016, 6_444_163_072),
    "12b": (11_846_072_320, 11_327_027_200),
}
# The standard suite sees 1024 sequences of 2048 tokens per step; the batch-size variants fewer, so that
# every run ends near 300B tokens.
TOKENS_PER_STEP = 2_097_152
VARIANT_TOKENS_PER_STEP = {"0.25MtokBS": 262_144, "0.5MtokBS": 524_288, "1MtokBS": 1_048_576}

# OPT and BLOOM baselines: the sizes their papers publish (OPT Table 1, BLOOM Table 3), which are rounded
# totals, not exact counts. Training tokens as the ObsScaling table (Ruan et al. 2024, base_llm_benchmark_eval)
# records them: 180B for every OPT size, 341B for the BLOOM sizes up to 7b1 (the 176B saw 366B).
BASELINE_PARAMS: dict[str, float] = {
    "opt-125m": 125e6, "opt-350m": 350e6, "opt-1.3b": 1.3e9, "opt-2.7b": 2.7e9, "opt-6.7b": 6.7e9,
    "opt-13b": 13e9, "opt-30b": 30e9, "opt-66b": 66e9,
    "bloom-560m": 560e6, "bloom-1b1": 1.1e9, "bloom-1b7": 1.7e9, "bloom-3b": 3e9, "bloom-7b1": 7.1e9,
}
BASELINE_TOKENS = {"opt": 180e9, "bloom": 341e9}
# The BLOOM paper names its corpus (ROOTS); the OPT paper describes a mix it does not name.
BASELINE_CORPUS = {"bloom": "roots", "opt": None}

# Chance levels (see _tasks.py): MMLU subjects are four-way; the crows_pairs bias measures have none.
# Lower is better for perplexity and for the crows_pairs likelihood difference (a bias: ideally 0);
# pct_stereotype's ideal is 0.5, so it has no direction.
HIGHER_IS_BETTER = {"acc": True, "acc_norm": True, "ppl": False, "likelihood_difference": False,
                    "pct_stereotype": None}

# The files hold no validation loss; the zero-shot lambada_openai perplexity is the harness's exp(mean NLL
# of the passage's last word), so its log is a held-out loss in nats (PROVENANCE.md suggests it). It becomes
# loss_lambada_openai (zero-shot files only, so that one setting defines the axis; NaN elsewhere).
LOSS_TASK = "lambada_openai"

SHOTS_FOLDERS = {"zero-shot": 0, "five-shot": 5}
_FILE = re.compile(r"^(?P<size>\d+(?:\.\d+)?[mb])(?P<tags>(?:-[A-Za-z0-9.]+)*)_step(?P<step>\d+)\.json$")
_RUN = re.compile(r"^pythia-(?P<size>\d+(?:\.\d+)?[mb])(?:-(?P<variant>deduped|bf16|\d+(?:\.\d+)?MtokBS))?$")
_REVISION = re.compile(r"(?:^|,)revision=step(\d+)(?:,|$)")
_PRETRAINED = re.compile(r"(?:^|,)pretrained=([^,]+)")


def parse_checkpoint_file(name: str) -> tuple[str, tuple[str, ...], int] | None:
    """``"1.4b-deduped-5shot_step93000.json"`` -> ``("1.4b", ("deduped", "5shot"), 93000)``; None if not one."""
    m = _FILE.match(name)
    if m is None:
        return None
    tags = tuple(t for t in m.group("tags").split("-") if t)
    return m.group("size"), tags, int(m.group("step"))


def parse_run(folder_name: str) -> tuple[str, str | None] | None:
    """``"pythia-410m-0.5MtokBS"`` -> ``("410m", "0.5MtokBS")``; None if the name is not a Pythia run."""
    m = _RUN.match(folder_name)
    return None if m is None else (m.group("size"), m.group("variant"))


def run_metadata(folder_name: str) -> dict:
    """The models-table columns shared by every checkpoint of a Pythia run (all but step, tokens, flops)."""
    parsed = parse_run(folder_name)
    if parsed is None or parsed[0] not in PYTHIA_PARAMS:
        raise ValueError(folder_name)
    size, variant = parsed
    # pythia-1b-bf16 *is* the standard pythia-1b (its README: trained in bf16); name it so.
    run = f"pythia-{size}" if variant in (None, "bf16") else folder_name
    params, nonembed = PYTHIA_PARAMS[size]
    return {
        "run": run, "family": "pythia", "size": size, "params": float(params), "params_nonembed": float(nonembed),
        # Runs without "-deduped" (the batch-size variants included) are trained on the standard Pile.
        "corpus": "pile-deduped" if variant == "deduped" else "pile",
        "tokens_per_step": VARIANT_TOKENS_PER_STEP.get(variant or "", TOKENS_PER_STEP),
    }


class _Collector:
    """Accumulates model and score rows column-wise (fast for ~10^5 scores) and checks duplicates."""

    def __init__(self) -> None:
        self.models: dict[str, dict] = {}
        self.scores: dict[str, list] = defaultdict(list)
        self.seen: dict[tuple, Path] = {}
        # (task, n) estimates from acc and its standard error, see _n_from_stderr.
        self.n_estimates: dict[str, Counter] = defaultdict(Counter)

    def add_file(self, path: Path, d: dict, model: str, model_row: dict, shots_folder: int | None) -> None:
        config = field(d, "config", path, kind=dict)
        shots = field(config, "num_fewshot", path, where="config", kind=int)
        if shots_folder is not None and shots != shots_folder:
            raise InputError(path, f"num_fewshot is {shots} but the file is in the "
                             f"{'zero' if shots_folder == 0 else 'five'}-shot folder", field="config.num_fewshot")
        key = (model, shots)
        if key in self.seen:
            raise InputError(path, f"checkpoint {model!r} at {shots} shots is also in {self.seen[key]}")
        self.seen[key] = path
        results = field(d, "results", path, kind=dict)
        if not results:
            raise InputError(path, "no results", field="results")
        if model not in self.models:
            self.models[model] = model_row
        lam = results.get(LOSS_TASK)
        if shots == 0 and isinstance(lam, dict) and "ppl" in lam:
            ppl = number(lam["ppl"], path, f"results.{LOSS_TASK}.ppl")
            if ppl <= 0:
                raise InputError(path, f"perplexity {ppl} is not positive", field=f"results.{LOSS_TASK}.ppl")
            self.models[model][LOSS_PREFIX + LOSS_TASK] = math.log(ppl)
        cols = self.scores
        for task, metrics in results.items():
            where = f"results.{task}"
            if not isinstance(metrics, dict) or not metrics:
                raise InputError(path, "expected a mapping of metric to value", field=where)
            for metric, raw in metrics.items():
                if metric.endswith("_stderr"):
                    if metric[: -len("_stderr")] not in metrics:
                        raise InputError(path, "a standard error without its metric", field=f"{where}.{metric}")
                    continue
                value = number(raw, path, f"{where}.{metric}")
                se_key = metric + "_stderr"
                stderr = number(metrics[se_key], path, f"{where}.{se_key}") if se_key in metrics else np.nan
                if stderr < 0:
                    raise InputError(path, f"negative standard error {stderr}", field=f"{where}.{se_key}")
                if metric in ACCURACY_METRICS or metric == "pct_stereotype":
                    if not 0.0 <= value <= 1.0:
                        raise InputError(path, f"{metric} {value} outside [0, 1]", field=f"{where}.{metric}")
                    n = _n_from_stderr(value, stderr)
                    if n is not None:
                        self.n_estimates[task][n] += 1
                elif metric == "ppl" and value <= 0:
                    raise InputError(path, f"perplexity {value} is not positive", field=f"{where}.{metric}")
                chance = task_chance(task) if metric in ACCURACY_METRICS else None
                cols["model"].append(model)
                cols["task"].append(task)
                cols["metric"].append(metric)
                cols["value"].append(value)
                cols["stderr"].append(stderr)
                cols["chance"].append(np.nan if chance is None else chance)
                cols["higher_is_better"].append(HIGHER_IS_BETTER.get(metric))
                cols["shots"].append(shots)

    def tables(self, origin: str) -> Tables:
        if not self.models:
            raise InputError(origin, "no evaluation files found")
        scores = pd.DataFrame(self.scores)
        scores["variant"] = ""
        # The harness's standard error of a mean of 0/1 outcomes is sqrt(p(1-p)/(n-1)); inverting it on
        # any file gives the task's number of examples exactly (piqa 1838, winogrande 1267, ...).
        n_by_task = {t: c.most_common(1)[0][0] for t, c in self.n_estimates.items()}
        scores["n_examples"] = scores["task"].map(n_by_task).astype("float64").where(
            scores["metric"].isin(PROPORTION_METRICS))
        scores["higher_is_better"] = scores["higher_is_better"].astype("boolean")
        models = pd.DataFrame(list(self.models.values()))
        return build_tables(models, scores, _tasks_table(scores, n_by_task), origin=origin)


def _tasks_table(scores: pd.DataFrame, n_by_task: dict[str, int]) -> pd.DataFrame:
    rows = []
    for task, sub in scores.groupby("task", sort=True):
        metrics = set(sub["metric"])
        # The primary metric: accuracy where the task has one, else the bias measure.
        metric = "acc" if "acc" in metrics else sorted(metrics)[0]
        first = sub[sub["metric"] == metric].iloc[0]
        n = n_by_task.get(task, np.nan)
        kind = ("language modeling" if task == "lambada_openai" else
                "bias" if task.startswith("crows_pairs") else "multiple choice")
        rows.append({"task": task, "metric": metric, "chance": first["chance"], "n_examples": n,
                     "shots": int(sub["shots"].min()), "task_type": kind})
    return pd.DataFrame(rows)


def _n_from_stderr(p: float, se: float) -> int | None:
    if not (se > 0 and 0 < p < 1):
        return None
    n = p * (1 - p) / se**2 + 1
    return int(round(n)) if abs(n - round(n)) < 0.05 else None


def _read_run(folder: Path, out: _Collector) -> None:
    try:
        meta = run_metadata(folder.name)
    except ValueError:
        raise InputError(folder, "not a Pythia run folder (expected pythia-<size>[-deduped|-<k>MtokBS], "
                         f"size one of {', '.join(PYTHIA_PARAMS)})") from None
    size = meta["size"]
    files: list[tuple[Path, int | None]] = []
    for sub, shots in SHOTS_FOLDERS.items():
        files += [(p, shots) for p in sorted((folder / sub).glob("*.json"))]
    # The batch-size variants keep some files directly in the run folder: their setting is num_fewshot's.
    files += [(p, None) for p in sorted(folder.glob("*.json"))]
    if not files:
        raise InputError(folder, "no evaluation files (expected zero-shot/*.json or five-shot/*.json)")
    tokens_per_step = meta.pop("tokens_per_step")
    for path, shots in files:
        parsed = parse_checkpoint_file(path.name)
        if parsed is None:
            raise InputError(path, "file name is not <size>[-tags]_step<N>.json")
        fsize, _, step = parsed
        if fsize != size:
            raise InputError(path, f"file name says size {fsize} but the folder is {folder.name}")
        d = read_json(path)
        _check_model_args(path, d, folder.name, step)
        model = f"{meta['run']}@step{step}"
        tokens = float(step * tokens_per_step)
        # Step 0 is the untrained initialisation: zero tokens has no place on a log scale, so tokens stay unknown.
        row = {"model": model, "source": NAME, **meta, "step": step, "tokens": tokens if step > 0 else np.nan,
               "holdout": False}
        out.add_file(path, d, model, row, shots)


def _check_model_args(path: Path, d: dict, folder_name: str, step: int) -> None:
    args = field(field(d, "config", path, kind=dict), "model_args", path, where="config", kind=str)
    rev = _REVISION.search(args)
    if rev is None or int(rev.group(1)) != step:
        raise InputError(path, f"model_args {args!r} does not name revision step{step} (the file name's)",
                         field="config.model_args")
    pre = _PRETRAINED.search(args)
    # pretrained=EleutherAI/pythia-v1.1-1.4b-deduped for the folder pythia-1.4b-deduped.
    want = folder_name.removeprefix("pythia-")
    if pre is None or not pre.group(1).endswith(f"pythia-v1.1-{want}"):
        raise InputError(path, f"model_args {args!r} is not the model of folder {folder_name}",
                         field="config.model_args")


def _read_baselines(folder: Path, out: _Collector) -> None:
    family = folder.name
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(folder, f"no {family} evaluation files (*.json)")
    for path in files:
        name = path.stem
        if name not in BASELINE_PARAMS or not name.startswith(family + "-"):
            raise InputError(path, f"unknown {family} model {name!r} (known: "
                             f"{', '.join(k for k in BASELINE_PARAMS if k.startswith(family))})")
        d = read_json(path)
        args = field(field(d, "config", path, kind=dict), "model_args", path, where="config", kind=str)
        pre = _PRETRAINED.search(args)
        if pre is None or pre.group(1).rsplit("/", 1)[-1] != name:
            raise InputError(path, f"model_args {args!r} is not {name}", field="config.model_args")
        row = {"model": name, "source": NAME, "family": family, "corpus": BASELINE_CORPUS[family],
               "size": name.split("-", 1)[1], "params": BASELINE_PARAMS[name], "tokens": BASELINE_TOKENS[family],
               "holdout": False}
        out.add_file(path, d, name, row, None)


def read_folder(path: Path) -> Tables:
    out = _Collector()
    v1, baselines = path / "pythia-v1", [path / "opt", path / "bloom"]
    if v1.is_dir() or any(b.is_dir() for b in baselines):
        runs = sorted(p for p in v1.iterdir() if p.is_dir()) if v1.is_dir() else []
        for run in runs:
            _read_run(run, out)
        for b in baselines:
            if b.is_dir():
                _read_baselines(b, out)
    elif parse_run(path.name) is not None:
        _read_run(path, out)
    elif path.name in ("opt", "bloom"):
        _read_baselines(path, out)
    elif any(parse_run(p.name) for p in path.iterdir() if p.is_dir()):
        for run in sorted(p for p in path.iterdir() if p.is_dir()):
            _read_run(run, out)
    else:
        raise InputError(path, "not a Pythia evals folder (expected pythia-v1/, opt/, bloom/, or a "
                         "pythia-<size> folder of zero-shot/ and five-shot/ results)")
    return out.tables(str(path))


register(Source(
    name=NAME,
    description="Pythia (Biderman et al. 2023): lm-eval v0.3 results of 16 models + 5 batch-size variants at "
                "up to 27 checkpoints each (zero- and five-shot), with OPT and BLOOM baselines",
    reader=read_folder,
    expects="folder",
    shared_folder="pythia_evals",
))
