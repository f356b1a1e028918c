"""Errors that scalecheck reports to a user as one line (the CLI prints them and exits 2)."""

from __future__ import annotations

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
