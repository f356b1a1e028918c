"""Regenerate the built-in Sloth testbed (``sloth2024``) that ships in the package.

    python scripts/build_builtin_sloth2024.py [../shared/data/sloth]

Writes src/scalecheck/sources/builtin/sloth2024_{models,scores,tasks}.csv: model ids, families, sizes, parameters,
tokens, FLOPs and hold-out flags; one share per model and task; the number of examples per task (figures and ids
only). Floats are written with repr precision, so the built-in copy equals a fresh import value for value.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scalecheck.sources import sloth

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "scalecheck" / "sources" / "builtin"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "sloth"
    for name, df in sloth.builtin_tables_from(sloth.read_folder(folder)).items():
        df.to_csv(OUT / name, index=False, lineterminator="\n")
        print(f"wrote {OUT / name}: {df.shape[0]} rows x {df.shape[1]} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
