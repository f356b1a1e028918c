"""lm-evaluation-harness 0.4 output: a user's own runs, straight into a testbed.

``lm_eval --model hf --model_args pretrained=EleutherAI/pythia-160m,revision=step1000 --tasks arc_easy,piqa
--output_path runs/ --log_samples`` writes::

    runs/EleutherAI__pythia-160m/results_2024-05-01T12-00-00.123456.json
    runs/EleutherAI__pythia-160m/samples_arc_easy_2024-05-01T12-00-00.123456.jsonl   (with --log_samples)

Point the importer at ``runs/`` (one sub-folder per model) or at one model's folder. A **ladder file**
(``--ladder ladder.yaml``, or ``ladder.yaml`` inside the folder; see :mod:`scalecheck.sources.ladder_file`) gives
each model its metadata (params, tokens, corpus, losses, step, holdout). A results file is matched to the
ladder model whose ``name`` is the run's folder name or whose ``id``/``path`` is the ``pretrained=`` of
``config.model_args``, at the same ``revision`` (a ladder model without one is the ``main`` revision, so
checkpoints must each be listed with theirs). Without a ladder,
models are named ``<pretrained>[@<revision>]`` and only ``config.model_num_parameters`` is known. Ladder
models without results are left out (a testbed holds evaluated models).

From a results file: each ``results.<task>."<metric>,<filter>"`` becomes a score (metric ``acc``; the filter
becomes the ``variant``, ``""`` for ``none``) with its ``"<metric>_stderr,<filter>"`` (``"N/A"`` counts as
unknown), shots from ``n-shot`` (cross-checked with ``configs.<task>.num_fewshot``), ``n_examples`` from
``n-samples.<task>.effective`` (groups: the sum over ``group_subtasks``), and direction from
``higher_is_better``. A samples file (``samples_<task>_<same timestamp>.jsonl``) is read to count the
documents, to recompute each mean metric (a disagreement beyond 1e-6 is refused), and for multiple-choice
tasks to give the chance level (mean of 1 / number of options). When one model has several results files
(re-runs), each task is taken from the newest file that holds it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import Tables, build_tables
from ._readers import number, read_json, read_json_line, read_lines
from ._tasks import ACCURACY_METRICS, PROPORTION_METRICS, metric_direction, task_chance
from .ladder import Ladder, LadderModel
from .ladder_file import read_ladder
from .registry import Source, register

NAME = "lm-eval"
_TS = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
_RESULTS = re.compile(rf"^results(?:_(?P<ts>{_TS}))?\.json$")
_SAMPLES = re.compile(rf"^samples_(?P<task>.+)_(?P<ts>{_TS})\.jsonl$")
# Keys of a results entry that are not metrics.
_NOT_METRICS = {"alias", "name", "sample_len", "samples", "sample_count"}
_MEAN_TOLERANCE = 1e-6
_OUTPUT_TYPES = {"multiple_choice": "multiple choice", "loglikelihood_rolling": "language modeling",
                 "generate_until": "generation", "loglikelihood": "loglikelihood"}


def parse_metric_key(key: str) -> tuple[str, str, bool] | None:
    """``"acc,none"`` -> ``("acc", "none", False)``; ``"acc_stderr,none"`` -> ``("acc", "none", True)``.

    None for keys that are not ``<metric>,<filter>`` (``alias``, or harness v0.3's bare ``acc``).
    """
    metric, sep, filt = key.partition(",")
    if not metric or not sep or not filt:
        return None
    stderr = metric.endswith("_stderr")
    if stderr:
        metric = metric[: -len("_stderr")]
        if not metric:
            return None
    return metric, filt if sep else "none", stderr


def parse_samples_name(name: str) -> tuple[str, str] | None:
    """``"samples_arc_easy_2024-05-01T12-00-00.123456.jsonl"`` -> ``("arc_easy", "2024-05-01T12-00-00.123456")``."""
    m = _SAMPLES.match(name)
    return None if m is None else (m.group("task"), m.group("ts"))


def parse_model_args(args: str) -> dict[str, str]:
    """``"pretrained=x,revision=step1000,dtype=float"`` -> a dict (values stay text)."""
    out = {}
    for part in args.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@dataclass
class _Result:
    """One task's scores from one results file."""

    path: Path
    timestamp: str
    task: str
    scores: list[dict] = field(default_factory=list)
    shots: int | None = None
    n_examples: float | None = None
    task_type: str | None = None


@dataclass
class _RunFile:
    path: Path
    timestamp: str
    folder: str
    pretrained: str | None
    revision: str | None
    num_parameters: float | None
    results: list[_Result]


def _read_results(path: Path, folder_name: str) -> _RunFile:
    d = read_json(path)
    if not isinstance(d, dict):
        raise InputError(path, "expected a JSON object (an lm-evaluation-harness results file)")
    results = d.get("results")
    if not isinstance(results, dict):
        raise InputError(path, "missing" if results is None else "expected a mapping of task to metrics",
                         field="results")
    if not results:
        raise InputError(path, "no results", field="results")
    config = d.get("config")
    if not isinstance(config, dict):
        raise InputError(path, "missing (is this lm-evaluation-harness 0.4 output?)" if config is None
                         else "expected a mapping", field="config")
    margs, revision, nparams = _model_config(config, path)
    ts = _RESULTS.match(path.name).group("ts") or ""
    meta = {key: _mapping(d, key, path) for key in ("n-shot", "n-samples", "higher_is_better", "configs",
                                                     "group_subtasks")}
    out = [_read_task(path, ts, task, entry, meta) for task, entry in results.items()]
    return _RunFile(path, ts, folder_name, margs.get("pretrained"), revision, nparams, out)


def _model_config(config: dict, path: Path) -> tuple[dict[str, str], str | None, float | None]:
    """The run's model arguments, its revision and its number of parameters (None where unknown)."""
    args = config.get("model_args", "")
    if isinstance(args, dict):  # the Python API records model_args as given, a dict or a string
        margs = {str(k): str(v) for k, v in args.items()}
    elif isinstance(args, str):
        margs = parse_model_args(args)
    else:
        raise InputError(path, f"expected text, got {type(args).__name__}", field="config.model_args")
    revision = margs.get("revision") or (config.get("model_revision") if isinstance(config.get("model_revision"), str)
                                         else None)
    nparams = config.get("model_num_parameters")
    if nparams is not None:
        nparams = number(nparams, path, "config.model_num_parameters")
        if nparams <= 0:
            nparams = None
    return margs, revision, nparams


def _read_task(path: Path, ts: str, task: str, entry, meta: dict[str, dict]) -> _Result:
    """One task's entry of ``results``: its setting and one score per metric and filter."""
    where = f"results.{task}"
    if not isinstance(entry, dict):
        raise InputError(path, "expected a mapping of metric to value", field=where)
    n_shot, configs, subtasks = meta["n-shot"], meta["configs"], meta["group_subtasks"]
    cfg = configs.get(task) if isinstance(configs.get(task), dict) else {}
    shots = _shots(path, task, n_shot, cfg)
    if shots is None:
        shots = _group_shots(task, n_shot, configs, subtasks)
    r = _Result(path, ts, task, shots=shots,
                n_examples=_n_examples(path, task, meta["n-samples"], subtasks),
                task_type=_OUTPUT_TYPES.get(cfg.get("output_type")))
    values, errors = _task_metrics(path, where, entry)
    hib = meta["higher_is_better"]
    directions = hib.get(task) if isinstance(hib.get(task), dict) else {}
    for (metric, filt), v in values.items():
        direction = directions.get(metric, metric_direction(metric))
        if direction is not None and not isinstance(direction, bool):
            raise InputError(path, f"expected true or false, got {direction!r}",
                             field=f"higher_is_better.{task}.{metric}")
        if metric in ACCURACY_METRICS and not 0 <= v <= 1:
            raise InputError(path, f"{metric} {v} outside [0, 1]", field=f"{where}.{metric},{filt}")
        r.scores.append({"task": task, "metric": metric, "variant": "" if filt == "none" else filt,
                         "value": v, "stderr": errors.get((metric, filt), np.nan),
                         "higher_is_better": direction,
                         "chance": task_chance(task) if metric in ACCURACY_METRICS else None})
    return r


def _task_metrics(path: Path, where: str, entry: dict) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """A task's values and standard errors, by (metric, filter)."""
    values: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], float] = {}
    for key, raw in entry.items():
        parsed = parse_metric_key(key)
        if parsed is None:
            if key not in _NOT_METRICS and isinstance(raw, (int, float)) and not isinstance(raw, bool):
                raise InputError(path, "a metric without a filter (\"acc\" rather than \"acc,none\"): "
                                 "lm-evaluation-harness v0.3 output, which this importer does not read",
                                 field=f"{where}.{key}")
            continue
        metric, filt, is_se = parsed
        label = f"{where}.{key}"
        if is_se:
            # Groups without a bootstrap report "N/A"; that is an unknown standard error, not an error.
            se = np.nan if raw in ("N/A", None) else number(raw, path, label)
            if se < 0:
                raise InputError(path, f"negative standard error {se}", field=label)
            errors[(metric, filt)] = se
        else:
            values[(metric, filt)] = number(raw, path, label)
    for (metric, filt) in errors:
        if (metric, filt) not in values:
            raise InputError(path, "a standard error without its metric", field=f"{where}.{metric}_stderr,{filt}")
    if not values:
        raise InputError(path, "no metrics", field=where)
    return values, errors


def _mapping(d: dict, key: str, path: Path) -> dict:
    v = d.get(key, {})
    if not isinstance(v, dict):
        raise InputError(path, f"expected a mapping, got {type(v).__name__}", field=key)
    return v


def _shots(path: Path, task: str, n_shot: dict, cfg: dict) -> int | None:
    a, b = n_shot.get(task), cfg.get("num_fewshot")
    for v, label in ((a, f"n-shot.{task}"), (b, f"configs.{task}.num_fewshot")):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InputError(path, f"expected a count of shots, got {v!r}", field=label)
    if a is not None and b is not None and a != b:
        raise InputError(path, f"n-shot says {a} but the task's config says num_fewshot {b}", field=f"n-shot.{task}")
    return a if a is not None else b


def _group_shots(task: str, n_shot: dict, configs: dict, subtasks: dict, depth: int = 0) -> int | None:
    """A group's setting, where the file gives none: its subtasks' shots if they all agree."""
    subs = subtasks.get(task)
    if not isinstance(subs, list) or not subs or depth >= 10:
        return None
    found = set()
    for sub in subs:
        cfg = configs.get(sub) if isinstance(configs.get(sub), dict) else {}
        v = n_shot.get(sub, cfg.get("num_fewshot"))
        if v is None:
            v = _group_shots(sub, n_shot, configs, subtasks, depth + 1)
        found.add(v if isinstance(v, int) and not isinstance(v, bool) else None)
    return found.pop() if len(found) == 1 and None not in found else None


def _n_examples(path: Path, task: str, n_samples: dict, subtasks: dict, depth: int = 0) -> float | None:
    entry = n_samples.get(task)
    if entry is not None:
        if not isinstance(entry, dict) or "effective" not in entry:
            raise InputError(path, "expected {original, effective}", field=f"n-samples.{task}")
        n = entry["effective"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(path, f"expected a positive count, got {n!r}", field=f"n-samples.{task}.effective")
        return float(n)
    # A group: the examples of its subtasks (groups nest, e.g. mmlu > mmlu_stem > mmlu_physics).
    subs = subtasks.get(task)
    if isinstance(subs, list) and subs and depth < 10:
        ns = [_n_examples(path, s, n_samples, subtasks, depth + 1) for s in subs]
        if all(n is not None for n in ns):
            return float(sum(ns))
    return None


def _read_samples(path: Path) -> dict[str, dict]:
    """Per filter: the number of documents, the mean of each numeric metric, and the mean of 1/options."""
    per_filter: dict[str, dict] = defaultdict(lambda: {"n": 0, "sums": defaultdict(float), "counts":
                                                       defaultdict(int), "inv_options": []})
    seen: set[tuple] = set()
    for i, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        doc = read_json_line(line, path, i)
        key = _sample_key(doc, path, i)
        if key in seen:
            raise InputError(path, f"document {key[0]} appears twice", row=i, field="doc_id", where="line")
        seen.add(key)
        acc = per_filter[key[1]]
        acc["n"] += 1
        for m, v in _sample_metrics(doc, path, i):
            if isinstance(v, bool) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
                v = float(v)
                if not math.isfinite(v):
                    raise InputError(path, f"{v!r} is not a finite number", row=i, field=m, where="line")
                acc["sums"][m] += v
                acc["counts"][m] += 1
            # Corpus-level metrics (bleu, f1 on some tasks) log tuples per document: not a mean, not checked.
        args = doc.get("arguments")
        if isinstance(args, (list, dict)) and len(args) > 0:
            acc["inv_options"].append(1.0 / len(args))
    if not per_filter:
        raise InputError(path, "empty file")
    return per_filter


def _sample_key(doc, path: Path, i: int) -> tuple[int, str]:
    """A samples line's (document id, filter)."""
    if not isinstance(doc, dict):
        raise InputError(path, "expected a JSON object per line", row=i, where="line")
    if "doc_id" not in doc:
        raise InputError(path, "missing", row=i, field="doc_id", where="line")
    doc_id = doc["doc_id"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, int):
        raise InputError(path, f"expected an integer, got {doc_id!r}", row=i, field="doc_id", where="line")
    filt = doc.get("filter", "none")
    if not isinstance(filt, str):
        raise InputError(path, "expected text", row=i, field="filter", where="line")
    return doc_id, filt


def _sample_metrics(doc: dict, path: Path, i: int):
    """A samples line's (metric, value) pairs."""
    # 0.4.3+ list the metric names in "metrics" and store values at top level; older files keep a dict.
    metrics = doc.get("metrics")
    if isinstance(metrics, dict):
        return metrics.items()
    if isinstance(metrics, list):
        if not all(isinstance(m, str) for m in metrics):
            raise InputError(path, "expected a list of metric names", row=i, field="metrics", where="line")
        missing = [m for m in metrics if m not in doc]
        if missing:
            raise InputError(path, "missing (listed in metrics)", row=i, field=missing[0], where="line")
        return ((m, doc[m]) for m in metrics)
    raise InputError(path, "missing" if metrics is None else "expected a list or mapping", row=i,
                     field="metrics", where="line")


def _check_samples(run: _RunFile, folder: Path) -> None:
    """Cross-check each task's scores against its samples file, and fill n_examples and chance from it."""
    if not run.timestamp:
        return
    for r in run.results:
        p = folder / f"samples_{r.task}_{run.timestamp}.jsonl"
        if not p.exists():
            continue
        per_filter = _read_samples(p)
        for s in r.scores:
            filt = s["variant"] or "none"
            if filt not in per_filter:
                continue
            acc = per_filter[filt]
            if r.n_examples is not None and acc["n"] != r.n_examples:
                raise InputError(p, f"{acc['n']} documents, but the results file {run.path.name} says "
                                 f"{int(r.n_examples)} (n-samples.{r.task}.effective)")
            m = s["metric"]
            if acc["counts"].get(m) == acc["n"] and m in ACCURACY_METRICS | {"exact_match"}:
                mean = acc["sums"][m] / acc["n"]
                if abs(mean - s["value"]) > _MEAN_TOLERANCE:
                    raise InputError(p, f"the documents' mean {m} is {mean:.6g} but {run.path.name} reports "
                                     f"{s['value']:.6g}", field=m)
            if m in ACCURACY_METRICS and acc["inv_options"] and r.task_type == "multiple choice":
                s["chance"] = float(np.mean(acc["inv_options"]))
        if r.n_examples is None:
            r.n_examples = float(next(iter(per_filter.values()))["n"])


def _find_runs(path: Path) -> list[tuple[Path, str]]:
    """(results file, run folder name) for a folder of runs or one run's folder."""
    found = [(p, path.name) for p in sorted(path.glob("results*.json")) if _RESULTS.match(p.name)]
    for sub in sorted(p for p in path.iterdir() if p.is_dir()):
        found += [(p, sub.name) for p in sorted(sub.glob("results*.json")) if _RESULTS.match(p.name)]
    if not found:
        raise InputError(path, "no lm-evaluation-harness results (expected <model>/results_<timestamp>.json, "
                         "as `lm_eval --output_path` writes)")
    return found


def _match(run: _RunFile, ladder: Ladder) -> LadderModel:
    def same_location(m: LadderModel) -> bool:
        if run.pretrained is None:
            return False
        if m.id is not None and m.id == run.pretrained:
            return True
        if m.path is not None:
            p = Path(run.pretrained).expanduser()
            return str(m.path) == run.pretrained or (p.is_absolute() and p.resolve() == m.path.resolve())
        return False

    cands = [m for m in ladder.models if m.name == run.folder or m.name == run.pretrained or same_location(m)]
    # A ladder model without a revision is the main one: a run of another revision must be listed as such,
    # so that a checkpoint is never labelled as the final model.
    main = run.revision in (None, "main")
    cands = [m for m in cands if m.revision == run.revision or (m.revision is None and main)]
    what = f"pretrained={run.pretrained}" + (f", revision={run.revision}" if run.revision else "")
    if not cands:
        raise InputError(run.path, f"model ({what}, folder {run.folder}) is not in the ladder {ladder.path}: add it "
                         "(name: the folder, or id/path: the pretrained model)", field="config.model_args")
    if len(cands) > 1:
        raise InputError(run.path, f"model ({what}) matches {len(cands)} ladder models "
                         f"({', '.join(m.name for m in cands)}); give each a revision", field="config.model_args")
    return cands[0]


def read_runs(path: Path, ladder: str | Path | None = None) -> Tables:
    path = Path(path)
    if ladder is None:
        for name in ("ladder.yaml", "ladder.yml"):
            if (path / name).is_file():
                ladder = path / name
                break
    lad = read_ladder(ladder) if ladder is not None else None
    ladder_rows = {} if lad is None else {r["model"]: r for r in lad.models_frame().to_dict("records")}
    runs = []
    for results_path, folder in _find_runs(path):
        run = _read_results(results_path, folder)
        _check_samples(run, results_path.parent)
        runs.append(run)

    # Newest file first, so that each (model, task) keeps the newest run's scores.
    runs.sort(key=lambda r: (r.timestamp, str(r.path)), reverse=True)
    models: dict[str, dict] = {}
    taken: dict[tuple[str, str], Path] = {}
    score_rows, tasks = [], {}
    for run in runs:
        if lad is not None:
            lm = _match(run, lad)
            model_id = lm.name
            row = _ladder_row(lm, ladder_rows[lm.name], run)
        else:
            base = run.pretrained or run.folder
            model_id = base + (f"@{run.revision}" if run.revision and run.revision != "main" else "")
            row = {"model": model_id, "source": NAME, "params": run.num_parameters}
        models.setdefault(model_id, row)
        for r in run.results:
            if (model_id, r.task) in taken:
                continue
            taken[(model_id, r.task)] = run.path
            for s in r.scores:
                n = r.n_examples if s["metric"] in PROPORTION_METRICS else None
                score_rows.append({"model": model_id, **s, "n_examples": n, "shots": r.shots})
            tasks.setdefault(r.task, r)
    scores = pd.DataFrame(score_rows)
    scores["higher_is_better"] = scores["higher_is_better"].astype("boolean")
    scores["shots"] = scores["shots"].astype("Int64")
    for col in ("chance", "n_examples"):
        scores[col] = pd.to_numeric(scores[col]).astype("float64")
    task_rows = []
    for task, r in sorted(tasks.items()):
        metrics = [s["metric"] for s in r.scores]
        metric = "acc" if "acc" in metrics else metrics[0]
        first = next(s for s in r.scores if s["metric"] == metric)
        task_rows.append({"task": task, "metric": metric, "chance": first["chance"], "n_examples": r.n_examples,
                          "shots": r.shots, "task_type": r.task_type})
    return build_tables(pd.DataFrame(list(models.values())), scores, pd.DataFrame(task_rows), origin=str(path))


def _ladder_row(m: LadderModel, row: dict, run: _RunFile) -> dict:
    row = {**row, "source": NAME}
    if m.params is None:
        row["params"] = run.num_parameters
    # Checkpoints of one training run share its hub id (or folder); that names the run.
    row["run"] = (m.id or (m.path.name if m.path else None)) if m.step is not None else None
    return row


register(Source(
    name=NAME,
    description="lm-evaluation-harness 0.4 output (--output_path folders: results_*.json, samples_*.jsonl); "
                "model metadata from a ladder file (--ladder, or ladder.yaml in the folder)",
    reader=read_runs,
    expects="folder",
    options=("ladder",),
))
