import json
import math
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalecheck
from scalecheck.errors import InputError
from scalecheck.sources import pythia


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "pythia_evals"


@pytest.fixture(scope="module")
def full(folder):
    return scalecheck.load("pythia", folder)


def test_loads_every_checkpoint_and_score(full, folder):
    # Count independently of the importer: checkpoints from the file names, scores from the raw JSON.
    checkpoints, n_scores, tasks = set(), 0, set()
    files = sorted(folder.glob("pythia-v1/*/**/*.json"))
    for f in files:
        run = f.relative_to(folder / "pythia-v1").parts[0]
        checkpoints.add((run, int(re.search(r"_step(\d+)\.json$", f.name).group(1))))
    baselines = sorted(folder.glob("opt/*.json")) + sorted(folder.glob("bloom/*.json"))
    for f in files + baselines:
        results = json.loads(f.read_text())["results"]
        tasks |= set(results)
        n_scores += sum(1 for r in results.values() for k in r if not k.endswith("_stderr"))
    assert len(files) + len(baselines) == 759
    assert len(full.models) == len(checkpoints) + len(baselines) == 506 + 13
    assert len(full.scores) == n_scores
    assert set(full.tasks["task"]) == tasks and len(tasks) == 87
    fam = full.models["family"].value_counts().to_dict()
    assert fam == {"pythia": 506, "opt": 8, "bloom": 5}


def test_checkpoint_metadata(full):
    m = full.models.set_index("model")
    r = m.loc["pythia-1.4b-deduped@step143000"]
    assert (r["run"], r["step"], r["size"], r["corpus"]) == ("pythia-1.4b-deduped", 143000, "1.4b", "pile-deduped")
    assert r["params"] == 1_414_647_808 and r["params_nonembed"] == 1_208_602_624
    assert r["tokens"] == 299_892_736_000  # the README's figure for step 143000
    assert r["flops"] == 6 * r["params"] * r["tokens"]
    # Batch-size variants see fewer tokens per step: their last checkpoints also end near 300B tokens.
    assert m.loc["pythia-70m-0.25MtokBS@step1144000", "tokens"] == 1_144_000 * 262_144
    assert m.loc["pythia-1.4b-1MtokBS@step286000", "tokens"] == 286_000 * 1_048_576
    # The bf16 folder is the standard 1B model; step 0 has no tokens on a log axis.
    assert m.loc["pythia-1b@step0", "run"] == "pythia-1b" and math.isnan(m.loc["pythia-1b@step0", "tokens"])
    assert m.loc["opt-66b", "params"] == 66e9 and m.loc["bloom-7b1", "corpus"] == "roots"
    assert m.loc["opt-125m", "tokens"] == 180e9 and m.loc["bloom-560m", "flops"] == 6 * 560e6 * 341e9


def test_scores_match_raw_files(full, folder):
    s = full.scores.set_index(["model", "task", "metric", "shots"])
    raw = json.loads((folder / "pythia-v1/pythia-410m/five-shot/410m-5shot_step93000.json").read_text())["results"]
    r = s.loc[("pythia-410m@step93000", "piqa", "acc_norm", 5)]
    assert r["value"] == raw["piqa"]["acc_norm"] and r["stderr"] == raw["piqa"]["acc_norm_stderr"]
    assert r["chance"] == 0.5 and r["n_examples"] == 1838 and r["higher_is_better"]
    # The zero-shot lambada perplexity's log is the models' loss axis.
    zero = json.loads((folder / "pythia-v1/pythia-410m/zero-shot/410m_step93000.json").read_text())["results"]
    m = full.models.set_index("model")
    assert m.loc["pythia-410m@step93000", "loss_lambada_openai"] == math.log(zero["lambada_openai"]["ppl"])
    assert math.isnan(m.loc["pythia-70m-0.25MtokBS@step1144000", "loss_lambada_openai"])  # five-shot only
    assert full.loss_names == ["lambada_openai"]
    ppl = s.loc[("pythia-410m@step93000", "lambada_openai", "ppl", 5)]
    assert not ppl["higher_is_better"] and math.isnan(ppl["chance"]) and math.isnan(ppl["n_examples"])
    t = full.tasks.set_index("task")
    # Sizes recovered from the standard errors equal the datasets' published sizes.
    assert t.loc["winogrande", "n_examples"] == 1267 and t.loc["arc_challenge", "n_examples"] == 1172
    assert t.loc["hendrycksTest-professional_law", "n_examples"] == 1534 and t.loc["lambada_openai", "n_examples"] == 5153
    assert t.loc["hendrycksTest-anatomy", "chance"] == 0.25
    # The four oddly named "-5shot" files in zero-shot/ are zero-shot (folder and num_fewshot agree).
    assert ("pythia-1b@step1000", "piqa", "acc", 0) in s.index and ("pythia-1b@step1000", "piqa", "acc", 5) not in s.index


def test_one_model_folder(folder):
    tb = scalecheck.load("pythia", folder / "pythia-v1" / "pythia-70m-0.25MtokBS")
    assert len(tb.models) == 14 and set(tb.scores["shots"]) == {5}
    tb = scalecheck.load("pythia", folder / "opt")
    assert len(tb.models) == 8


def test_round_trip_through_import(full, folder, tmp_path, import_round_trip):
    import_round_trip("pythia", folder, full, tmp_path)


@pytest.fixture
def run70(tmp_path, folder):
    dst = tmp_path / "pythia-70m"
    shutil.copytree(folder / "pythia-v1" / "pythia-70m", dst)
    return dst



@pytest.mark.parametrize("mutate, field, message", [
    (lambda d: d["config"].pop("num_fewshot"), "config.num_fewshot", "missing"),
    (lambda d: d["config"].__setitem__("num_fewshot", "0"), "config.num_fewshot", "expected int"),
    (lambda d: d["config"].__setitem__("num_fewshot", 5), "config.num_fewshot", "zero-shot folder"),
    (lambda d: d["results"]["piqa"].__setitem__("acc", "high"), "results.piqa.acc", "expected a number"),
    (lambda d: d["results"]["piqa"].__setitem__("acc", 1.5), "results.piqa.acc", "outside"),
    (lambda d: d["results"]["piqa"].__setitem__("acc_stderr", -0.1), "results.piqa.acc_stderr", "negative"),
    (lambda d: d["results"]["piqa"].pop("acc"), "results.piqa.acc_stderr", "without its metric"),
    (lambda d: d["config"].__setitem__("model_args", "pretrained=EleutherAI/pythia-v1.1-70m,revision=step9"),
     "config.model_args", "revision"),
    (lambda d: d["config"].__setitem__("model_args", "pretrained=EleutherAI/pythia-v1.1-12b,revision=step1000"),
     "config.model_args", "not the model"),
    (lambda d: d.__setitem__("results", {}), "results", "no results"),
])
def test_bad_file_is_named(run70, mutate, field, message, edit_json):
    f = run70 / "zero-shot" / "70m_step1000.json"
    edit_json(f, mutate)
    with pytest.raises(InputError, match=message) as e:
        pythia.read_folder(run70)
    assert e.value.path == str(f) and e.value.field == field, str(e.value)


def test_nan_empty_duplicate_and_misnamed(run70):
    f = run70 / "zero-shot" / "70m_step1000.json"
    text = f.read_text()
    f.write_text(re.sub(r'"acc": [0-9.e-]+', '"acc": NaN', text, count=1))
    with pytest.raises(InputError, match="NaN") as e:
        pythia.read_folder(run70)
    assert (e.value.path, e.value.field) == (str(f), "acc") and e.value.row >= 1
    f.write_text("")
    with pytest.raises(InputError, match="empty file"):
        pythia.read_folder(run70)
    f.write_text(text.replace('"piqa": {', '"piqa": {"acc": 0.5, ', 1))
    with pytest.raises(InputError, match="appears twice") as e:
        pythia.read_folder(run70)
    assert e.value.field == "acc"
    f.write_text(text)
    dup = run70 / "zero-shot" / "70m-again_step1000.json"
    dup.write_text(text)
    with pytest.raises(InputError, match="also in"):
        pythia.read_folder(run70)
    dup.unlink()
    (run70 / "zero-shot" / "notes.json").write_text(text)
    with pytest.raises(InputError, match="file name"):
        pythia.read_folder(run70)


def test_wrong_or_missing_folder(shared_data, tmp_path):
    with pytest.raises(InputError, match="not a Pythia evals folder"):
        scalecheck.load("pythia", shared_data / "gadre2024")
    with pytest.raises(InputError, match="no such folder"):
        scalecheck.load("pythia", tmp_path / "absent")
    (tmp_path / "pythia-v1" / "pythia-70m" / "zero-shot").mkdir(parents=True)
    with pytest.raises(InputError, match="no evaluation files"):
        scalecheck.load("pythia", tmp_path)


def test_cli_bad_input_one_line_exit_2(run70, tmp_path):
    (run70 / "zero-shot" / "70m_step1000.json").write_text("{not json")
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "pythia", str(run70), "-o",
                        str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "70m_step1000.json" in r.stderr
    assert "malformed JSON" in r.stderr and "Traceback" not in r.stderr


_SIZE = st.sampled_from(list(pythia.PYTHIA_PARAMS))
_TAGS = st.lists(st.sampled_from(["deduped", "bf16", "5shot", "0.5MtokBS", "1MtokBS"]), max_size=3)


@given(_SIZE, _TAGS, st.integers(0, 10**7))
def test_checkpoint_file_names_parse_back(size, tags, step):
    name = "-".join([size, *tags]) + f"_step{step}.json"
    assert pythia.parse_checkpoint_file(name) == (size, tuple(tags), step)


@given(st.text(max_size=30))
def test_parse_never_crashes_and_rejects_non_json_names(name):
    parsed = pythia.parse_checkpoint_file(name)
    assert parsed is None or name.endswith(".json")


@given(_SIZE, st.sampled_from([None, "deduped", "bf16", "0.25MtokBS", "0.5MtokBS", "1MtokBS"]))
def test_run_metadata(size, variant):
    name = f"pythia-{size}" + (f"-{variant}" if variant else "")
    meta = pythia.run_metadata(name)
    assert meta["size"] == size and meta["params"] == pythia.PYTHIA_PARAMS[size][0]
    assert meta["run"] == (f"pythia-{size}" if variant in (None, "bf16") else name)
    assert meta["corpus"] == ("pile-deduped" if variant == "deduped" else "pile")
    # Every run ends near 300B tokens whatever its batch size: tokens/step x steps are inversely matched.
    assert meta["tokens_per_step"] in (2_097_152, 262_144, 524_288, 1_048_576)
