"""Regenerate the built-in Gadre et al. 2024 testbed that ships in the package.

    python scripts/build_builtin_testbed.py [../shared/data/gadre2024]

Writes src/scalecheck/sources/builtin/gadre2024_{models,accuracy,tasks}.csv: figures and ids only (model
ids, sizes, tokens, the 8 validation losses, the 46 accuracies, per-task shots, size and chance level).
Floats are written with repr precision, so the built-in copy equals the release value for value.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scalecheck.sources import gadre2024

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "scalecheck" / "sources" / "builtin"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "gadre2024"
    tables = gadre2024.read_folder(folder)
    for name, df in gadre2024.builtin_tables_from(tables).items():
        df.to_csv(OUT / name, index=False, lineterminator="\n")
        print(f"wrote {OUT / name}: {df.shape[0]} rows x {df.shape[1]} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
