from __future__ import annotations

from pathlib import Path

import pytest


def _load_shared_helper():
    # One implementation of the shared-data search, kept beside the benchmarks (which run as plain scripts).
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "_shared.py"
    spec = importlib.util.spec_from_file_location("scalecheck_benchmarks_shared", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared_data_dir = _load_shared_helper().shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: the published copies. Tests that need it fail (not skip) without it: CI has it."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def builtin_testbed():
    import scalecheck

    return scalecheck.load("gadre2024")
