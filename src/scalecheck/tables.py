"""Writing an analysis result's tables: the one ``write(dir)`` every result shares.

Each result's ``write(out_dir)`` names its tables (role -> file name and frame) and calls :func:`write_tables`, so
every analysis writes CSV the same way: the folder made if missing, no index column, "\\n" line ends on every
platform (byte-identical output for the same input), and ``{role: path}`` returned.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_tables(out_dir: str | Path, tables: dict[str, tuple[str, pd.DataFrame]]) -> dict[str, Path]:
    """Write each ``role: (file name, frame)`` of ``tables`` as CSV in ``out_dir``; return ``{role: path}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, (name, frame) in tables.items():
        files[role] = out / name
        frame.to_csv(files[role], index=False, lineterminator="\n")
    return files
