"""Where the published data copies live, for benchmarks and tests (not part of the package).

``tests/conftest.py`` loads this same file, so there is one implementation of the search.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path:
    """The folder of published data copies (``shared/data``) beside the checkout.

    ``$SCALECHECK_SHARED_DATA`` wins; otherwise the first ``shared/data`` found walking up from the current
    directory or from this file.
    """
    env = os.environ.get("SCALECHECK_SHARED_DATA")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for d in (start, *start.parents):
            for cand in (d / "shared" / "data", d.parent / "shared" / "data"):
                if cand.is_dir():
                    return cand
    raise FileNotFoundError("cannot find the shared data folder; set SCALECHECK_SHARED_DATA")
