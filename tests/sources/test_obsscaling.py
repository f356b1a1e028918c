import csv
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalecheck
from scalecheck.cli import main
from scalecheck.errors import InputError
from scalecheck.sources import obsscaling

META = {"Model", "Model Family", "Model Size (B)", "Pretraining Data Size (T)", "FLOPs (1E21)"}
FILES = ("base_llm_benchmark_eval.csv", "base_llm_emergent_capability_eval.csv", "base_llm_leaderboard_v2_eval.csv")


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "obsscaling"


@pytest.fixture(scope="module")
def full(folder):
    return scalecheck.load("obsscaling", folder)


def _dicts(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_loads_every_model_and_score(full, folder):
    tables = {f: _dicts(folder / "eval_results" / f) for f in FILES}
    models = {r["Model"] for r in tables[FILES[0]]}
    score_cells = sum(1 for rows in tables.values() for r in rows for k, v in r.items() if k not in META and v != "")
    columns = sum(len([k for k in rows[0] if k not in META]) for rows in tables.values())
    assert len(full.models) == len(models) == 148
    assert len(full.scores) == score_cells
    # One task per column, except ipa_transliterate's two metrics (exact match and BLEU).
    assert len(full.tasks) == columns - 1 == 21
    assert full.models["family"].nunique() == 47


def test_metadata_and_scales(full, folder):
    m = full.models.set_index("model").loc["meta-llama/Llama-2-7b-hf"]
    assert (m["family"], m["size"], m["params"], m["tokens"]) == ("Llama-2", "7B", 7e9, 2e12)
    assert m["flops"] == pytest.approx(8.4e22)
    gpt2 = full.models.set_index("model").loc["openai-community/gpt2"]
    assert gpt2["params"] > 0 and gpt2["tokens"] != gpt2["tokens"]  # no token count given: NaN, no FLOPs
    s = full.scores.set_index(["model", "task", "metric"])
    bleu = s.loc[("meta-llama/Llama-2-7b-hf", "ipa_transliterate", "bleu")]
    assert bleu["value"] == pytest.approx(27.23879164406593) and bleu["n_examples"] != bleu["n_examples"]
    arc = s.loc[("meta-llama/Llama-2-7b-hf", "arc_challenge", "acc_norm")]
    assert (arc["shots"], arc["chance"], arc["n_examples"]) == (25, 0.25, 1172)
    assert s.loc[("meta-llama/Llama-2-7b-hf", "arithmetic_3ds", "acc"), "shots"] == 2
    assert s.loc[("meta-llama/Llama-2-7b-hf", "leaderboard_mmlu_pro", "acc"), "chance"] == 0.1


def test_documented_sizes_fit_the_scores(full):
    # The n_examples claimed for the emergent and leaderboard tasks: every (unrounded) score is k/n.
    sc = full.scores[full.scores["n_examples"].notna()]
    for task in ["parsinlu_qa", "word_unscrambling", "arithmetic_2dm", "leaderboard_gpqa", "leaderboard_musr"]:
        sub = sc[sc["task"] == task]
        k = sub["value"] * sub["n_examples"]
        assert ((k - k.round()).abs() < 1e-6).all(), task


def test_round_trip_through_import(full, folder, tmp_path, import_round_trip):
    import_round_trip("obsscaling", folder, full, tmp_path)


@pytest.fixture
def copy(tmp_path, folder):
    dst = tmp_path / "obs"
    shutil.copytree(folder, dst)
    for f in (dst / "eval_results").iterdir():
        f.chmod(0o644)
    return dst / "eval_results"


def _set(path, line, column, value):
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


@pytest.mark.parametrize("file, column, value, message", [
    (FILES[0], "MMLU", "high", "not a number"),
    (FILES[0], "MMLU", "NaN", "not a number"),
    (FILES[0], "MMLU", "1.5", "outside"),
    (FILES[0], "ARC-C", "inf", "not a finite number"),
    (FILES[0], "Model Size (B)", "", "missing value"),
    (FILES[0], "Model Size (B)", "-7", "not positive"),
    (FILES[0], "Model", "", "missing model id"),
    # line 3 holds Llama-2-13b: the second occurrence is the one named
    (FILES[0], "Model", "meta-llama/Llama-2-13b-hf", "appears twice"),
    (FILES[1], "ipa_transliterate_2_bleu", "101", "outside"),
    (FILES[1], "Model", "someone/unknown-1b", "not in base_llm_benchmark_eval"),
    (FILES[2], "leaderboard_gpqa", "x", "not a number"),
])
def test_bad_cells_are_named(copy, file, column, value, message):
    f = copy / file
    _set(f, 2, column, value)
    with pytest.raises(InputError, match=message) as e:
        scalecheck.load("obsscaling", copy)
    line = 3 if "twice" in message else 2
    assert (e.value.path, e.value.row, e.value.field) == (str(f), line, column), str(e.value)


def test_missing_unknown_empty_and_wrong_folder(copy, shared_data, tmp_path):
    main_f = copy / FILES[0]
    text = main_f.read_text()
    main_f.write_text(text.replace(",GSM8K,", ",GSM9K,", 1))
    with pytest.raises(InputError, match="missing column") as e:
        obsscaling.read_folder(copy)
    assert e.value.field == "GSM8K"
    main_f.write_text(text)
    em = copy / FILES[1]
    em.write_text(em.read_text().replace("parsinlu_qa_2_acc", "parsinlu_qa_acc", 1))
    with pytest.raises(InputError, match="unknown column") as e:
        obsscaling.read_folder(copy)
    assert (e.value.path, e.value.field) == (str(em), "parsinlu_qa_acc")
    em.write_text("")
    with pytest.raises(InputError, match="empty file"):
        obsscaling.read_folder(copy)
    em.write_text("Model,parsinlu_qa_2_acc\n")
    with pytest.raises(InputError, match="no rows"):
        obsscaling.read_folder(copy)
    with pytest.raises(InputError, match="not an ObsScaling folder"):
        scalecheck.load("obsscaling", shared_data / "olmo_ladder")


@given(st.from_regex(r"[a-z][a-z0-9_]{0,20}[a-z0-9]", fullmatch=True), st.integers(0, 64),
       st.sampled_from(["acc", "exact_match", "bleu"]))
def test_emergent_columns_parse_back(task, shots, metric):
    b = obsscaling.parse_emergent_column(f"{task}_{shots}_{metric}")
    assert (b.task, b.metric, b.shots) == (task, metric, shots)
    assert b.scale == (100.0 if metric == "bleu" else 1.0)


def test_cli_bad_input_one_line_exit_2(copy, tmp_path, capsys):
    _set(copy / FILES[1], 4, "arithmetic_2da_2_acc", "1.2")
    assert main(["import", "obsscaling", str(copy.parent), "-o", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "base_llm_emergent_capability_eval.csv: line 4: field 'arithmetic_2da_2_acc'" in err
