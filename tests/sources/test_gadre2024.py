import json
import shutil

import numpy as np
import pytest

import scalecheck
from scalecheck.errors import InputError
from scalecheck.sources import gadre2024

LOSSES = {"c4_val", "de-en", "openlm", "paloma_c4_en", "paloma_dolma_100_programing_languages",
          "paloma_falcon-refinedweb", "paloma_ptb", "paloma_redpajama"}


@pytest.fixture(scope="module")
def full(shared_data):
    return scalecheck.load("gadre2024", shared_data / "gadre2024")


def test_builtin_has_104_models_46_tasks_8_losses(builtin_testbed):
    tb = builtin_testbed
    assert len(tb.models) == 104
    assert len(tb.tasks) == 46
    assert set(tb.loss_names) == LOSSES
    assert len(tb.scores) == 104 * 46
    assert sorted(tb.models["corpus"].unique()) == ["c4_original", "rpj", "rw_original"]
    # The held-out targets are the 1.4B and 6.9B runs: 2 + 1 per corpus.
    assert int(tb.models["holdout"].sum()) == 9


def test_builtin_equals_release_value_for_value(builtin_testbed, full):
    assert builtin_testbed.models.equals(full.models)
    assert builtin_testbed.scores.equals(full.scores)
    num = ["task", "metric", "chance", "n_examples", "shots"]
    assert builtin_testbed.tasks[num].equals(full.tasks[num])


def test_release_values_match_raw_json(full, shared_data):
    # Spot-check against the raw files, independently of the importer's own parsing.
    raw = json.loads((shared_data / "gadre2024/models/rpj-d=576_l=24_h=8-4.0.json").read_text())
    row = full.models.set_index("model").loc["rpj-d=576_l=24_h=8-4.0"]
    assert row["params"] == raw["hyperparameters"]["params"]
    assert row["tokens"] == raw["hyperparameters"]["tokens"]
    assert row["flops"] == 6 * raw["hyperparameters"]["params"] * raw["hyperparameters"]["tokens"]
    c4 = [r["loss"] for r in raw["results"] if "/c4_val/" in r["val_data"][0]][0]
    assert row["loss_c4_val"] == c4
    ev = json.loads((shared_data / "gadre2024/evals/evaluation_rpj-d=576_l=24_h=8-4.0_heavy.json").read_text())
    s = full.scores.set_index(["model", "task"]).loc[("rpj-d=576_l=24_h=8-4.0", "hellaswag"), "value"]
    assert s == ev["eval_metrics"]["icl"]["hellaswag"]
    t = full.tasks.set_index("task").loc["hellaswag"]
    assert (t["chance"], t["n_examples"], t["shots"]) == (0.25, 10042, 10)


@pytest.fixture
def copy(tmp_path, shared_data):
    dst = tmp_path / "gadre"
    shutil.copytree(shared_data / "gadre2024", dst)
    return dst



@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["hyperparameters"].pop("params"), "hyperparameters.params"),
    (lambda d: d["hyperparameters"].__setitem__("tokens", "many"), "hyperparameters.tokens"),
    (lambda d: d["results"][1].pop("loss"), "results[1].loss"),
    (lambda d: d["results"][2].__setitem__("val_data", d["results"][1]["val_data"]), "results[2].val_data"),
    (lambda d: d.__setitem__("results", []), "results"),
])
def test_bad_model_file(copy, mutate, field, edit_json):
    f = copy / "models" / "rpj-d=96_l=8_h=4-1.0.json"
    edit_json(f, mutate)
    with pytest.raises(InputError) as e:
        gadre2024.read_folder(copy)
    assert e.value.path == str(f) and e.value.field == field


def test_nan_accuracy_is_refused(copy):
    f = copy / "evals" / "evaluation_rpj-d=96_l=8_h=4-1.0_heavy.json"
    f.write_text(f.read_text().replace('"boolq": 0.', '"boolq": NaN, "x": 0.', 1))
    with pytest.raises(InputError, match="NaN"):
        gadre2024.read_folder(copy)


def test_out_of_range_and_wrong_type_accuracy(copy, edit_json):
    f = copy / "evals" / "evaluation_rpj-d=96_l=8_h=4-1.0_heavy.json"
    edit_json(f, lambda d: d["eval_metrics"]["icl"].__setitem__("boolq", 1.5))
    with pytest.raises(InputError, match=r"outside \[0, 1\]") as e:
        gadre2024.read_folder(copy)
    assert e.value.field == "eval_metrics.icl.boolq"
    edit_json(f, lambda d: d["eval_metrics"]["icl"].__setitem__("boolq", "0.5"))
    with pytest.raises(InputError, match="expected a number"):
        gadre2024.read_folder(copy)


def test_missing_eval_file_empty_file_and_missing_folder(copy, tmp_path):
    (copy / "evals" / "evaluation_rpj-d=96_l=8_h=4-1.0_heavy.json").unlink()
    with pytest.raises(InputError, match="missing"):
        gadre2024.read_folder(copy)
    (copy / "models" / "rpj-d=96_l=8_h=4-1.0.json").write_text("")
    with pytest.raises(InputError, match="empty file"):
        gadre2024.read_folder(copy)
    with pytest.raises(InputError, match="missing folder"):
        gadre2024.read_folder(tmp_path)


def test_unknown_task_and_duplicate_metadata(copy):
    meta = copy / "eval_metadata.csv"
    lines = meta.read_text().splitlines(keepends=True)
    meta.write_text("".join(lines + [lines[1]]))
    with pytest.raises(InputError, match="duplicate task") as e:
        gadre2024.read_folder(copy)
    assert e.value.row == len(lines) + 1
    meta.write_text("".join(line for line in lines if not line.startswith("boolq,")))
    with pytest.raises(InputError, match="not in eval_metadata"):
        gadre2024.read_folder(copy)


def test_series_selection(builtin_testbed):
    s = builtin_testbed.series("hellaswag", "c4_val")
    assert len(s) == 104 and s.x_is_loss and np.all(np.diff(s.x) >= 0)
    assert s.chance == 0.25 and s.higher_is_better
    by = builtin_testbed.split_series("hellaswag", "c4_val", by="corpus")
    assert {k: len(v) for k, v in by.items()} == {"c4_original": 34, "rpj": 35, "rw_original": 35}
    p = builtin_testbed.series("hellaswag", "flops", where={"corpus": "rpj"})
    assert not p.x_is_loss and len(p) == 35
    order = p.scale_order
    assert np.all(np.diff(p.x[order]) >= 0)
