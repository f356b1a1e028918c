"""The lm-eval importer on small runs written here in lm-evaluation-harness 0.4's format (no network)."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalecheck
from scalecheck.cli import main
from scalecheck.errors import InputError, ScalecheckError
from scalecheck.observations import Testbed
from scalecheck.sources import lm_eval

TS = "2024-05-01T12-00-00.123456"
MC_TASKS = {"arc_easy": (60, 4), "piqa": (40, 2), "mmlu_anatomy": (30, 4), "mmlu_virology": (20, 4)}


def _stderr(x):
    # The harness's standard error of a mean: sample standard deviation / sqrt(n).
    return float(np.std(x, ddof=1) / math.sqrt(len(x)))


def write_run(root, pretrained, revision=None, *, ts=TS, shots=0, skill=0.5, samples=True, folder=None, seed=0):
    """One `lm_eval --output_path root --log_samples` run, shaped like 0.4.x output."""
    rng = np.random.default_rng(seed)
    folder = root / (folder or pretrained.replace("/", "__"))
    folder.mkdir(parents=True, exist_ok=True)
    results, configs, n_shot, n_samples, hib, versions = {}, {}, {}, {}, {}, {}
    for task, (n, k) in MC_TASKS.items():
        acc = (rng.random(n) < skill).astype(float)
        acc_norm = (rng.random(n) < skill * 0.9).astype(float)
        results[task] = {"alias": task if not task.startswith("mmlu") else f"  - {task[5:]}",
                         "acc,none": float(acc.mean()), "acc_stderr,none": _stderr(acc),
                         "acc_norm,none": float(acc_norm.mean()), "acc_norm_stderr,none": _stderr(acc_norm)}
        configs[task] = {"task": task, "dataset_path": "x/" + task, "num_fewshot": shots,
                         "output_type": "multiple_choice",
                         "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                                         {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}]}
        n_shot[task], n_samples[task] = shots, {"original": n, "effective": n}
        hib[task], versions[task] = {"acc": True, "acc_norm": True}, 1.0
        if samples:
            lines = []
            for i in range(n):
                target = int(rng.integers(k))
                lls = rng.normal(-5, 1, k)
                lines.append({
                    "doc_id": i, "doc": {"question": f"q{i}?", "choices": [f"c{j}" for j in range(k)], "answer": target},
                    "target": target,
                    "arguments": {f"gen_args_{j}": {"arg_0": f"Question: q{i}?\nAnswer:", "arg_1": f" c{j}"}
                                  for j in range(k)},
                    "resps": [[[float(v), False]] for v in lls], "filtered_resps": [[float(v), False] for v in lls],
                    "filter": "none", "metrics": ["acc", "acc_norm"],
                    "doc_hash": "ab" * 32, "prompt_hash": "cd" * 32, "target_hash": "ef" * 32,
                    "acc": float(acc[i]), "acc_norm": float(acc_norm[i])})
            (folder / f"samples_{task}_{ts}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    # A generative task with two answer-extraction filters (variants), and a group over the MMLU subjects.
    gsm = {f: (rng.random(25) < skill / 2).astype(float) for f in ("strict-match", "flexible-extract")}
    results["gsm8k"] = {"alias": "gsm8k", **{f"exact_match,{f}": float(v.mean()) for f, v in gsm.items()},
                        **{f"exact_match_stderr,{f}": _stderr(v) for f, v in gsm.items()}}
    configs["gsm8k"] = {"task": "gsm8k", "num_fewshot": 5, "output_type": "generate_until",
                        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}]}
    n_shot["gsm8k"], n_samples["gsm8k"], hib["gsm8k"] = 5, {"original": 1319, "effective": 25}, {"exact_match": True}
    if samples:
        lines = [{"doc_id": i, "doc": {"question": "1+1?"}, "target": "2", "arguments": {"gen_args_0": {"arg_0": "Q"}},
                  "resps": [["2"]], "filtered_resps": ["2"], "filter": f, "metrics": ["exact_match"],
                  "exact_match": float(v[i])} for f, v in gsm.items() for i in range(25)]
        (folder / f"samples_gsm8k_{ts}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    sub = ["mmlu_anatomy", "mmlu_virology"]
    results["mmlu"] = {"alias": "mmlu", "acc,none": float(np.mean([results[t]["acc,none"] for t in sub])),
                       "acc_stderr,none": "N/A"}
    n_shot["mmlu"], hib["mmlu"] = shots, {"acc": True}
    results["wikitext"] = {"alias": "wikitext", "word_perplexity,none": 40.0 / skill, "word_perplexity_stderr,none": "N/A",
                           "bits_per_byte,none": 1.1 / skill, "bits_per_byte_stderr,none": "N/A"}
    configs["wikitext"] = {"task": "wikitext", "num_fewshot": 0, "output_type": "loglikelihood_rolling"}
    n_shot["wikitext"], n_samples["wikitext"] = 0, {"original": 62, "effective": 62}
    hib["wikitext"] = {"word_perplexity": False, "bits_per_byte": False}
    args = f"pretrained={pretrained}" + (f",revision={revision}" if revision else "") + ",dtype=float32"
    doc = {
        "results": results, "groups": {"mmlu": results["mmlu"]}, "group_subtasks": {"mmlu": sub},
        "configs": configs, "versions": versions, "n-shot": n_shot, "higher_is_better": hib, "n-samples": n_samples,
        "config": {"model": "hf", "model_args": args, "model_num_parameters": 70426624, "model_dtype": "torch.float32",
                   "model_revision": revision or "main", "model_sha": "", "batch_size": "auto", "batch_sizes": [64],
                   "device": "cuda:0", "use_cache": None, "limit": None, "bootstrap_iters": 100000,
                   "gen_kwargs": None, "random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234, "fewshot_seed": 1234},
        "git_hash": "4c3b5e2", "date": 1714564800.0, "transformers_version": "4.40.1",
        "model_name": pretrained, "model_name_sanitized": pretrained.replace("/", "__"),
        "start_time": 1.0, "end_time": 2.0, "total_evaluation_time_seconds": "1.0",
    }
    path = folder / f"results_{ts}.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


LADDER = """\
family: pythia
corpus: pile
models:
  - {name: pythia-70m@step1000, id: EleutherAI/pythia-70m, revision: step1000, params: 70426624,
     tokens: 2.097152e9, step: 1000, losses: {pile_val: 4.1}}
  - {name: pythia-70m@step143000, id: EleutherAI/pythia-70m, revision: step143000, params: 70426624,
     tokens: 2.99892736e11, step: 143000, losses: {pile_val: 2.5}}
  - {name: pythia-160m, id: EleutherAI/pythia-160m, params: 162322944, tokens: 2.99892736e11, holdout: true}
"""


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    # Two checkpoints of one model land in one folder (lm-eval names folders by model, not revision).
    write_run(root, "EleutherAI/pythia-70m", "step1000", ts="2024-05-01T10-00-00.000001", skill=0.3, seed=1)
    write_run(root, "EleutherAI/pythia-70m", "step143000", ts="2024-05-01T11-00-00.000001", skill=0.5, seed=2)
    write_run(root, "EleutherAI/pythia-160m", skill=0.6, seed=3, samples=False)
    (tmp_path / "ladder.yaml").write_text(LADDER)
    return root


def _count_scores(root):
    n = 0
    for f in root.glob("*/results_*.json"):
        for entry in json.loads(f.read_text())["results"].values():
            n += sum(1 for k in entry if "," in k and "_stderr," not in k)
    return n


def test_reads_runs_with_ladder(runs, tmp_path):
    tb = scalecheck.load("lm-eval", runs, ladder=tmp_path / "ladder.yaml")
    assert sorted(tb.models["model"]) == ["pythia-160m", "pythia-70m@step1000", "pythia-70m@step143000"]
    assert len(tb.scores) == _count_scores(runs) == 3 * (4 * 2 + 2 + 1 + 2)
    assert len(tb.tasks) == 7
    m = tb.models.set_index("model")
    assert m.loc["pythia-70m@step143000", "tokens"] == 2.99892736e11 and m.loc["pythia-70m@step1000", "step"] == 1000
    assert m.loc["pythia-70m@step1000", "run"] == "EleutherAI/pythia-70m" and m.loc["pythia-160m", "holdout"]
    assert m.loc["pythia-70m@step1000", "loss_pile_val"] == 4.1 and m.loc["pythia-70m@step1000", "corpus"] == "pile"
    s = tb.scores.set_index(["model", "task", "metric", "variant"])
    raw = json.loads(next((runs / "EleutherAI__pythia-70m").glob("results_2024-05-01T11*.json")).read_text())
    arc = s.loc[("pythia-70m@step143000", "arc_easy", "acc", "")]
    assert arc["value"] == raw["results"]["arc_easy"]["acc,none"]
    assert arc["stderr"] == raw["results"]["arc_easy"]["acc_stderr,none"]
    assert (arc["n_examples"], arc["shots"], arc["chance"]) == (60, 0, 0.25)  # chance: 1/4 options, from samples
    assert s.loc[("pythia-70m@step143000", "piqa", "acc", ""), "chance"] == 0.5
    # No samples for 160m: chance from the table of known tasks, n from n-samples.
    assert s.loc[("pythia-160m", "arc_easy", "acc", ""), "chance"] == 0.25
    gsm = s.sort_index().loc[("pythia-70m@step1000", "gsm8k", "exact_match")]
    assert set(gsm.index) == {"strict-match", "flexible-extract"} and set(gsm["shots"]) == {5}
    assert set(gsm["n_examples"]) == {25}
    mmlu = s.loc[("pythia-70m@step1000", "mmlu", "acc", "")]
    assert mmlu["n_examples"] == 50 and math.isnan(mmlu["stderr"])  # a group: 30 + 20, stderr "N/A"
    ppl = s.loc[("pythia-70m@step1000", "wikitext", "word_perplexity", "")]
    assert not ppl["higher_is_better"] and math.isnan(ppl["chance"]) and math.isnan(ppl["n_examples"])
    t = tb.tasks.set_index("task")
    assert t.loc["wikitext", "task_type"] == "language modeling" and t.loc["arc_easy", "metric"] == "acc"


def test_ladder_inside_folder_and_round_trip(runs, tmp_path):
    (tmp_path / "ladder.yaml").rename(runs / "ladder.yaml")
    tb = scalecheck.load("lm-eval", runs)
    assert len(tb.models) == 3 and tb.models["family"].eq("pythia").all()
    out = tmp_path / "x.parquet"
    assert main(["import", "lm-eval", str(runs), "-o", str(out)]) == 0
    back = Testbed.read(out)
    assert back.models.equals(tb.models) and back.scores.equals(tb.scores) and back.tasks.equals(tb.tasks)
    (runs / "ladder.yaml").rename(tmp_path / "l.yaml")
    out2 = tmp_path / "y.parquet"
    assert main(["import", "lm-eval", str(runs), "--ladder", str(tmp_path / "l.yaml"), "-o", str(out2)]) == 0
    assert Testbed.read(out2).scores.equals(tb.scores)


def test_group_shots_from_subtasks(one, edit_json):
    edit_json(one, lambda d: d["n-shot"].pop("mmlu"))
    tb = lm_eval.read_runs(one.parent)
    assert tb.tasks.set_index("task").loc["mmlu", "shots"] == 0
    edit_json(one, lambda d: (d["n-shot"].__setitem__("mmlu_anatomy", 5), d["configs"]["mmlu_anatomy"].__setitem__(
        "num_fewshot", 5)))
    tb = lm_eval.read_runs(one.parent)  # subtasks disagree: the group's setting is unknown
    assert tb.scores.set_index(["task", "metric"]).loc[("mmlu", "acc"), "shots"] is pd.NA


def test_without_ladder_and_one_run_folder(runs):
    tb = scalecheck.load("lm-eval", runs)
    assert sorted(tb.models["model"]) == ["EleutherAI/pythia-160m", "EleutherAI/pythia-70m@step1000",
                                          "EleutherAI/pythia-70m@step143000"]
    assert tb.models["params"].eq(70426624).all()  # config.model_num_parameters
    one = scalecheck.load("lm-eval", runs / "EleutherAI__pythia-160m")
    assert list(one.models["model"]) == ["EleutherAI/pythia-160m"]


def test_newest_rerun_wins(runs):
    new = write_run(runs, "EleutherAI/pythia-160m", ts="2024-06-01T00-00-00.000001", skill=0.9, seed=9)
    tb = scalecheck.load("lm-eval", runs)
    s = tb.scores.set_index(["model", "task", "metric", "variant"])
    want = json.loads(new.read_text())["results"]["piqa"]["acc,none"]
    assert s.loc[("EleutherAI/pythia-160m", "piqa", "acc", ""), "value"] == want
    assert len(tb.models) == 3



@pytest.fixture
def one(tmp_path):
    return write_run(tmp_path / "runs", "EleutherAI/pythia-70m", "step1000")


@pytest.mark.parametrize("mutate, field, message", [
    (lambda d: d.pop("results"), "results", "missing"),
    (lambda d: d.pop("config"), "config", "missing"),
    (lambda d: d["results"].__setitem__("piqa", 0.5), "results.piqa", "expected a mapping"),
    (lambda d: d["results"]["piqa"].__setitem__("acc,none", "high"), "results.piqa.acc,none", "expected a number"),
    (lambda d: d["results"]["piqa"].__setitem__("acc,none", 1.5), "results.piqa.acc,none", "outside"),
    (lambda d: d["results"]["piqa"].__setitem__("acc_stderr,none", -1), "results.piqa.acc_stderr,none", "negative"),
    (lambda d: d["results"]["piqa"].pop("acc,none"), "results.piqa.acc_stderr,none", "without its metric"),
    (lambda d: d["n-shot"].__setitem__("piqa", 5), "n-shot.piqa", "num_fewshot 0"),
    (lambda d: d["n-shot"].__setitem__("piqa", "zero"), "n-shot.piqa", "count of shots"),
    (lambda d: d["n-samples"]["piqa"].__setitem__("effective", 0), "n-samples.piqa.effective", "positive count"),
    (lambda d: d["higher_is_better"]["piqa"].__setitem__("acc", "yes"), "higher_is_better.piqa.acc", "true or false"),
    (lambda d: d["config"].__setitem__("model_args", 3), "config.model_args", "expected text"),
])
def test_bad_results_file_is_named(one, mutate, field, message, edit_json):
    edit_json(one, mutate)
    with pytest.raises(InputError, match=message) as e:
        lm_eval.read_runs(one.parent.parent)
    assert e.value.path == str(one) and e.value.field == field, str(e.value)


def test_nan_duplicate_key_and_empty_results(one):
    text = one.read_text()
    one.write_text(text.replace('"acc,none": 0.', '"acc,none": 0.1, "acc,none": 0.', 1))
    with pytest.raises(InputError, match="appears twice") as e:
        lm_eval.read_runs(one.parent.parent)
    assert (e.value.path, e.value.field) == (str(one), "acc,none")
    one.write_text(text.replace('"acc,none": 0.', '"acc,none": NaN, "x,none": 0.', 1))
    with pytest.raises(InputError, match="NaN") as e:
        lm_eval.read_runs(one.parent.parent)
    assert (e.value.path, e.value.field) == (str(one), "acc,none")
    assert '"acc,none": NaN' in one.read_text().splitlines()[e.value.row - 1]
    one.write_text("")
    with pytest.raises(InputError, match="empty file"):
        lm_eval.read_runs(one.parent.parent)


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _write_lines(path, docs):
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))


def test_bad_samples_are_named(one):
    f = one.parent / f"samples_arc_easy_{TS}.jsonl"
    docs = _lines(f)
    _write_lines(f, docs + [docs[3]])
    with pytest.raises(InputError, match="appears twice") as e:
        lm_eval.read_runs(one.parent)
    assert (e.value.path, e.value.row, e.value.field) == (str(f), len(docs) + 1, "doc_id")
    _write_lines(f, docs[:-1])
    with pytest.raises(InputError, match="59 documents"):
        lm_eval.read_runs(one.parent)
    flipped = [dict(d, acc=1.0 - d["acc"]) if i == 0 else d for i, d in enumerate(docs)]
    _write_lines(f, flipped)
    with pytest.raises(InputError, match="mean acc") as e:
        lm_eval.read_runs(one.parent)
    assert e.value.field == "acc"
    f.write_text("".join(json.dumps(d) + "\n" for d in docs[:5]) + '{"doc_id": 5, "acc": NaN}\n')
    with pytest.raises(InputError, match="NaN") as e:
        lm_eval.read_runs(one.parent)
    assert e.value.row == 6
    _write_lines(f, [{k: v for k, v in d.items() if k != "doc_id"} for d in docs])
    with pytest.raises(InputError, match="missing") as e:
        lm_eval.read_runs(one.parent)
    assert (e.value.row, e.value.field) == (1, "doc_id")
    _write_lines(f, [dict(d, doc_id=str(d["doc_id"])) for d in docs])
    with pytest.raises(InputError, match="expected an integer"):
        lm_eval.read_runs(one.parent)
    f.write_text("\n")
    with pytest.raises(InputError, match="empty file"):
        lm_eval.read_runs(one.parent)


def test_ladder_mismatches(runs, tmp_path):
    lad = tmp_path / "ladder.yaml"
    lad.write_text(LADDER.replace("  - {name: pythia-160m, id: EleutherAI/pythia-160m,", "  - {name: other, id: x/other,"))
    with pytest.raises(InputError, match="not in the ladder") as e:
        scalecheck.load("lm-eval", runs, ladder=lad)
    assert e.value.field == "config.model_args" and "pythia-160m" in str(e.value)
    lad.write_text(LADDER.replace("revision: step1000, ", ""))
    with pytest.raises(InputError, match="not in the ladder"):
        scalecheck.load("lm-eval", runs, ladder=lad)
    lad.write_text(LADDER + "  - {name: EleutherAI__pythia-160m, params: 1.0e8}\n")
    with pytest.raises(InputError, match="matches 2 ladder models"):
        scalecheck.load("lm-eval", runs, ladder=lad)
    with pytest.raises(InputError, match="no such ladder file"):
        scalecheck.load("lm-eval", runs, ladder=tmp_path / "absent.yaml")


def test_wrong_folder_and_options(shared_data, tmp_path):
    with pytest.raises(InputError, match="no lm-evaluation-harness results"):
        scalecheck.load("lm-eval", shared_data / "pythia_evals")
    # A harness v0.3 file (Pythia's) under a 0.4 name is refused, not misread.
    run = tmp_path / "old" / "pythia-70m"
    run.mkdir(parents=True)
    src = shared_data / "pythia_evals/pythia-v1/pythia-70m/zero-shot/70m_step1000.json"
    (run / f"results_{TS}.json").write_text(src.read_text())
    with pytest.raises(InputError, match="v0.3") as e:
        scalecheck.load("lm-eval", tmp_path / "old")
    assert e.value.field.startswith("results.")
    with pytest.raises(ScalecheckError, match="has no option 'ladder'"):
        scalecheck.load("pythia", shared_data / "pythia_evals", ladder="x.yaml")


def test_cli_one_line_exit_2(one, tmp_path):
    one.write_text(one.read_text().replace('"acc,none": 0.', '"acc,none": "oops", "y,none": 0.', 1))
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "lm-eval", str(one.parent.parent), "-o",
                        str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and one.name in r.stderr and "acc,none" in r.stderr
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "csv", str(one), "--ladder", "l.yaml",
                        "-o", str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and "no option 'ladder'" in r.stderr and r.stderr.count("\n") == 1


_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
_FILTER = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)


@given(_NAME, _FILTER, st.booleans())
def test_metric_keys_parse_back(metric, filt, stderr):
    key = f"{metric}{'_stderr' if stderr else ''},{filt}"
    assert lm_eval.parse_metric_key(key) == (metric, filt, stderr)


@given(st.text(max_size=20))
def test_metric_key_parse_never_crashes(key):
    parsed = lm_eval.parse_metric_key(key)
    assert parsed is None or ("," in key and parsed[0] and parsed[1])


def test_sources_lists_every_importer(capsys):
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    for name in ("pythia", "olmo-ladder", "obsscaling", "lm-eval", "csv", "gadre2024"):
        assert name in out


@given(st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
       st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1)), st.integers(0, 999999))
def test_samples_names_parse_back(task, when, micro):
    ts = when.strftime("%Y-%m-%dT%H-%M-%S") + f".{micro:06d}"
    assert lm_eval.parse_samples_name(f"samples_{task}_{ts}.jsonl") == (task, ts)
