"""Inverse Scaling Prize task files: the four formats, read and validated row by row.

A task file is CSV (with a header) or JSON lines, one example per row, in one of the Prize's formats
(McKenzie et al. 2023, "Inverse Scaling: When Bigger Isn't Better", and the Prize's evaluation pipeline):

=================  =====================================================  =========================================
format             columns                                                metrics
=================  =====================================================  =========================================
classification     prompt, classes, answer_index                           loss (-log p of the correct class,
                                                                           renormalised over the classes), accuracy,
                                                                           class_mass (probability on the classes)
sequence_prob      prompt, completion                                      loss = -log p(completion | prompt)
logodds            prompt, other_prompt, classes, answer_index             logodds = logodds(prompt) -
                                                                           logodds(other_prompt) of the answer class
absolute_logodds   prompt, other_prompt, classes, answer_index             absolute_logodds = |the same difference|
=================  =====================================================  =========================================

``classes`` is a list of strings, or (as in the Prize's release) a string holding a Python list literal such as
``"[' A', ' B']"``: it is parsed with :func:`ast.literal_eval`, never ``eval``. Every failure is an
:class:`~scalecheck.errors.InputError` naming the 0-based row of the task file and the field.

Few-shot variants (:meth:`Task.prompts`) prepend ``k`` demonstrations drawn, seeded per example, from the
task's other rows (each demonstration = its prompt followed by its correct class, or its completion), joined
by the setting's separator, then the example's own prompt; an example is never its own demonstration. The
default separator is the Prize's: its data-release README (github.com/inverse-scaling/prize, data-release/) says
the k-shot prompts join the demonstrations and the test prompt with three newlines ("\n\n\n").
lm-evaluation-harness's default ``fewshot_delimiter`` (and scalecheck before 0.2) is a blank line ("\n\n");
``scalecheck evaluate --separator '\n\n'`` reproduces that. The separator is part of the results key.

Several tasks at once (:func:`resolve_tasks`): files, folders of task files, or the Prize's task names
(:data:`PRIZE_TASKS`), resolved from a local folder holding the release files or, online, from the Hugging
Face dataset that mirrors the release (:func:`hub_task_file`; each download is checked against the release's
SHA-256).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ScalecheckError, close_matches

FORMATS = ("classification", "sequence_prob", "logodds", "absolute_logodds")
_COLUMNS = {
    "classification": ("prompt", "classes", "answer_index"),
    "sequence_prob": ("prompt", "completion"),
    "logodds": ("prompt", "other_prompt", "classes", "answer_index"),
    "absolute_logodds": ("prompt", "other_prompt", "classes", "answer_index"),
}
# File-name suffixes of the Prize's data release ("memo-trap_classification.jsonl"), stripped for the task name.
_SUFFIXES = {"_classification": "classification", "_sequence-probability": "sequence_prob",
             "_sequence_prob": "sequence_prob", "_absolute-logodds": "absolute_logodds",
             "_absolute_logodds": "absolute_logodds", "_logodds": "logodds"}
# How demonstrations are joined: three newlines, the Prize's data-release README's convention (see the module doc).
FEWSHOT_SEPARATOR = "\n\n\n"
# lm-evaluation-harness's default fewshot_delimiter, a blank line (the separator scalecheck used before).
BLANK_LINE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Example:
    """One row of a task file. ``classes`` is ``(completion,)`` for sequence_prob; ``answer_index`` then 0."""

    index: int
    prompt: str
    classes: tuple[str, ...]
    answer_index: int
    other_prompt: str | None = None

    @property
    def answer(self) -> str:
        return self.classes[self.answer_index]


@dataclass(frozen=True)
class Task:
    """A validated task file: its name, format, examples and the hash of its bytes (the results key)."""

    name: str
    format: str
    examples: tuple[Example, ...]
    content_hash: str
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def metrics(self) -> tuple[str, ...]:
        return {"classification": ("loss", "accuracy", "class_mass"), "sequence_prob": ("loss",),
                "logodds": ("logodds", "loss", "accuracy"),
                "absolute_logodds": ("absolute_logodds", "loss", "accuracy")}[self.format]

    @classmethod
    def read(cls, path: str | Path, *, format: str | None = None, name: str | None = None) -> Task:
        return read_task(path, format=format, name=name)

    def demonstrations(self, index: int, shots: int, seed: int = 0) -> list[int]:
        """The rows shown before example ``index``: ``shots`` others, drawn with a per-example seed.

        Seeding by (seed, index) makes an example's prompt independent of which others are evaluated
        (a resumed run builds exactly the prompts of an uninterrupted one).
        """
        n = len(self.examples)
        if shots < 0:
            raise ValueError("shots must be >= 0")
        if shots == 0:
            return []
        if shots > n - 1:
            raise InputError(self.path, f"{shots} shots need at least {shots + 1} rows; the task has {n}",
                             field="shots")
        rng = np.random.default_rng([seed, index])
        picks = rng.choice(n - 1, size=shots, replace=False)
        return [int(p) + (p >= index) for p in picks]  # skip the example itself

    def prompts(self, example: Example, shots: int = 0, seed: int = 0,
                separator: str = FEWSHOT_SEPARATOR) -> tuple[str, str | None]:
        """The example's prompt (and other_prompt) with ``shots`` demonstrations in front."""
        if shots == 0:
            return example.prompt, example.other_prompt
        demos = [self.examples[j] for j in self.demonstrations(example.index, shots, seed)]
        head = separator.join(d.prompt + d.answer for d in demos) + separator
        other = None if example.other_prompt is None else head + example.other_prompt
        return head + example.prompt, other


def parse_classes(value, path: str | Path | None = None, row: int | None = None) -> tuple[str, ...]:
    """A non-empty list of non-empty strings, given as a list or a string holding a Python list literal."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            raise InputError(path, f"expected a list literal such as \"[' A', ' B']\", got {_short(value)}",
                             row=row, field="classes")
        try:
            # literal_eval evaluates literals only: no names, calls or attribute access can run.
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise InputError(path, f"not a Python list literal: {_short(text)}", row=row,
                             field="classes") from None
    if not isinstance(value, (list, tuple)):
        raise InputError(path, f"expected a list of strings, got {type(value).__name__}", row=row, field="classes")
    if not value:
        raise InputError(path, "empty class list", row=row, field="classes")
    for i, c in enumerate(value):
        if not isinstance(c, str):
            raise InputError(path, f"class {i} is {type(c).__name__}, not a string", row=row, field="classes")
        if not c:
            raise InputError(path, f"class {i} is an empty string", row=row, field="classes")
    return tuple(value)


def _short(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _answer_index(value, n_classes: int, path, row: int) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InputError(path, f"expected an integer, got {_short(value)}", row=row,
                             field="answer_index") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(path, f"expected an integer, got {_short(value)}", row=row, field="answer_index")
    if not 0 <= value < n_classes:
        raise InputError(path, f"answer_index {value} out of range for {n_classes} classes", row=row,
                         field="answer_index")
    return value


def _text(record: dict, key: str, path, row: int, *, allow_empty: bool = True) -> str:
    if key not in record or record[key] is None:
        raise InputError(path, "missing", row=row, field=key)
    v = record[key]
    if not isinstance(v, str):
        raise InputError(path, f"expected text, got {type(v).__name__}", row=row, field=key)
    if not allow_empty and not v:
        raise InputError(path, "empty", row=row, field=key)
    return v


def _records(path: Path, data: bytes) -> list[dict]:
    """The file's rows as dicts; a row that is not UTF-8 or not well-formed is named by its 0-based index."""
    lines = data.split(b"\n")
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        out = []
        for i, raw in enumerate(ln for ln in lines if ln.strip()):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(path, f"not UTF-8 text (byte {exc.start} of the row)", row=i) from None
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(path, f"malformed JSON ({exc.msg})", row=i) from None
            if not isinstance(obj, dict):
                raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", row=i)
            out.append(obj)
        return out
    if path.suffix.lower() in (".csv", ".tsv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # Name the CSV row: the number of line breaks before the bad byte, less the header line.
            line = data[:exc.start].count(b"\n")
            raise InputError(path, f"not UTF-8 text (byte {exc.start})", row=max(line - 1, 0)) from None
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise InputError(path, f"malformed CSV ({exc})", row=max(reader.line_num - 2, 0)) from None
        # pandas writes an unnamed index column; it carries nothing.
        return [{k: v for k, v in r.items() if k not in ("", None)} for r in rows]
    raise InputError(path, f"unsupported task file type {path.suffix!r} (expected .jsonl or .csv)")


def detect_format(path: Path, first: dict) -> str:
    stem = path.stem.lower()
    for suffix, fmt in _SUFFIXES.items():
        if stem.endswith(suffix):
            return fmt
    if "other_prompt" in first:
        return "logodds"
    if "completion" in first:
        return "sequence_prob"
    return "classification"


def task_name(path: Path) -> str:
    stem = path.stem
    for suffix in _SUFFIXES:
        if stem.lower().endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def read_task(path: str | Path, *, format: str | None = None, name: str | None = None) -> Task:
    """Read and validate a task file; the format is taken from the file name or the columns unless given."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such task file")
    data = path.read_bytes()
    records = _records(path, data)
    if not records:
        raise InputError(path, "no rows")
    fmt = format or detect_format(path, records[0])
    if fmt not in FORMATS:
        raise InputError(path, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="format")
    examples = []
    for i, rec in enumerate(records):
        for col in _COLUMNS[fmt]:
            if col not in rec or rec[col] is None:
                raise InputError(path, f"missing (a {fmt} task needs {', '.join(_COLUMNS[fmt])})", row=i, field=col)
        prompt = _text(rec, "prompt", path, i)
        if fmt == "sequence_prob":
            classes, answer = (_text(rec, "completion", path, i, allow_empty=False),), 0
            other = None
        else:
            classes = parse_classes(rec["classes"], path, i)
            answer = _answer_index(rec["answer_index"], len(classes), path, i)
            other = _text(rec, "other_prompt", path, i) if fmt in ("logodds", "absolute_logodds") else None
            if fmt != "classification" and len(classes) < 2:
                raise InputError(path, f"a {fmt} task needs at least 2 classes", row=i, field="classes")
        examples.append(Example(i, prompt, classes, answer, other))
    digest = hashlib.sha256(data).hexdigest()
    return Task(name or task_name(path), fmt, tuple(examples), digest, path)


# --- several tasks: files, folders and the Prize's task names ----------------------------------------------

# The 11 winning tasks of the Prize's data release (McKenzie et al. 2023, Table 1): file name and SHA-256
# (from the release's Git-LFS pointers; see ../shared/data/inverse_scaling/PROVENANCE.md).
PRIZE_TASKS: dict[str, tuple[str, str]] = {
    "hindsight-neglect": ("hindsight-neglect_classification.jsonl",
                          "1539e144e20c760cd70980ca012d3d75744b59385bdf78cffc4d02560c4b3686"),
    "into-the-unknown": ("into-the-unknown_classification.jsonl",
                         "74b5e1aca9e4aeedd2b6ce1686d0e5ee9cd380509d65bca37cad1ebebaecf51d"),
    "memo-trap": ("memo-trap_classification.jsonl",
                  "f09aac90bf841f2eb899d23beed8c8ccad2e1d3ab4f0fd3f1ff403fd5c7e11f2"),
    "modus-tollens": ("modus-tollens_classification.jsonl",
                      "fdf82374d7e401902f25303428678d3b540031ec81c7a7078cb3d7f346314a7d"),
    "neqa": ("neqa_classification.jsonl", "50ca9dca517dcd7fcdbb6d7f750fbbdade2142c0ac2da2bd196dc27464b464e6"),
    "pattern-matching-suppression": ("pattern-matching-suppression_classification.jsonl",
                                     "29ff41ccc2592ecd19c8bdf8e632a394314cb7d84d21e668d9060070d95fdad0"),
    "prompt-injection": ("prompt-injection_sequence-probability.jsonl",
                         "0c8e7342a256e5ff53913e83c7477f57d5b776d77fbab2aef473e92054773e21"),
    "redefine": ("redefine_classification.jsonl", "4ca8573039b0f943ea773d258cea3f937a8429cf0f6f0f060c281fd8eb6d5c7c"),
    "repetitive-algebra": ("repetitive-algebra_classification.jsonl",
                           "c2496c285bfef9e8da82dd28026aeb35f834da1c20ea410540c82698526428f3"),
    "resisting-correction": ("resisting-correction_classification.jsonl",
                             "0c2720f095a4272e6b1462fe774704c57db0f124c4b68f35747d76e79e5352f6"),
    "sig-figs": ("sig-figs_classification.jsonl", "19ca4afdd2b5d0fb2608097cf747b5a4105038ea2183750796c8bf57f23e7448"),
}
# The Hugging Face dataset that mirrors the release under the same file names (PROVENANCE.md).
PRIZE_HUB_DATASET = "inverse-scaling-ttc/inverse_scaling_prize"
TASK_SUFFIXES = (".jsonl", ".csv", ".tsv", ".json", ".ndjson")




def hub_task_file(name: str, filename: str, *, repo: str = PRIZE_HUB_DATASET) -> Path:
    """Download one release file of the Prize from the hub (cached by huggingface_hub) and check its SHA-256.

    Needs the network and ``huggingface_hub`` (installed with transformers). The file is looked up by its
    release name at the top of the dataset, else anywhere in it; a copy whose hash differs from the release's
    is refused, so a changed mirror never feeds the results store.
    """
    try:
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:
        raise InputError(name, "fetching a Prize task from the hub needs huggingface_hub "
                               "(pip install 'scalecheck[eval]'); or give --task-dir") from None
    from .hub import cached, check_reachable

    try:  # offline: one line at once, not a minute of retries
        offline = check_reachable(f"{filename}", is_cached=cached(repo, filename, repo_type="dataset"),
                                  fix="give a folder of the release files with --task-dir")
    except ScalecheckError as exc:
        raise InputError(name, str(exc)) from None
    try:
        try:
            local = hf_hub_download(repo, filename, repo_type="dataset", local_files_only=offline)
        except EntryNotFoundError:
            found = [f for f in HfApi().list_repo_files(repo, repo_type="dataset") if f.rsplit("/", 1)[-1] == filename]
            if not found:
                raise InputError(name, f"the hub dataset {repo} holds no {filename}") from None
            local = hf_hub_download(repo, found[0], repo_type="dataset")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001  offline, hub errors: one line, with the way out
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(name, f"cannot fetch {filename} from the hub dataset {repo} ({first}); "
                               "give a folder of the release files with --task-dir") from None
    return Path(local)


def _closest(name: str, known) -> str:
    near = close_matches(name, sorted(known), n=3)
    return f"; closest: {', '.join(near)}" if near else f"; known: {', '.join(sorted(known))}"


def _task_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TASK_SUFFIXES
                  and not p.name.startswith("."))


def resolve_tasks(specs, *, task_dir: str | Path | None = None, loader=None, format: str | None = None) -> list[Task]:
    """Every task of a suite, read and validated before any model is loaded.

    Each spec is a task file, a folder (every .jsonl/.csv file in it), or a task name: one of the Prize's
    (:data:`PRIZE_TASKS`) or a file's task name in ``task_dir``. A name is looked up in ``task_dir`` first,
    then fetched with ``loader(name, release_file)`` (default :func:`hub_task_file`, which needs the network).
    An unknown name is refused with the closest known names. A task named twice is read once.
    """
    local = {}
    if task_dir is not None:
        task_dir = Path(task_dir)
        if not task_dir.is_dir():
            raise InputError(task_dir, "no such task folder")
        local = {task_name(p): p for p in _task_files(task_dir)}
    paths: list[Path] = []
    for spec in specs:
        p = Path(spec).expanduser()
        if p.is_dir():
            files = _task_files(p)
            if not files:
                raise InputError(p, "folder holds no task files (.jsonl or .csv)")
            paths += files
        elif p.is_file():
            paths.append(p)
        elif str(spec) in local:
            paths.append(local[str(spec)])
        elif str(spec) in PRIZE_TASKS:
            filename, digest = PRIZE_TASKS[str(spec)]
            got = Path((loader or hub_task_file)(str(spec), filename))
            if hashlib.sha256(got.read_bytes()).hexdigest() != digest:
                raise InputError(got, f"not the Prize's release file {filename} (its SHA-256 differs)")
            paths.append(got)
        elif p.suffix.lower() in TASK_SUFFIXES or "/" in str(spec) or p.parent != Path("."):
            raise InputError(p, "no such task file or folder")
        else:
            raise ScalecheckError(f"unknown task {str(spec)!r} (not a file, a folder or a Prize task name"
                                  + ("" if task_dir is None else f" in {task_dir}") + ")"
                                  + _closest(str(spec), set(PRIZE_TASKS) | set(local)))
    seen, tasks = set(), []
    for path in paths:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        tasks.append(read_task(path, format=format))
    names = [t.name for t in tasks]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        files = [str(t.path) for t in tasks if t.name == dup]
        raise ScalecheckError(f"two task files have the task name {dup!r} ({', '.join(files)}); "
                              "rename one: task names label the results")
    return tasks
