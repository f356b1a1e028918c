import csv
import io
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import scalecheck
from scalecheck.cli._common import open_testbed
from scalecheck.errors import InputError
from scalecheck.sources import sloth


@pytest.fixture(scope="module")
def builtin():
    return scalecheck.load("sloth2024")


@pytest.fixture(scope="module")
def raw_rows(shared_data):
    text = (shared_data / "sloth" / sloth.FILE).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _write(folder, header, rows):
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    # CRLF line ends, as RFC 4180 has them: the writer then quotes a cell holding a bare CR too (with "\n" alone
    # it would write the CR raw, a line break to any CSV reader, and the cell would not be the one asked for).
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    (folder / sloth.FILE).write_text(buf.getvalue(), encoding="utf-8")
    return folder


def test_builtin_equals_a_fresh_import_of_the_shared_folder(builtin, shared_data):
    full = scalecheck.load("sloth2024", shared_data / "sloth")
    assert builtin.models.equals(full.models)
    assert builtin.scores.equals(full.scores)
    assert builtin.tasks.equals(full.tasks)


def test_shape_holdouts_and_axes(builtin):
    m = builtin.models
    assert m["family"].nunique() == 22 and len(m) == 97
    assert (m.groupby("family")["params"].nunique() >= sloth.MIN_SIZES).all()
    # Each family's largest size, and only it, is the hold-out (stablelm has two 7B models).
    largest = m.groupby("family")["params"].transform("max")
    assert (m["holdout"] == (m["params"] == largest)).all()
    assert set(m.loc[m["holdout"] & (m["family"] == "opt"), "model"]) == {"opt-66b"}
    assert m.loc[m["holdout"], "family"].value_counts()["stablelm"] == 2
    opt = m.set_index("model").loc["opt-66b"]
    assert opt["params"] == 66e9 and opt["flops"] == pytest.approx(6 * 66e9 * opt["tokens"], rel=1e-3)
    # qwen1.5-110b has no token count: no FLOPs, so it leaves a FLOPs series but stays on params.
    assert np.isnan(m.set_index("model").loc["qwen1.5-110b", "flops"])


def test_task_metadata(builtin):
    t = builtin.tasks.set_index("task")
    # Inferred numbers of examples reproduce the benchmarks' published sizes.
    assert t.loc["bbh_penguins_in_a_table", "n_examples"] == 146
    assert t.loc["bbh_causal_judgement", "n_examples"] == 187
    assert (t.loc["gpqa_diamond", "n_examples"], t.loc["gpqa_main", "n_examples"]) == (198, 448)
    assert t.loc["hendrycksTest-anatomy", "n_examples"] == 135
    assert t.loc["bbh_object_counting", "chance"] == pytest.approx(1 / 19)
    assert t.loc["GSM8K", "chance"] == 0 and np.isnan(t.loc["TruthfulQA", "chance"])
    assert 0.25 < t.loc["BBH", "chance"] < 0.35  # the example-weighted mean of its subtasks'
    assert builtin.scores["value"].between(0, 1).all()


def test_loadable_by_name_on_the_command_line(builtin):
    tb = open_testbed("sloth2024")
    assert len(tb.models) == len(builtin.models)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 2000), counts=st.lists(st.integers(0, 2000), min_size=8, max_size=30))
def test_infer_denominator_recovers_the_test_set_size(n, counts):
    counts = [c % (n + 1) for c in counts]
    # A set whose counts all share a factor with n is ambiguous by nature: include one coprime count.
    counts.append(1)
    assert sloth.infer_denominator([c / n for c in counts]) == n


def test_infer_denominator_of_nothing_is_nan():
    assert math.isnan(sloth.infer_denominator([np.nan]))


@pytest.mark.parametrize(("column", "value", "message"), [
    ("#Params (B)", "seven", "expected a number"),
    ("#Params (B)", "-1", "not a positive number"),
    ("#Params (B)", "inf", "not a finite number"),
    ("FLOPs (1E21)", "0", "not a positive number"),
    ("MMLU", "1.5", r"outside \[0.0, 1.0\]"),
    ("MMLU", "-0.2", r"outside \[0.0, 1.0\]"),
    ("Instruct", "maybe", "expected True or False"),
    ("Model", "", "missing"),
    ("Family", " ", "missing"),
])
def test_bad_cell_names_file_line_and_field(tmp_path, raw_rows, column, value, message):
    header, rows = raw_rows
    rows = [list(r) for r in rows]
    i = next(k for k, r in enumerate(rows) if r[header.index("Instruct")] == "False")
    rows[i][header.index(column)] = value
    folder = _write(tmp_path / "s", header, rows)
    with pytest.raises(InputError, match=message) as e:
        sloth.read_folder(folder)
    assert e.value.path == str(folder / sloth.FILE) and e.value.row == i + 2 and e.value.field == column
    assert "\n" not in str(e.value)


def test_structural_defects(tmp_path, raw_rows):
    header, rows = raw_rows
    with pytest.raises(InputError, match="missing column") as e:
        sloth.read_folder(_write(tmp_path / "a", [h for h in header if h != "Family"],
                                 [[v for h, v in zip(header, r, strict=True) if h != "Family"] for r in rows]))
    assert e.value.field == "Family"
    dup = [list(r) for r in rows] + [list(rows[3])]
    with pytest.raises(InputError, match="appears twice"):
        sloth.read_folder(_write(tmp_path / "b", header, dup))
    instruct = [[("True" if h == "Instruct" else v) for h, v in zip(header, r, strict=True)] for r in rows]
    with pytest.raises(InputError, match="no base models"):
        sloth.read_folder(_write(tmp_path / "c", header, instruct))
    with pytest.raises(InputError, match="no family has"):
        sloth.read_folder(_write(tmp_path / "d", header, rows[:2]))
    with pytest.raises(InputError, match="missing file"):
        sloth.read_folder(tmp_path / "nowhere")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / sloth.FILE).write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        sloth.read_folder(tmp_path / "e")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.floats(), st.text(max_size=6)))
@example(value="\r2")  # a bare CR once read as a line break (the error named the next line)
@example(value="\r")
def test_any_score_cell_is_read_or_refused_in_one_line(tmp_path_factory, raw_rows, value):
    header, rows = raw_rows
    rows = [list(r) for r in rows]
    i = next(k for k, r in enumerate(rows) if r[1] == "opt-1.3b")
    text = repr(value) if isinstance(value, float) else value
    rows[i][header.index("ARC")] = text
    folder = _write(tmp_path_factory.mktemp("s"), header, rows)
    try:
        parsed = float(text)
    except ValueError:
        parsed = None
    if text.strip() == "":
        tb = sloth.read_folder(folder)
        assert not ((tb.scores["model"] == "opt-1.3b") & (tb.scores["task"] == "ARC")).any()
    elif parsed is not None and math.isfinite(parsed) and 0 <= parsed <= 1:
        tb = sloth.read_folder(folder)
        s = tb.scores
        assert s.loc[(s["model"] == "opt-1.3b") & (s["task"] == "ARC"), "value"].item() == parsed
    else:
        with pytest.raises(InputError) as e:
            sloth.read_folder(folder)
        assert (e.value.row, e.value.field) == (i + 2, "ARC") and "\n" not in str(e.value)


def test_cli_bad_input_is_one_line_exit_2(tmp_path, raw_rows):
    header, rows = raw_rows
    rows = [list(r) for r in rows]
    i = next(k for k, r in enumerate(rows) if r[1] == "opt-1.3b")
    rows[i][header.index("GSM8K")] = "1e308"
    folder = _write(tmp_path / "s", header, rows)
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "sloth2024", str(folder), "-o",
                        str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert sloth.FILE in r.stderr and "GSM8K" in r.stderr
