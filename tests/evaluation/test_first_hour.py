"""What a new user met in the first hour of ``evaluate`` (issue 17): earlier results hidden by a second run into the
same folder, revisions of a local file, a ladder entry that names no weights, a minute of hub retries offline, and a
Ctrl-C that did not say what was saved."""

import json
import shlex

import pytest
from tinymodels import build_model, task_rows, write_task

from scalecheck.cli import evaluate as evaluate_cli
from scalecheck.cli import main
from scalecheck.errors import InputError, ScalecheckError
from scalecheck.evaluation import Evaluation, Setting, hub, read_task, resolve_tasks
from scalecheck.evaluation.backends.hf import HFBackend
from scalecheck.evaluation.models import ModelSpec
from scalecheck.sources.ladder_file import LadderModel, read_ladder


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("firsthour")
    tasks = root / "tasks"
    tasks.mkdir()
    a = write_task(tasks / "alpha_classification.jsonl", task_rows(12, 1))
    b = write_task(tasks / "beta_classification.jsonl", task_rows(8, 2))
    model = build_model(root / "tiny", "gpt2", seed=3)
    return root, model, a, b


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


# --- 5. a second run into the same folder ----------------------------------------------------------------------

def test_a_second_plan_into_the_same_folder_is_refused_before_it_hides_the_first(toy, tmp_path):
    root, model, a, b = toy
    m = [LadderModel(name="tiny", path=model)]
    out = tmp_path / "out"
    Evaluation.run(m, read_task(a), Setting(0), output=out)
    before = (out / "summary.csv").read_bytes()
    # Another task only, or fewer shots: the tables would lose alpha at 0 shots. Refused, nothing written.
    with pytest.raises(ScalecheckError, match=r"holds results of task 'alpha'.*--overwrite"):
        Evaluation.run(m, read_task(b), Setting(0), output=out)
    with pytest.raises(ScalecheckError, match=r"setting 0shot"):
        Evaluation.run(m, read_task(a), Setting(1), output=out)
    assert (out / "summary.csv").read_bytes() == before
    # The same plan again (a resume), or a larger one, keeps every earlier row.
    Evaluation.run(m, read_task(a), Setting(0), output=out)
    both = Evaluation.run(m, [read_task(a), read_task(b)], [Setting(0), Setting(1)], output=out)
    rows = (out / "summary.csv").read_text().splitlines()[1:]
    assert len(rows) == 4 and both.result("tiny", "alpha", 0).examples_scored == 0
    # --overwrite: the tables show this plan alone; the store still holds every record.
    Evaluation.run(m, read_task(b), Setting(0), output=out, overwrite=True)
    assert [r.split(",")[1] for r in (out / "summary.csv").read_text().splitlines()[1:]] == ["beta"]
    again = Evaluation.run(m, [read_task(a), read_task(b)], [Setting(0), Setting(1)], output=out)
    assert sum(r.examples_scored for r in again.results) == 0


def test_the_cli_refuses_in_one_line_and_takes_overwrite(toy, tmp_path, capsys):
    root, model, a, b = toy
    out = str(tmp_path / "o")
    assert main(["evaluate", "--model", str(model), "--task", str(a), "--no-progress", "-o", out]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--task", str(b), "--no-progress", "-o", out]) == 2
    err = _err(capsys)
    assert "task 'alpha'" in err and "--overwrite" in err
    assert main(["evaluate", "--model", str(model), "--task", str(b), "--no-progress", "-o", out,
                 "--overwrite"]) == 0


# --- 6. impossible input ---------------------------------------------------------------------------------------

def test_a_local_model_has_no_revisions(toy, tmp_path, capsys):
    root, model, a, _ = toy
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF not really")
    for local in (gguf, model):
        code = main(["evaluate", "--model", str(local), "--revision", "step1000", "--task", str(a), "-o",
                     str(tmp_path / "o")])
        err = _err(capsys)
        assert code == 2 and "has no revisions" in err and str(local) in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(ScalecheckError, match="a local model has no revisions"):
        ModelSpec(str(model), revision="step1000")
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(f"models:\n  - name: tiny\n    path: {model}\n    revision: step1000\n")
    with pytest.raises(InputError) as exc:
        read_ladder(ladder)
    assert exc.value.field == "revision" and exc.value.row == "0" and str(ladder) in str(exc.value)


def test_a_ladder_entry_with_no_weights_is_refused_when_read_for_evaluation(toy, tmp_path, capsys):
    root, model, a, _ = toy
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(f"models:\n  - name: tiny\n    path: {model}\n  - name: pythia-70m\n    params: 7.0e7\n")
    code = main(["evaluate", "--ladder", str(ladder), "--task", str(a), "-o", str(tmp_path / "o")])
    err = _err(capsys)
    assert code == 2 and str(ladder) in err and "model 1" in err and "field 'id'" in err and "'path'" in err
    assert not (tmp_path / "o").exists()
    # A metadata-only ladder (the lm-eval importer's) may still name its models alone.
    assert [m.name for m in read_ladder(ladder).models] == ["tiny", "pythia-70m"]


# --- 8. offline, the hub is asked once ---------------------------------------------------------------------------

@pytest.fixture
def offline(monkeypatch):
    for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens, refused at once
    monkeypatch.setattr(hub, "cached", lambda *a, **k: False)
    hub._reachable.cache_clear()
    yield
    hub._reachable.cache_clear()


def test_offline_a_hub_model_or_task_fails_at_once_in_one_line(toy, tmp_path, offline, capsys):
    root, _, a, _ = toy
    code = main(["evaluate", "--model", "scalecheck-tests/no-such-model", "--task", str(a), "--no-progress", "-o",
                 str(tmp_path / "o")])
    err = _err(capsys)
    assert code == 2 and "'scalecheck-tests/no-such-model' is not in the local Hugging Face cache" in err
    assert "http://127.0.0.1:9" in err and "cannot be reached" in err and "local model folder" in err
    with pytest.raises(InputError, match=r"memo-trap.*cannot be reached.*--task-dir"):
        resolve_tasks(["memo-trap"])
    with pytest.raises(ScalecheckError, match="no such model folder or GGUF file: ./nope"):
        HFBackend(ModelSpec("./nope"))


# --- 8. Ctrl-C ---------------------------------------------------------------------------------------------------

def test_ctrl_c_says_what_was_saved_and_the_command_that_resumes(toy, tmp_path, monkeypatch, capsys):
    root, model, a, b = toy

    class CtrlC(evaluate_cli.RichPlanProgress):
        def __call__(self, done, total, what):
            super().__call__(done, total, what)
            if done:
                raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the first chunk was committed

    monkeypatch.setattr(evaluate_cli, "RichPlanProgress", CtrlC)
    out = tmp_path / "o"
    args = ["evaluate", "--model", str(model), "--task", str(a), str(b), "--shots", "0", "1", "--chunk", "5",
            "--separator", "\\n\\n", "-o", str(out)]
    assert main(args) == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    total = 2 * (12 + 8)
    assert f"interrupted: 5 of {total} examples of the plan are saved in {out / 'results.sqlite'}" in err
    command = err.split("; resume with: ")[1]
    assert shlex.split(command)[:2] == ["scalecheck", "evaluate"] and "--chunk 5" in command
    monkeypatch.undo()
    assert main(shlex.split(command)[1:] + ["--no-progress"]) == 0
    timing = json.loads((out / "timing.json").read_text())
    assert timing["models"]["tiny"]["examples_scored"] == total - 5
    assert len((out / "summary.csv").read_text().splitlines()) == 1 + 4


# --- 8. a threads default that is fast on a small busy machine ---------------------------------------------------

def test_default_threads_are_the_cores_not_busy_with_other_work(monkeypatch):
    import os

    from scalecheck.evaluation.backends.hf import default_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    for load, want in ((0.2, 16), (4.4, 12), (15.6, 1), (40.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert default_threads() == want
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.9, 3.0, 3.0))  # six jobs on two cores: one thread
    assert default_threads() == 1


def test_the_cli_scores_with_the_default_threads_unless_told(toy, tmp_path, monkeypatch, capsys):
    import torch

    from scalecheck.evaluation.backends import hf as backend

    root, model, a, _ = toy
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(backend, "default_threads", lambda: 1)
        torch.set_num_threads(2)
        assert main(["evaluate", "--model", str(model), "--task", str(a), "--no-progress", "-o",
                     str(tmp_path / "d")]) == 0
        assert json.loads((tmp_path / "d" / "timing.json").read_text())["threads"] == 1
        assert main(["evaluate", "--model", str(model), "--task", str(a), "--no-progress", "--threads", "2", "-o",
                     str(tmp_path / "t")]) == 0
        assert json.loads((tmp_path / "t" / "timing.json").read_text())["threads"] == 2
    finally:
        torch.set_num_threads(before)
