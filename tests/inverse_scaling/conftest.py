import pytest


@pytest.fixture(scope="session")
def builtin_michaelov():
    import scalecheck

    return scalecheck.load("michaelov2023")
