"""A plan of work (models x tasks x settings) and what one worker does with one model of it.

This module is what every executor's worker imports to score: it must stay light (no torch, ray or pandas at
import time; the backend imports torch only when a model is loaded).

Scoring is model-major: a model is loaded once and scores every pending (task, setting) of the plan. Within a
(task, setting), examples go in chunks fixed by the task and setting alone (longest prompt first, then row), not
by what is already done, so a resumed run, or a worker restarted after a crash, batches every example exactly as
an uninterrupted run would: the log-probabilities are the same to the last bit whatever executor ran them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .tasks import BLANK_LINE_SEPARATOR, FEWSHOT_SEPARATOR, Task

# Record = (example index, {"class_logprobs": [...], "other_class_logprobs": [...]}), as the store keeps it.
Record = tuple[int, dict]


def escape_separator(sep: str) -> str:
    """A separator as one printable token: newlines and tabs as \\n and \\t."""
    return sep.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def unescape_separator(text: str) -> str:
    """The inverse of :func:`escape_separator` (only \\n, \\t, \\r and \\\\ are escapes; nothing is evaluated)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "ntr\\":
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Setting:
    """How a task is posed: demonstrations in front of each prompt, their seed and separator.

    The default separator is the Prize's three newlines (see :mod:`.tasks`); the separator is part of the
    results key, so results under another separator are other work, never served from the store.
    """

    shots: int = 0
    seed: int = 0
    separator: str = FEWSHOT_SEPARATOR

    def key(self, task: Task) -> str:
        # A 0-shot prompt has no separator (and its seed draws nothing): one key whatever they are.
        seed, sep = (self.seed, self.separator) if self.shots > 0 else (0, None)
        return json.dumps({"format": task.format, "shots": self.shots, "seed": seed, "separator": sep},
                          sort_keys=True)

    @property
    def variant(self) -> str:
        """What tells this setting apart in a testbed beside its shot count ("" for the defaults)."""
        parts = []
        if self.seed != 0 and self.shots > 0:
            parts.append(f"seed={self.seed}")
        # 0-shot prompts have no separator: they are the same whatever it is.
        if self.shots > 0 and self.separator != FEWSHOT_SEPARATOR:
            parts.append(f"sep={escape_separator(self.separator)}")
        return ",".join(parts)

    @property
    def label(self) -> str:
        """A short file-name-safe label: "5shot", "5shot_seed=1", "5shot_sep=blank"."""
        v = self.variant.replace(f"sep={escape_separator(BLANK_LINE_SEPARATOR)}", "sep=blank")
        return f"{self.shots}shot" + (f"_{v}" if v else "")


@dataclass(frozen=True)
class Work:
    """One (task, setting) of the plan that a model still has to score, and the examples already done."""

    task: int
    setting: int
    done: frozenset[int] = frozenset()


def requests(task: Task, setting: Setting) -> list[list[tuple[str, str]]]:
    """Per example: its (context, continuation) pairs, the prompt's classes then the other prompt's."""
    out = []
    for ex in task.examples:
        prompt, other = task.prompts(ex, setting.shots, setting.seed, setting.separator)
        pairs = [(prompt, c) for c in ex.classes]
        if other is not None:
            pairs += [(other, c) for c in ex.classes]
        out.append(pairs)
    return out


def _record(task: Task, i: int, logprobs: list[float]) -> dict:
    n = len(task.examples[i].classes)
    rec = {"class_logprobs": logprobs[:n]}
    if len(logprobs) > n:
        rec["other_class_logprobs"] = logprobs[n:]
    return rec


# Per example of a (task, setting): its requests as token ids, (context ids, continuation ids) per pair.
Encoded = list[list[tuple[tuple[int, ...], tuple[int, ...]]]]


def encode(encoder, task: Task, setting: Setting) -> Encoded:
    """Every example's requests of a task at a setting, tokenised by ``encoder`` (a backend or an Encoder)."""
    pairs = requests(task, setting)
    encoded = encoder.encode_pairs([p for ps in pairs for p in ps])
    per_ex, k = [], 0
    for ps in pairs:
        per_ex.append(encoded[k:k + len(ps)])
        k += len(ps)
    return per_ex


class EncodingCache:
    """The plan's token ids, computed once per tokenizer (by fingerprint), task and setting, and shared by
    every model with that tokenizer: a ladder's models usually share one, and tokenising a suite takes
    seconds per model on a CPU (a tenth of a tiny model's scoring). One cache serves one run of a plan; safe
    to fill from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict = {}
        self._done: dict = {}

    def get(self, encoder, tasks: Sequence[Task], settings: Sequence[Setting],
            work: Sequence[Work]) -> dict[tuple[int, int], Encoded]:
        """``{(task, setting): Encoded}`` for every item of ``work``."""
        fp = encoder.fingerprint()
        out = {}
        for w in work:
            key = (fp, w.task, w.setting)  # one cache per run of a plan: indices name its tasks and settings
            with self._lock:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:  # one thread encodes a key; the others wait for it
                if key not in self._done:
                    self._done[key] = encode(encoder, tasks[w.task], settings[w.setting])
            out[(w.task, w.setting)] = self._done[key]
        return out


def score(backend, tasks: Sequence[Task], settings: Sequence[Setting], work: Sequence[Work],
          chunk: int, encoded: dict[tuple[int, int], Encoded] | None = None
          ) -> Iterator[tuple[int, int, list[Record]]]:
    """Score a loaded model's pending work; yield ``(task, setting, records)`` per chunk as it finishes.

    ``encoded``: the work's token ids, tokenised by the driver with this model's tokenizer (else the backend
    tokenises here)."""
    for w in work:
        task, setting = tasks[w.task], settings[w.setting]
        per_ex = encoded[(w.task, w.setting)] if encoded is not None and (w.task, w.setting) in encoded \
            else encode(backend, task, setting)
        n = len(task)
        order = sorted(range(n), key=lambda i: (-max(len(c) + len(t) for c, t in per_ex[i]), i))
        for j in range(0, n, chunk):
            todo = [i for i in order[j:j + chunk] if i not in w.done]
            if not todo:
                continue
            lps = backend.loglikelihoods([r for i in todo for r in per_ex[i]])
            recs, k = [], 0
            for i in todo:
                recs.append((i, _record(task, i, lps[k:k + len(per_ex[i])])))
                k += len(per_ex[i])
            yield w.task, w.setting, recs
