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
by a blank line, then the example's own prompt; an example is never its own demonstration.
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

from ..errors import InputError

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
# How demonstrations are joined (a blank line between them, as the Prize's few-shot prompts were built).
FEWSHOT_SEPARATOR = "\n\n"


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
