import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalecheck
from scalecheck import Testbed
from scalecheck.errors import InputError, SelectionError


def test_parquet_round_trip_is_exact(builtin_testbed, tmp_path):
    path = builtin_testbed.to_parquet(tmp_path / "tb.parquet")
    back = Testbed.read(path)
    assert back.equals(builtin_testbed)
    # A pandas user gets one row per score with the model's columns joined on.
    df = pd.read_parquet(path)
    assert len(df) == len(builtin_testbed.scores)
    assert {"model", "task", "value", "params", "loss_c4_val", "corpus"} <= set(df.columns)


def test_long_csv_round_trip(builtin_testbed, tmp_path):
    path = tmp_path / "tb.csv"
    builtin_testbed.to_frame().to_csv(path, index=False)
    back = Testbed.read(path)
    assert back.models.drop(columns="source").equals(builtin_testbed.models.drop(columns="source"))
    assert back.scores.equals(builtin_testbed.scores)


def test_selection_errors(builtin_testbed):
    with pytest.raises(SelectionError, match="unknown task"):
        builtin_testbed.series("nope")
    with pytest.raises(SelectionError, match="unknown x"):
        builtin_testbed.series("hellaswag", "wikitext")
    with pytest.raises(SelectionError, match="no metric"):
        builtin_testbed.series("hellaswag", metric="bpb")


def test_series_drops_missing_x_and_fills_binomial_noise():
    models = pd.DataFrame({"model": ["a", "b", "c"], "source": "t", "params": [1e6, 1e7, np.nan],
                           "loss_val": [4.0, 3.0, np.nan]})
    scores = pd.DataFrame({"model": ["a", "b", "c"], "task": "t1", "metric": "accuracy",
                           "value": [0.0, 0.5, 0.6], "n_examples": 100, "stderr": [np.nan, 0.07, np.nan]})
    tb = Testbed.build(models, scores)
    s = tb.series("t1", "val")
    assert len(s) == 2 and s.n_dropped == 1
    assert s.noise_sd[1] == pytest.approx(np.sqrt(0.005 * 0.995 / 100))  # 0/100 continuity-corrected
    assert s.noise_sd[0] == 0.07


def test_several_settings_need_a_choice():
    models = pd.DataFrame({"model": ["a"], "source": "t", "params": [1e6]})
    scores = pd.DataFrame({"model": ["a", "a"], "task": "t1", "metric": "acc", "value": [0.3, 0.4],
                           "shots": [0, 5]})
    tb = Testbed.build(models, scores)
    with pytest.raises(SelectionError, match="several settings"):
        tb.series("t1", "params")
    assert tb.series("t1", "params", shots=5).y[0] == 0.4


@pytest.mark.parametrize("models, scores, field", [
    ({"model": ["a", "a"], "source": "t"}, {"model": ["a"], "task": "t", "metric": "m", "value": [1.0]}, "model"),
    ({"model": ["a"], "source": "t", "params": [-1.0]}, {"model": ["a"], "task": "t", "metric": "m", "value": [1.0]},
     "params"),
    ({"model": ["a"], "source": "t"}, {"model": ["a"], "task": "t", "metric": "m", "value": [np.nan]}, "value"),
    ({"model": ["a"], "source": "t"}, {"model": ["b"], "task": "t", "metric": "m", "value": [1.0]}, "model"),
    ({"model": ["a"], "source": "t"}, {"model": ["a", "a"], "task": "t", "metric": "m", "value": [1.0, 2.0]}, "value"),
    ({"model": ["a"], "source": "t"}, {"model": ["a"], "task": "t", "metric": "m", "value": [1.0],
                                       "stderr": [-0.1]}, "stderr"),
    ({"model": ["a"], "source": "t"}, {"model": ["a"], "task": "t", "metric": "m", "value": ["x"]}, "value"),
    ({"model": ["a"], "source": "t", "step": [1.5]}, {"model": ["a"], "task": "t", "metric": "m", "value": [1.0]},
     "step"),
])
def test_build_refuses_bad_tables(models, scores, field):
    with pytest.raises(InputError) as e:
        Testbed.build(pd.DataFrame(models), pd.DataFrame(scores))
    assert e.value.field == field


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(names, st.floats(1e3, 1e12), st.floats(0.5, 8.0)), min_size=1, max_size=8,
                unique_by=lambda t: t[0]),
       st.lists(names, min_size=1, max_size=4, unique=True), st.integers(0, 2**31 - 1))
def test_parquet_round_trip_property(tmp_path_factory, model_rows, tasks, seed):
    rng = np.random.default_rng(seed)
    models = pd.DataFrame({"model": [m[0] for m in model_rows], "source": "prop",
                           "params": [m[1] for m in model_rows], "loss_v": [m[2] for m in model_rows]})
    scores = pd.DataFrame([{"model": m[0], "task": t, "metric": "acc", "value": float(rng.random()),
                            "n_examples": int(rng.integers(1, 1000))} for m in model_rows for t in tasks])
    tb = Testbed.build(models, scores)
    path = tb.to_parquet(tmp_path_factory.mktemp("p") / "x.parquet")
    assert Testbed.read(path).equals(tb)


def test_load_testbed_file(builtin_testbed, tmp_path):
    path = builtin_testbed.to_parquet(tmp_path / "a.parquet")
    assert scalecheck.load("testbed", path).equals(builtin_testbed)


def test_series_reported_zero_stderr_gets_the_binomial_floor():
    # lm-eval reports sqrt(p(1-p)/(n-1)) = 0 at a score of exactly 0 or 1; that point still has sampling noise.
    models = pd.DataFrame({"model": ["a", "b"], "source": "t", "params": [1e6, 1e7], "loss_val": [4.0, 3.0]})
    scores = pd.DataFrame({"model": ["a", "b"], "task": "t1", "metric": "accuracy", "value": [1.0, 0.5],
                           "n_examples": 100, "stderr": [0.0, 0.05]})
    s = Testbed.build(models, scores).series("t1", "val")
    by_model = dict(zip(s.models, s.noise_sd, strict=True))
    assert by_model["a"] == pytest.approx(np.sqrt(0.005 * 0.995 / 100))
    assert by_model["b"] == 0.05
