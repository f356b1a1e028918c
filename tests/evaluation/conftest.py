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


@pytest.fixture(scope="session", autouse=True)
def _scalecheck_cache(tmp_path_factory):
    """The session's own cache (dequantised GGUF weights), never the user's ~/.cache."""
    before = os.environ.get("SCALECHECK_CACHE")
    os.environ["SCALECHECK_CACHE"] = str(tmp_path_factory.mktemp("scalecheck-cache"))
    yield
    if before is None:
        os.environ.pop("SCALECHECK_CACHE", None)
    else:
        os.environ["SCALECHECK_CACHE"] = before


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the whole test session (starting one takes seconds): 2 CPUs, 4 logical GPUs."""
    import ray  # in the dev extra: CI installs it
    from tinymodels import RAY_GPUS

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # Ray 2.59+ would write a token to ~/.ray otherwise
    # Workers import scalecheck from the same sources as this session.
    src = str(Path(__file__).resolve().parents[2] / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join([src] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                         if p and p != src])
    ray.init(num_cpus=2, num_gpus=RAY_GPUS, include_dashboard=False, object_store_memory=100 * 2**20,
             log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def smollm2():
    """The real pretrained model (SmolLM2-135M-Instruct, GGUF), loaded once per session (realmodel.py)."""
    from realmodel import smollm2_backend

    return smollm2_backend()
