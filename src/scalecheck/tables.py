"""Writing an analysis result's files: the one ``write(dir)`` every result shares, and what it returns.

Each result's ``write(out_dir)`` names its tables (role -> file name and frame) and calls :func:`write_tables`, so
every analysis writes CSV the same way: the folder made if missing, no index column, "\\n" line ends on every
platform (byte-identical output for the same input). Every writer, a result's ``write`` and a report's
``write_report`` alike, returns one :class:`ReportFiles`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class ReportFiles(Mapping[str, Path]):
    """What a writer wrote in ``out_dir``: its tables by role, its HTML page (if any), its figures, and any other
    files (an evaluation's run record and scored examples).

    It reads as a mapping of role -> path: the tables (``files["verdicts"]``) and, once written, the page
    (``files["html"]``), so code that took the ``{role: path}`` of a writer keeps working. :attr:`paths` lists
    every file written.
    """

    out_dir: Path
    tables: Mapping[str, Path] = field(default_factory=dict)
    html: Path | None = None
    figures: tuple[Path, ...] = ()
    others: tuple[Path, ...] = ()

    def __getitem__(self, role: str) -> Path:
        if role == "html" and self.html is not None:
            return self.html
        return self.tables[role]

    def __iter__(self) -> Iterator[str]:
        yield from self.tables
        if self.html is not None:
            yield "html"

    def __len__(self) -> int:
        return len(self.tables) + (self.html is not None)

    def with_report(self, html: Path, figures: tuple[Path, ...] = ()) -> ReportFiles:
        """These tables, with the page and figures a report writer added."""
        return replace(self, html=html, figures=tuple(figures))

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written: tables, page, figures, then the others."""
        return (*self.tables.values(), *((self.html,) if self.html is not None else ()), *self.figures,
                *self.others)

    def describe(self) -> str:
        """One line for a user: what was written, and where."""
        parts = [str(self.html)] if self.html is not None else []
        parts.append(f"{len(self.tables)} table{'s' * (len(self.tables) != 1)}")
        if self.figures:
            parts.append(f"{len(self.figures)} figure{'s' * (len(self.figures) != 1)}")
        if self.others:
            parts.append(f"{len(self.others)} other file{'s' * (len(self.others) != 1)}")
        listed = f"{', '.join(parts[:-1])} and {parts[-1]}" if len(parts) > 1 else parts[0]
        return f"{listed} in {self.out_dir}/"


def write_tables(out_dir: str | Path, tables: dict[str, tuple[str, pd.DataFrame]]) -> ReportFiles:
    """Write each ``role: (file name, frame)`` of ``tables`` as CSV in ``out_dir``; return the files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, (name, frame) in tables.items():
        files[role] = out / name
        frame.to_csv(files[role], index=False, lineterminator="\n")
    return ReportFiles(out, files)
