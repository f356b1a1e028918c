"""Errors that scalecheck reports to a user as one line (the CLI prints them and exits 2), and the one
"did you mean" every unknown name gets (:func:`did_you_mean`, :func:`close_matches`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class ScalecheckError(Exception):
    """Base class: anything the user can fix (bad input, unknown name, missing file)."""


class InputError(ScalecheckError):
    """Bad input data. Names the file, and where known the row and the field.

    ``row`` is whatever locates the record in the file in the file's own terms (a 1-based line of a CSV
    counting the header as line 1, a 0-based JSONL index, a JSON key path); ``where`` says which.
    """

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        *,
        row: int | str | None = None,
        field: str | None = None,
        where: str = "row",
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.field = field
        self.message = message
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if self.row is not None:
            parts.append(f"{self.where} {self.row}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts)


class SelectionError(ScalecheckError):
    """A request that the testbed cannot answer (unknown task, metric or x; ambiguous setting)."""


# How alike a name must be to a known one to be suggested: difflib's own default ratio, the one cutoff every
# "did you mean" uses (a lower one suggests unrelated names for short ones: 'acc' for 'mc1').
CLOSE_CUTOFF = 0.6


def close_matches(value: object, choices: Iterable[object], n: int = 1) -> list[str]:
    """The ``n`` known names nearest ``value`` (difflib, ignoring case), best first, as the choices spell them."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(str(c).lower(), str(c))
    hits = difflib.get_close_matches(str(value).lower(), list(by_lower), n=n, cutoff=CLOSE_CUTOFF)
    return [by_lower[h] for h in hits]


def did_you_mean(value: object, choices: Iterable[object], n: int = 1) -> str:
    """`` (did you mean 'x'?)`` (or ``'x' or 'y'``) when a known name is close to ``value``, else ``""``."""
    near = close_matches(value, choices, n)
    return f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
