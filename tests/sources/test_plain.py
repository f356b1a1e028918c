import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalecheck
from scalecheck.errors import InputError

GOOD = """model,task,metric,value,n_examples,params,tokens,corpus,loss_val
m1,t1,accuracy,0.3,100,1e6,2e7,c4,4.0
m1,t2,accuracy,0.5,100,1e6,2e7,c4,4.0
m2,t1,accuracy,0.4,100,1e7,2e8,c4,3.5
"""


def write(tmp_path, text, name="x.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_plain_csv(tmp_path):
    tb = scalecheck.load("csv", write(tmp_path, GOOD))
    assert len(tb.models) == 2 and len(tb.tasks) == 2 and tb.loss_names == ["val"]
    assert tb.models.set_index("model").loc["m2", "flops"] == 6 * 1e7 * 2e8


@pytest.mark.parametrize("text, line, field", [
    (GOOD.replace("m2,t1,accuracy,0.4", "m2,t1,accuracy,"), 4, "value"),
    (GOOD.replace("m2,t1,accuracy,0.4", "m2,t1,accuracy,nan"), 4, "value"),
    (GOOD.replace("m2,t1,accuracy,0.4", "m2,t1,accuracy,high"), 4, "value"),
    (GOOD.replace("m1,t2,accuracy,0.5,100,1e6", "m1,t2,accuracy,0.5,100,2e6"), 3, "params"),
    (GOOD + "m2,t1,accuracy,0.41,100,1e7,2e8,c4,3.5\n", 5, "value"),
    (GOOD.replace("m2,t1,accuracy,0.4,100", "m2,t1,accuracy,0.4,-3"), 4, "n_examples"),
    (GOOD.replace(",t2,", ",,"), 3, "task"),
])
def test_bad_rows_are_named(tmp_path, text, line, field):
    with pytest.raises(InputError) as e:
        scalecheck.load("csv", write(tmp_path, text))
    assert (e.value.row, e.value.field) == (line, field), str(e.value)


def test_missing_column_empty_file_non_utf8_unknown_column(tmp_path):
    with pytest.raises(InputError, match="missing column"):
        scalecheck.load("csv", write(tmp_path, "model,task,value\na,b,1\n"))
    with pytest.raises(InputError, match="empty"):
        scalecheck.load("csv", write(tmp_path, ""))
    p = tmp_path / "bin.csv"
    p.write_bytes(b"model,task,metric,value\n\xff\xfe,a,b,1\n")
    with pytest.raises(InputError, match="UTF-8"):
        scalecheck.load("csv", p)
    with pytest.raises(InputError, match="unknown column"):
        scalecheck.load("csv", write(tmp_path, "model,task,metric,value,colour\na,b,c,1,red\n"))
    with pytest.raises(InputError, match="no such file"):
        scalecheck.load("csv", tmp_path / "absent.csv")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["t", "u"]),
                          st.floats(0, 1, allow_nan=False)), min_size=1, max_size=8, unique_by=lambda r: r[:2]))
def test_csv_round_trip_property(tmp_path_factory, rows):
    df = pd.DataFrame(rows, columns=["model", "task", "value"]).assign(metric="acc")
    p = tmp_path_factory.mktemp("c") / "r.csv"
    df.to_csv(p, index=False)
    tb = scalecheck.load("csv", p)
    got = tb.scores.set_index(["model", "task"])["value"].sort_index()
    want = df.set_index(["model", "task"])["value"].sort_index()
    assert got.to_dict() == want.to_dict()
