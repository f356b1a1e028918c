"""Suites in one run: several tasks (files, folders, Prize names), shot counts and checkpoints, one store and
one output folder that every analysis command reads as a testbed; bad input refused before any model loads."""

import contextlib
import json
import shutil

import pytest
from tinymodels import build_model, task_rows, write_task

import scalecheck
from scalecheck.cli import main
from scalecheck.errors import InputError, ScalecheckError
from scalecheck.evaluation import Evaluation, Setting, resolve_tasks
from scalecheck.evaluation.backends import get_backend, register_backend
from scalecheck.evaluation.backends.hf import HFBackend
from scalecheck.evaluation.models import checkpoints
from scalecheck.evaluation.plan import unescape_separator
from scalecheck.evaluation.tasks import BLANK_LINE_SEPARATOR, PRIZE_TASKS, read_task
from scalecheck.observations import Testbed
from scalecheck.sources.ladder_file import LadderModel, read_ladder


@contextlib.contextmanager
def backend_as(name, factory):
    """The registry's ``name`` built by ``factory`` for a while (the seam every executor loads through)."""
    before = get_backend(name)
    register_backend(name, factory, replace=True)
    try:
        yield
    finally:
        register_backend(name, before, replace=True)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """Two tiny models and a folder of two small task files (two formats)."""
    root = tmp_path_factory.mktemp("suite")
    tasks = root / "tasks"
    tasks.mkdir()
    write_task(tasks / "alpha_classification.jsonl", task_rows(14, 1))
    write_task(tasks / "beta_sequence-probability.jsonl", task_rows(10, 2, "sequence_prob"))
    small = build_model(root / "small", "gpt2", seed=1)
    big = build_model(root / "big", "neox", seed=2, hidden=48)
    ladder = root / "ladder.yaml"
    ladder.write_text(f"family: toy\nmodels:\n  - name: small\n    path: {small}\n    params: 1.0e5\n"
                      f"    tokens: 2.0e6\n  - name: big\n    path: {big}\n    params: 4.0e5\n    tokens: 8.0e6\n")
    return root, tasks, ladder


def test_resolves_files_folders_and_prize_names(suite, shared_data, tmp_path):
    root, tasks, _ = suite
    got = resolve_tasks([str(tasks), str(tasks / "alpha_classification.jsonl")])
    assert [t.name for t in got] == ["alpha", "beta"]  # the folder's files, the file named twice read once
    assert [t.format for t in got] == ["classification", "sequence_prob"]
    # A Prize name from a local folder of release files, then from a loader (the hub's, faked: no network).
    local = resolve_tasks(["neqa"], task_dir=shared_data / "inverse_scaling")
    assert local[0].name == "neqa" and len(local[0]) == 300
    asked = []

    def fake_hub(name, filename):
        asked.append((name, filename))
        return shared_data / "inverse_scaling" / filename

    hub = resolve_tasks(["memo-trap"], loader=fake_hub)
    assert asked == [("memo-trap", "memo-trap_classification.jsonl")] and len(hub[0]) == 936
    assert hub[0].content_hash == PRIZE_TASKS["memo-trap"][1]
    # A hub copy that is not the release's bytes is refused.
    changed = tmp_path / "memo-trap_classification.jsonl"
    changed.write_bytes((shared_data / "inverse_scaling" / "memo-trap_classification.jsonl").read_bytes()[:-200])
    with pytest.raises(InputError, match="SHA-256 differs"):
        resolve_tasks(["memo-trap"], loader=lambda name, filename: changed)


def test_unknown_task_name_gets_one_line_with_the_closest_names(suite, capsys):
    with pytest.raises(ScalecheckError, match="closest: memo-trap"):
        resolve_tasks(["memo-trapp"], loader=lambda *a: pytest.fail("no fetch for an unknown name"))
    root, tasks, ladder = suite
    code = main(["evaluate", "--ladder", str(ladder), "--task", "alpah", "--task-dir", str(tasks), "-o",
                 str(root / "never")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "unknown task 'alpah'" in err and "closest: alpha" in err
    assert not (root / "never").exists()


def test_a_task_that_fails_to_parse_stops_before_any_model_loads(suite, tmp_path, monkeypatch, capsys):
    root, tasks, ladder = suite
    bad = write_task(tmp_path / "bad_classification.jsonl", task_rows(3, 3) + [{"prompt": "x", "answer_index": 0}])
    with backend_as("hf", lambda spec, **kw: pytest.fail("a model was loaded")):
        code = main(["evaluate", "--ladder", str(ladder), "--task", str(tasks), str(bad), "-o",
                     str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "row 3" in err and "field 'classes'" in err
    assert not (tmp_path / "o").exists()


def test_one_run_one_folder_read_as_a_testbed(suite, tmp_path, capsys):
    root, tasks, ladder = suite
    out = tmp_path / "out"
    code = main(["evaluate", "--ladder", str(ladder), "--task", str(tasks), "--shots", "0", "2", "-o", str(out),
                 "--chunk", "4"])
    captured = capsys.readouterr()
    # One bar over the plan: 2 models x (14 + 10 examples) x 2 settings.
    assert code == 0 and "96/96" in captured.err and "examples/s" in captured.err
    for model in ("small", "big"):
        for name in ("alpha.0shot", "alpha.2shot", "beta.0shot", "beta.2shot"):
            assert (out / model / f"{name}.jsonl").is_file()
    run = json.loads((out / "run.json").read_text())
    assert [t["task"] for t in run["tasks"]] == ["alpha", "beta"] and [s["shots"] for s in run["settings"]] == [0, 2]
    assert run["settings"][1]["separator"] == "\\n\\n\\n"
    # The folder is a testbed: through Testbed.read, scalecheck.load and the analysis commands' TESTBED.
    tb = Testbed.read(out)
    s = tb.scores
    assert set(s["task"]) == {"alpha", "beta"} and set(s["shots"]) == {0, 2} and set(s["model"]) == {"small", "big"}
    # The Prize's classification loss and accuracy, side by side.
    assert set(s.loc[s["task"] == "alpha", "metric"]) == {"loss", "accuracy", "class_mass"}
    assert set(s.loc[s["task"] == "beta", "metric"]) == {"loss"}
    assert len(s) == 2 * 2 * (3 + 1)
    assert scalecheck.load("evaluate", out).scores.shape == s.shape
    assert main(["show", str(out)]) == 0
    # Rerun with one more shot count: only the new setting is scored; the others come from the store.
    ev = Evaluation.run(read_ladder(ladder), resolve_tasks([str(tasks)]), [Setting(0), Setting(2), Setting(1)],
                        output=out, chunk=4)
    assert {(r.setting.shots, r.examples_scored > 0) for r in ev.results} == {(0, False), (2, False), (1, True)}


def test_nothing_scored_is_lost_when_a_later_model_fails(suite, tmp_path, monkeypatch):
    root, tasks, ladder = suite
    def second_fails(spec, **kw):
        if spec.location.endswith("big"):
            raise ScalecheckError("cannot load model 'big': disk on fire")
        return HFBackend(spec, **kw)

    plan = (read_ladder(ladder), resolve_tasks([str(tasks)]), [Setting(0), Setting(1)])
    with backend_as("hf", second_fails), pytest.raises(ScalecheckError, match="disk on fire"):
        Evaluation.run(*plan, output=tmp_path, chunk=5)
    ev = Evaluation.run(*plan, output=tmp_path, chunk=5)
    scored = {r.model.name: 0 for r in ev.results}
    for r in ev.results:
        scored[r.model.name] += r.examples_scored
    assert scored == {"small": 0, "big": 2 * 24}  # the first model's work was kept, not redone


def test_separator_is_part_of_the_setting(suite, tmp_path):
    root, tasks, ladder = suite
    task = read_task(tasks / "alpha_classification.jsonl")
    prize, blank = Setting(2), Setting(2, separator=BLANK_LINE_SEPARATOR)
    assert prize.separator == "\n\n\n" and prize.key(task) != blank.key(task)
    assert prize.variant == "" and blank.variant == "sep=\\n\\n" and blank.label == "2shot_sep=blank"
    # 0-shot prompts have no separator: one key, one testbed setting.
    assert Setting(0).key(task) == Setting(0, separator=BLANK_LINE_SEPARATOR).key(task)
    assert Setting(0, separator="\n").variant == ""
    assert unescape_separator("\\n\\n") == "\n\n" and unescape_separator("a\\\\n") == "a\\n"
    m = [LadderModel(name="small", path=root / "small")]
    ev = Evaluation.run(m, task, [prize, blank], output=tmp_path, chunk=50)
    a, b = ev.results
    assert a.examples != b.examples and a.examples_scored == b.examples_scored == len(task)
    tb = Testbed.read(tmp_path)
    assert set(tb.scores["variant"]) == {"", "sep=\\n\\n"}


def test_checkpoints_expand_each_model_by_revision():
    m = LadderModel(name="pythia-70m", id="EleutherAI/pythia-70m", step=143000, tokens=143000 * 2097152.0,
                    params=7e7, losses={"pile": 2.5})
    got = checkpoints([m], ["step1000", "step143000", "main"])
    assert [g.name for g in got] == ["pythia-70m@step1000", "pythia-70m@step143000", "pythia-70m@main"]
    assert got[0].revision == "step1000" and got[0].step == 1000 and got[0].tokens == 1000 * 2097152.0
    assert got[0].losses == {} and got[1].tokens == m.tokens and got[2].step == 143000
    assert all(g.params == 7e7 for g in got)


def test_cli_revisions_and_names_need_the_right_counts(suite, tmp_path, capsys):
    root, tasks, ladder = suite
    code = main(["evaluate", "--ladder", str(ladder), "--task", str(tasks), "--name", "x", "-o", str(tmp_path / "o")])
    assert code == 2 and "--name names one task" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
