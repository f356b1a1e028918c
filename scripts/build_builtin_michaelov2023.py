"""Regenerate the built-in Michaelov & Bergen 2023 testbed that ships in the package.

    python scripts/build_builtin_michaelov2023.py [../shared/data/emergent_inabilities]

Writes src/scalecheck/sources/builtin/michaelov2023_scores.csv: size, step, task, metric, value, stderr and shots
of every score (figures and ids only). Floats are written with repr precision, so the built-in copy equals the
release value for value.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scalecheck.sources import michaelov2023

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "scalecheck" / "sources" / "builtin" / michaelov2023.BUILTIN_FILE


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "emergent_inabilities"
    df = michaelov2023.builtin_table_from(michaelov2023.read_folder(folder))
    df.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT}: {df.shape[0]} rows x {df.shape[1]} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
