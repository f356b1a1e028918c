import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tinymodels.py

# One thread: the models are tiny, and on a shared 2-core machine torch's thread pool, competing with other
# processes, made these tests ten times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smollm2():
    """The real pretrained model (SmolLM2-135M-Instruct, GGUF), loaded once per session (realmodel.py)."""
    from realmodel import smollm2_backend

    return smollm2_backend()
