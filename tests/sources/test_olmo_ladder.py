import csv
import json
import math
import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalecheck
from scalecheck.cli import main
from scalecheck.errors import InputError
from scalecheck.sources import olmo_ladder

WINDOW = re.compile(r"_(\d+k-(\d+k|end)|final)$")


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "olmo_ladder"


@pytest.fixture(scope="module")
def full(folder):
    return scalecheck.load("olmo-ladder", folder)


def _rows(path):
    with path.open(newline="") as fh:
        r = csv.reader(fh)
        header = next(r)
        return header, list(r)


def test_loads_every_checkpoint_and_score(full, folder):
    # Independent count: sub-window files repeat checkpoints of their full run, every other row is a model.
    files = sorted((folder / "data" / "ladder-runs").glob("*.csv"))
    assert len(files) == 41
    n_models = n_scores = 0
    tasks, losses = set(), set()
    for f in files:
        header, rows = _rows(f)
        score_cols = [c for c in header if c.startswith("eval/downstream")]
        tasks |= {re.sub(r"_(rc|mc)_5shot_.*$", "", c.split("/")[-1]) for c in score_cols}
        losses |= {c.split("/")[1].removesuffix("-validation") for c in header if c.endswith("CrossEntropyLoss")}
        if not WINDOW.search(f.stem):
            n_models += len(rows)
            n_scores += len(rows) * len(score_cols)
    assert len(full.models) == n_models == 3948
    assert len(full.scores) == n_scores
    assert set(full.tasks["task"]) == tasks and len(tasks) == 20
    assert set(full.loss_names) == losses and len(losses) == 11
    assert full.models["family"].value_counts().to_dict() == {"olmo-ladder": 3569, "olmo-2": 379}


def test_metadata_tokens_flops_and_targets(full):
    m = full.models.set_index("model")
    r = m.loc["190M-1xC@step7272"]
    assert (r["size"], r["run"], r["step"]) == ("190M", "190M-1xC", 7272)
    assert r["params"] == 190_354_176 and r["tokens"] == 3_812_622_336
    assert r["flops"] == 1_903_391_232 * 3_812_622_336  # FLOPs per token x tokens, ~7.26e18
    assert m.loc["3B-10xC@step201524", "tokens"] == 633_939_689_472
    assert m.loc["peteish7_eval_full@step925000", "tokens"] == 925_000 * 4_194_304
    assert m.loc["peteish13_eval_full@step596057", "tokens"] == 596_057 * 8_388_608
    assert math.isnan(m.loc["peteish7_eval_full@step0", "tokens"])
    anneal = m.loc["peteish7_eval_anneal"]
    assert anneal["tokens"] == 3_945_065_873_408 and anneal["holdout"] and anneal["params"] == 6_887_575_552
    held = full.models[full.models["holdout"]]
    # The 7B anneal row and the 12 checkpoints of peteish13_eval_final are the declared targets.
    assert len(held) == 13 and set(held["size"]) == {"7B", "13B"}
    assert sorted(held.loc[held["size"] == "13B", "step"].tolist())[0] == 557000


def test_values_match_raw_csv(full, folder):
    header, rows = _rows(folder / "data/ladder-runs/1B-5xC.csv")
    raw = dict(zip(header, rows[-1], strict=True))
    model = f"1B-5xC@step{raw['_step']}"
    m = full.models.set_index("model").loc[model]
    assert m["loss_c4_en"] == float(raw["eval/c4_en-validation/CrossEntropyLoss"])
    s = full.scores.set_index(["model", "task", "metric", "variant"])
    assert s.loc[(model, "boolq_val", "acc", "rc"), "value"] == float(raw["eval/downstream/boolq_val_rc_5shot_acc"])
    bpb = s.loc[(model, "hellaswag_val", "bpb", "rc")]
    assert bpb["value"] == float(raw["eval/downstream_bpb/hellaswag_val_rc_5shot_bpb"]) and not bpb["higher_is_better"]
    soft_log = s.loc[(model, "csqa_val", "soft_log", "rc")]
    assert soft_log["chance"] == pytest.approx(math.log(0.2)) and soft_log["value"] <= 0
    mc = s.loc[("peteish7_eval_anneal", "mmlu_stem_test", "acc", "mc")]
    assert mc["chance"] == 0.25 and mc.name[0] == "peteish7_eval_anneal"
    assert ("1B-5xC@step81352", "mmlu_stem_test", "acc", "mc") not in s.index  # the ladder has no mc format


def test_documented_sizes_fit_every_accuracy(full):
    acc = full.scores[full.scores["metric"] == "acc"]
    assert acc["n_examples"].notna().all()
    k = acc["value"] * acc["n_examples"]
    # Values are float32 in the logs, hence the tolerance; a wrong n leaves fractions near 0.5 somewhere.
    assert ((k - k.round()).abs() < 2e-3).all()
    assert full.scores.loc[full.scores["metric"] != "acc", "n_examples"].isna().all()


def test_round_trip_through_import(full, folder, tmp_path, import_round_trip):
    import_round_trip("olmo-ladder", folder, full, tmp_path)


def test_configs_and_published_predictions(folder, full):
    cfg = olmo_ladder.read_configs(folder, "final")
    train = cfg[cfg["mode"] == "train"]
    assert sorted(set(train["name"])) == ["1.3B", "190M", "370M", "760M"] and len(train) == 16
    ev = cfg[cfg["mode"] == "eval"].set_index("name")
    assert ev.loc["7B-4T", "run"] == "peteish7_eval_anneal" and ev.loc["13B-5T", "run"] == "peteish13_eval_full"
    assert set(cfg["run"]) <= set(full.models["run"])
    n_paths = sum(len(e["paths"]) for f in (folder / "configs").glob("*.json")
                  for e in json.loads(f.read_text()).values())
    assert len(olmo_ladder.read_configs(folder)) == n_paths
    pred = olmo_ladder.read_predictions(folder)
    assert len(pred) == 9 * 8 and set(pred["stage"]) == {"step1", "step2", "chained"}
    # Every predicted task but the MMLU average is a task of the testbed.
    assert set(pred["testbed_task"]) - set(full.tasks["task"]) == {"mmlu_avg_test"}
    row = pred.set_index(["figure", "task"]).loc[("chained_main", "hellaswag_val_5shot")]
    assert row["pred"] == pytest.approx(0.8530359563499285) and row["shots"] == 5
    var = olmo_ladder.read_variance(folder)
    assert len(var) == 10 and "accuracy_sd" in var.columns


@pytest.fixture
def small(tmp_path, folder):
    """A small copy: one ladder run and the 13B full run with its two sub-windows."""
    runs = tmp_path / "ladder" / "data" / "ladder-runs"
    runs.mkdir(parents=True)
    for name in ("190M-1xC", "peteish13_eval_full", "peteish13_eval_final", "peteish13_eval_50k-150k"):
        shutil.copy(folder / "data" / "ladder-runs" / f"{name}.csv", runs)
    return runs


def test_small_copy_and_windows(small):
    tb = scalecheck.load("olmo-ladder", small.parent.parent)
    assert len(tb.models) == 37 + 94 and int(tb.models["holdout"].sum()) == 12
    # A sub-window checkpoint that the full file lacks joins the full run.
    step = (small / "peteish13_eval_50k-150k.csv").read_text().splitlines()[1].split(",")[0]
    full_f = small / "peteish13_eval_full.csv"
    lines = full_f.read_text().splitlines(keepends=True)
    full_f.write_text("".join(ln for ln in lines if not ln.startswith(step + ",")))
    tb = scalecheck.load("olmo-ladder", small)
    assert f"peteish13_eval_full@step{step}" in set(tb.models["model"]) and len(tb.models) == 37 + 94


def _set_cell(path, line_no, column, value):
    lines = path.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[line_no - 1].rstrip("\n").split(",")
    cells[header.index(column)] = value
    lines[line_no - 1] = ",".join(cells) + "\n"
    path.write_text("".join(lines))


C4 = "eval/c4_en-validation/CrossEntropyLoss"


def test_disagreeing_window_is_refused(small):
    f = small / "peteish13_eval_final.csv"
    _set_cell(f, 3, C4, "9.5")
    with pytest.raises(InputError, match="also in the full run") as e:
        olmo_ladder.read_folder(small)
    assert (e.value.path, e.value.row, e.value.field) == (str(f), 3, C4)


@pytest.mark.parametrize("column, value, message", [
    ("_step", "x", "not a number"),
    (C4, "abc", "not a number"),
    (C4, "nan", "not a finite number"),
    (C4, "", "not a finite number"),
    ("eval/downstream/piqa_val_rc_5shot_len_norm", "inf", "not a finite number"),
    ("_step", "-5", "not a step"),
])
def test_bad_cells_are_named(small, column, value, message):
    f = small / "190M-1xC.csv"
    _set_cell(f, 4, column, value)
    with pytest.raises(InputError, match=message) as e:
        olmo_ladder.read_folder(small)
    assert (e.value.path, e.value.row, e.value.field) == (str(f), 4, column)


def test_missing_duplicate_empty_unknown(small, shared_data):
    f = small / "190M-1xC.csv"
    text = f.read_text()
    lines = text.splitlines(keepends=True)
    f.write_text(lines[0].replace("_step,", "step_,") + "".join(lines[1:]))
    with pytest.raises(InputError, match="missing column") as e:
        olmo_ladder.read_folder(small)
    assert e.value.field == "_step"
    f.write_text(lines[0].replace("_step,", "_step,colour,") + "".join(ln.replace(",", ",1,", 1) for ln in lines[1:]))
    with pytest.raises(InputError, match="unknown column") as e:
        olmo_ladder.read_folder(small)
    assert e.value.field == "colour"
    f.write_text(lines[0] + lines[1] + lines[1])
    with pytest.raises(InputError, match="appears twice") as e:
        olmo_ladder.read_folder(small)
    assert (e.value.row, e.value.field) == (3, "_step")
    f.write_text("")
    with pytest.raises(InputError, match="empty file"):
        olmo_ladder.read_folder(small)
    f.write_text(lines[0])
    with pytest.raises(InputError, match="no rows"):
        olmo_ladder.read_folder(small)
    header = lines[0].rstrip("\n").split(",")
    i = header.index("throughput/total_tokens")
    f.write_text(lines[0] + "".join(",".join(v if j != i else "123" for j, v in enumerate(ln.rstrip("\n").split(",")))
                                    + "\n" for ln in lines[1:]))
    with pytest.raises(InputError, match="disagrees") as e:
        olmo_ladder.read_folder(small)
    assert (e.value.row, e.value.field) == (2, "throughput/total_tokens")
    f.write_text(text)
    (small / "190M-1xC-copy.csv").write_text(text)
    with pytest.raises(InputError, match="not a ladder run file"):
        olmo_ladder.read_folder(small)
    with pytest.raises(InputError, match="not an OLMo ladder folder"):
        scalecheck.load("olmo-ladder", shared_data / "pythia_evals")


def test_bad_config(tmp_path, folder):
    (tmp_path / "configs").mkdir()
    doc = json.loads((folder / "configs" / "final.json").read_text())
    doc["190M"]["mode"] = "predict"
    (tmp_path / "configs" / "final.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="train or eval") as e:
        olmo_ladder.read_configs(tmp_path, "final")
    assert e.value.field == "190M.mode"
    doc["190M"]["mode"] = "train"
    del doc["370M"]["n"]
    (tmp_path / "configs" / "final.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="missing") as e:
        olmo_ladder.read_configs(tmp_path, "final")
    assert e.value.field == "370M.n"


_TASK = st.from_regex(r"[a-z][a-z0-9_]{0,15}[a-z0-9]", fullmatch=True).filter(lambda t: "__" not in t)


@given(_TASK, st.sampled_from(["val", "test"]), st.integers(0, 25),
       st.sampled_from([("downstream_bpb", "rc", "bpb", "bpb"), ("downstream", "rc", "len_norm", "acc"),
                        ("downstream", "mc", "acc", "acc"), ("downstream_soft", "rc", "soft", "soft"),
                        ("downstream_soft_log", "rc", "soft_log", "soft_log")]))
def test_score_columns_parse_back(task, split, shots, kind):
    folder_kind, fmt, what, metric = kind
    col = f"eval/{folder_kind}/{task}_{split}_{fmt}_{shots}shot_{what}"
    assert olmo_ladder.parse_column(col) == (f"{task}_{split}", metric, fmt, shots)


@given(st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True))
def test_loss_columns_parse_back(name):
    assert olmo_ladder.parse_column(f"eval/{name}-validation/CrossEntropyLoss") == name


def test_cli_bad_input_one_line_exit_2(small, tmp_path, capsys):
    _set_cell(small / "190M-1xC.csv", 5, C4, "oops")
    assert main(["import", "olmo-ladder", str(small), "-o", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "190M-1xC.csv: line 5: field 'eval/c4_en-validation/CrossEntropyLoss'" in err
    assert not (tmp_path / "x.parquet").exists()
