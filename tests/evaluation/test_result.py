"""The result's surface, as every other result's: ``write`` returns its files, ``summary()`` is a DataFrame, the
store answers for its models, and progress goes through the package's one protocol ``progress(done, total, what)``."""

import pandas as pd
from tinymodels import build_model, task_rows, write_task

from scalecheck.evaluation import Evaluation, ResultStore, Setting, read_task
from scalecheck.sources.ladder_file import LadderModel
from scalecheck.tables import ReportFiles


def test_write_returns_its_files_and_summary_is_the_summary_table(tmp_path):
    model = build_model(tmp_path / "tiny", "gpt2", seed=5)
    task = read_task(write_task(tmp_path / "t_classification.jsonl", task_rows(7, 4)))
    seen = []
    ev = Evaluation.run([LadderModel(name="tiny", path=model)], task, [Setting(0), Setting(1)],
                        output=tmp_path / "out", chunk=3, progress=lambda *a: seen.append(a))
    # Progress: from 0 to every example x setting, rising, each step saying what is under way.
    assert seen[0][:2] == (0, 14) and seen[-1][:2] == (14, 14)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen) and "tiny · t · 1shot" in seen[-1][2]
    files = ev.write(tmp_path / "again")
    assert isinstance(files, ReportFiles) and list(files) == ["summary", "scores"]  # the tables, by role
    names = [str(p.relative_to(tmp_path / "again")) for p in files.paths]
    assert names == ["summary.csv", "scores.csv", "run.json", "timing.json", "tiny/t.0shot.jsonl",
                     "tiny/t.1shot.jsonl"] and all(p.is_file() for p in files.paths)
    r = ev.results[0]
    assert r.spec.location == str(model) and r.spec.key() == r.model_key and r.spec.device == "cpu"
    summary = ev.summary()
    assert isinstance(summary, pd.DataFrame) and list(summary["shots"]) == [0, 1]
    written = pd.read_csv(tmp_path / "out" / "summary.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(summary, written, check_dtype=False)
    assert "tiny: loss" in ev.summary_text()
    with ResultStore(tmp_path / "out" / "results.sqlite") as store:
        ident = store.model_identity(ev.results[0].model_key)
        assert ident["n_params"] == ev.results[0].params and ident["location"] == str(model)
        assert store.model_identity("no such key") is None
    # A rerun loads nothing and still knows the parameter counts (from the store).
    again = Evaluation.run([LadderModel(name="tiny", path=model)], task, [Setting(0), Setting(1)],
                           output=tmp_path / "out")
    assert again.results[0].stats is None and again.results[0].params == ev.results[0].params
