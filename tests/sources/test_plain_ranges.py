"""Impossible scores are refused with file, line and field (issue 17, item 6): proportions outside [0, 1],
chance outside [0, 1] or differing between the rows of one task."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalecheck
from scalecheck.errors import InputError
from scalecheck.schema import is_proportion

HEADER = "model,task,metric,value,chance,n_examples,params\n"


def rows(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def load(tmp_path, text):
    p = tmp_path / "x.csv"
    p.write_text(text)
    return scalecheck.load("csv", p)


@pytest.mark.parametrize("lines, line, field, words", [
    (["a,t,accuracy,1.5,0.25,100,1e6"], 2, "value", "not a proportion in [0, 1]"),
    (["a,t,accuracy,0.5,0.25,100,1e6", "b,t,accuracy,-0.2,0.25,100,1e7"], 3, "value", "-0.2"),
    (["a,t,acc,1e308,0.25,100,1e6"], 2, "value", "1e+308"),
    (["a,t,acc_norm,85.3,0.25,100,1e6"], 2, "value", "a percentage? divide by 100"),
    (["a,t,accuracy,0.5,7,100,1e6"], 2, "chance", "chance 7.0 of accuracy is not in [0, 1]"),
    (["a,t,accuracy,0.5,0.25,100,1e6", "b,t,accuracy,0.6,0.5,100,1e7"], 3, "chance", "0.25 at line 2"),
    (["a,t,loss,2.0,inf,100,1e6"], 2, "chance", "not finite"),
])
def test_impossible_scores_are_named(tmp_path, lines, line, field, words):
    with pytest.raises(InputError) as e:
        load(tmp_path, rows(*lines))
    assert (e.value.row, e.value.field) == (line, field), str(e.value)
    assert words in str(e.value) and "x.csv" in str(e.value) and "np.float64" not in str(e.value)


def test_what_is_not_a_proportion_is_only_required_finite(tmp_path):
    # A loss's chance (ln 4 = 1.39), a log-probability, BLEU on 0-100, a perplexity: all legitimate.
    tb = load(tmp_path, rows("a,t,loss,2.5,1.386,100,1e6", "a,u,soft_log,-1.2,-0.69,100,1e6",
                             "a,v,bleu,65.2,,100,1e6", "a,w,ppl,6.7e8,,100,1e6"))
    assert len(tb.scores) == 4
    # One chance per task *and metric*: a task's loss and accuracy have their own.
    tb = load(tmp_path, rows("a,t,loss,0.6,0.693,100,1e6", "a,t,accuracy,0.7,0.5,100,1e6",
                             "b,t,accuracy,0.8,0.5,100,1e7", "b,t,loss,0.5,,100,1e7"))
    assert len(tb.scores) == 4


@settings(max_examples=60, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e308, max_value=1e308),
       metric=st.sampled_from(["accuracy", "acc", "acc_norm", "exact_match", "pass@1", "mc2", "loss", "bpb"]))
def test_a_value_is_accepted_exactly_when_it_is_in_range(tmp_path_factory, value, metric):
    path = tmp_path_factory.mktemp("h") / "x.csv"
    path.write_text(rows(f"a,t,{metric},{value!r},,100,1e6"))
    if is_proportion(metric) and not 0 <= value <= 1:
        with pytest.raises(InputError) as e:
            scalecheck.load("csv", path)
        assert (e.value.row, e.value.field) == (2, "value")
    else:
        tb = scalecheck.load("csv", path)
        assert math.isclose(tb.scores["value"].iloc[0], value, rel_tol=1e-15) or tb.scores["value"].iloc[0] == value


@settings(max_examples=40, deadline=None)
@given(chances=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=2, max_size=6))
def test_differing_chance_names_the_first_row_that_differs(tmp_path_factory, chances):
    path = tmp_path_factory.mktemp("h") / "x.csv"
    path.write_text(rows(*(f"m{i},t,accuracy,0.5,{c},100,{10 ** (i + 6)}" for i, c in enumerate(chances))))
    differs = [i for i, c in enumerate(chances) if c != chances[0]]
    if not differs:
        assert scalecheck.load("csv", path).tasks["chance"].iloc[0] == chances[0]
        return
    with pytest.raises(InputError) as e:
        scalecheck.load("csv", path)
    assert (e.value.row, e.value.field) == (differs[0] + 2, "chance")


def test_a_non_utf8_byte_is_located_by_line(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes(("model,task,metric,value\n" + "m1,t,accuracy,0.5\n" * 40).encode() + "m2,caf\xe9,accuracy,0.5\n"
                  .encode("latin-1"))
    with pytest.raises(InputError) as e:
        scalecheck.load("csv", p)
    assert e.value.row == 42 and "column 7" in str(e.value) and "0xe9" in str(e.value)
