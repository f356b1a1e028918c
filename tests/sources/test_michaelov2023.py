import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scalecheck
from scalecheck.errors import InputError
from scalecheck.sources import michaelov2023 as mb
from scalecheck.sources.pythia import PYTHIA_PARAMS, _n_from_stderr


@pytest.fixture(scope="module")
def builtin():
    return scalecheck.load("michaelov2023")


@pytest.fixture(scope="module")
def full(shared_data):
    return scalecheck.load("michaelov2023", shared_data / "emergent_inabilities")


@pytest.fixture
def copy(tmp_path, shared_data):
    dst = tmp_path / "ei"
    shutil.copytree(shared_data / "emergent_inabilities", dst)
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    dst.chmod(0o755)
    return dst


def test_builtin_equals_a_fresh_import_of_the_shared_folder(builtin, full):
    assert builtin.models.equals(full.models)
    assert builtin.scores.equals(full.scores)
    assert builtin.tasks.equals(full.tasks)


def test_shape_of_the_testbed(builtin):
    tb = builtin
    assert len(tb.models) == 64 and len(tb.tasks) == 11
    assert len(tb.scores) == 64 * (10 * 2 + 2)  # acc and acc_norm on 10 Prize tasks; mc1 and mc2
    m = tb.models.set_index("model").loc["pythia-1b@step143000"]
    assert (m["family"], m["size"], m["run"], int(m["step"])) == ("pythia", "1b", "pythia-1b", 143000)
    assert m["params"] == PYTHIA_PARAMS["1b"][0] and m["params_nonembed"] == PYTHIA_PARAMS["1b"][1]
    assert m["tokens"] == 143000 * 2_097_152
    assert m["flops"] == 6 * m["params"] * m["tokens"]
    t = tb.tasks.set_index("task")
    assert t.loc["memo_trap", "chance"] == 0.5 and t.loc["resisting_correction", "n_examples"] == 7344
    assert np.isnan(t.loc["truthfulqa_mc", "chance"]) and t.loc["truthfulqa_mc", "metric"] == "mc1"
    assert set(tb.scores["shots"]) == {0}


def test_values_match_the_raw_json_and_the_counts_match_the_stderr(full, shared_data):
    raw = json.loads((shared_data / "emergent_inabilities/results/pythia-410m_step8000.json").read_text())
    s = full.scores.set_index(["model", "task", "metric"])
    r = raw["results"]["isp_memo_trap"]
    row = s.loc[("pythia-410m@step8000", "memo_trap", "acc_norm")]
    assert row["value"] == r["acc_norm"] and row["stderr"] == r["acc_norm_stderr"]
    # Every Prize count (and TruthfulQA's 817) is what acc and its standard error invert to.
    acc = full.scores[full.scores["metric"].isin(["acc", "mc1"])]
    for task, n in mb.N_EXAMPLES.items():
        sub = acc[acc["task"] == task]
        ns = {_n_from_stderr(v, e) for v, e in zip(sub["value"], sub["stderr"], strict=True)} - {None}
        assert ns == {n}, task


def test_the_quick_look_table_of_provenance(full):
    # PROVENANCE.md's final-checkpoint table: memo_trap falls from .873 (70M) to .656 (12B).
    s = full.series("memo_trap", "params", metric="acc", where={"step": 143000})
    assert np.round(s.y, 3).tolist() == [0.873, 0.848, 0.833, 0.780, 0.770, 0.782, 0.693, 0.656]


def test_import_round_trip(shared_data, tmp_path, full, import_round_trip):
    import_round_trip("michaelov2023", shared_data / "emergent_inabilities", full, tmp_path)
    # The results folder itself is accepted as well.
    assert scalecheck.load("michaelov2023", shared_data / "emergent_inabilities" / "results").scores.equals(
        full.scores)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["results"]["isp_neqa"].pop("acc"), "results.isp_neqa.acc"),
    (lambda d: d["results"]["isp_neqa"].__setitem__("acc", 1.5), "results.isp_neqa.acc"),
    (lambda d: d["results"]["isp_neqa"].__setitem__("acc_stderr", -0.1), "results.isp_neqa.acc_stderr"),
    (lambda d: d["results"]["truthfulqa_mc"].__setitem__("mc2", "high"), "results.truthfulqa_mc.mc2"),
    (lambda d: d["results"].pop("isp_sig_figs"), "results.isp_sig_figs"),
    (lambda d: d["config"].__setitem__("model_args", "pretrained=EleutherAI/pythia-1b,revision=step2000"),
     "config.model_args"),
    (lambda d: d["config"].__setitem__("num_fewshot", "0"), "config.num_fewshot"),
])
def test_bad_result_file_names_file_and_field(copy, mutate, field, edit_json):
    f = copy / "results" / "pythia-70m_step4000.json"
    edit_json(f, mutate)
    with pytest.raises(InputError) as e:
        mb.read_folder(copy)
    assert e.value.path == str(f) and e.value.field == field


def test_tsv_disagreeing_with_the_json_names_line_and_column(copy):
    tsv = copy / "results" / "all_results.tsv"
    lines = tsv.read_text().splitlines(keepends=True)
    cells = lines[5].split("\t")
    cells[3] = "0.123"
    lines[5] = "\t".join(cells)
    tsv.write_text("".join(lines))
    with pytest.raises(InputError) as e:
        mb.read_folder(copy)
    assert (e.value.path, e.value.row, e.value.field) == (str(tsv), 6, "Accuracy")


def test_bad_file_name_and_missing_folder(copy, tmp_path):
    (copy / "results" / "pythia-70m_step4000.json").rename(copy / "results" / "pythia-70m-step4000.json")
    with pytest.raises(InputError, match="file name"):
        mb.read_folder(copy)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="emergent-inabilities"):
        mb.read_folder(tmp_path / "empty")


def test_cli_bad_input_is_one_line_exit_2(copy):
    f = copy / "results" / "pythia-12b_step2000.json"
    f.write_text(f.read_text().replace('"acc": 0.', '"acc": NaN, "x": 0.', 1))
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "michaelov2023", str(copy), "-o",
                        str(copy / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "pythia-12b_step2000.json" in r.stderr and "NaN" in r.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.floats(allow_nan=False), st.text(max_size=5), st.none(), st.booleans()))
def test_any_accuracy_value_is_read_or_refused_in_one_line(tmp_path_factory, shared_data, value):
    src = shared_data / "emergent_inabilities" / "results"
    dst = tmp_path_factory.mktemp("ei")
    for p in src.glob("pythia-70m_*.json"):
        shutil.copy(p, dst / p.name)
    f = dst / "pythia-70m_step2000.json"
    d = json.loads(f.read_text())
    d["results"]["isp_redefine"]["acc"] = value
    f.write_text(json.dumps(d))
    ok = isinstance(value, float) and 0.0 <= value <= 1.0
    if ok:
        tb = mb.read_folder(dst)
        got = tb.scores.set_index(["model", "task", "metric"]).loc[("pythia-70m@step2000", "redefine", "acc"),
                                                                    "value"]
        assert got == value
    else:
        with pytest.raises(InputError) as e:
            mb.read_folder(dst)
        assert e.value.path == str(f) and e.value.field == "results.isp_redefine.acc"
        assert "\n" not in str(e.value)
