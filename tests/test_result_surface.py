"""Every analysis result has the same surface: frame(), summary() -> DataFrame, to_dict(), write(dir) -> files."""

import json

import pandas as pd
import pytest

from scalecheck.backtest import backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.sensitivity import sensitivity
from scalecheck.trends import reality_check


@pytest.fixture(scope="module")
def small():
    return synthetic_testbed({"rising": exponential_accuracy}, corpora=("a", "b"), seed=3, holdout_sizes=(3e9,),
                             extra_losses={"other": lambda c4, corpus: c4 + 0.1})


def check_surface(result, tmp_path):
    assert isinstance(result.frame(), pd.DataFrame) and len(result.frame())
    assert isinstance(result.summary(), pd.DataFrame) and len(result.summary())
    json.dumps(result.to_dict(), default=str)
    files = result.write(tmp_path)
    assert files and all(p.exists() and p.parent == tmp_path for p in files.values())
    for p in files.values():
        if p.suffix == ".csv":
            pd.read_csv(p)


def test_reality_check_surface(small, tmp_path):
    check_surface(reality_check(small, by="corpus"), tmp_path)


def test_backtest_surface(small, tmp_path):
    check_surface(backtest(small, scheme="holdout"), tmp_path)


def test_inverse_scaling_surface(small, tmp_path):
    from scalecheck.inverse_scaling import inverse_scaling

    check_surface(inverse_scaling(small, x="params"), tmp_path)


def test_sensitivity_surface(small, tmp_path):
    check_surface(sensitivity(small), tmp_path)
