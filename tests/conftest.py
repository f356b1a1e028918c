from __future__ import annotations

from pathlib import Path

import pytest

from scalecheck.sources import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: the published copies. Tests that need it fail (not skip) without it: CI has it."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def builtin_testbed():
    import scalecheck

    return scalecheck.load("gadre2024")
