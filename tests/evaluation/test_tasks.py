import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalecheck.cli import main
from scalecheck.errors import InputError
from scalecheck.evaluation.tasks import parse_classes, read_task


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_reads_the_prize_release_files(shared_data):
    neqa = read_task(shared_data / "inverse_scaling" / "neqa_classification.jsonl")
    assert neqa.name == "neqa" and neqa.format == "classification" and len(neqa) == 300
    assert neqa.examples[0].classes == (" A", " B") and neqa.examples[0].answer_index == 0
    memo = read_task(shared_data / "inverse_scaling" / "memo-trap_classification.jsonl")
    assert len(memo) == 936 and memo.examples[0].classes == (" heavy.", " fonder.")
    assert sum(e.answer_index for e in memo.examples) == 452  # PROVENANCE.md: answer_index 1 on 452 rows
    assert memo.content_hash == "f09aac90bf841f2eb899d23beed8c8ccad2e1d3ab4f0fd3f1ff403fd5c7e11f2"


def test_formats_from_columns_and_csv(tmp_path):
    seq = read_task(_jsonl(tmp_path / "s.jsonl", [{"prompt": "a", "completion": " b"}]))
    assert seq.format == "sequence_prob" and seq.examples[0].classes == (" b",)
    lo = read_task(_jsonl(tmp_path / "l.jsonl", [{"prompt": "a", "other_prompt": "c", "classes": [" x", " y"],
                                                   "answer_index": 1}]))
    assert lo.format == "logodds" and lo.examples[0].other_prompt == "c"
    ab = read_task(_jsonl(tmp_path / "t_absolute-logodds.jsonl",
                          [{"prompt": "a", "other_prompt": "c", "classes": "[' x', ' y']", "answer_index": 0}]))
    assert ab.format == "absolute_logodds" and ab.name == "t"
    csv = tmp_path / "c_classification.csv"
    csv.write_text(',prompt,classes,answer_index\n0,"Q, with comma:","[\' A\', \' B\']",1\n', encoding="utf-8")
    t = read_task(csv)
    assert t.examples[0].prompt == "Q, with comma:" and t.examples[0].answer_index == 1 and t.name == "c"


@pytest.mark.parametrize("rows, row, field, message", [
    ([{"prompt": "a", "classes": "[' x']", "answer_index": 0}, {"prompt": "b", "answer_index": 0}],
     1, "classes", "missing"),
    ([{"prompt": "a", "classes": "[' x', ' y']", "answer_index": 2}], 0, "answer_index", "out of range"),
    ([{"prompt": "a", "classes": "[' x', ' y']", "answer_index": -1}], 0, "answer_index", "out of range"),
    ([{"prompt": "a", "classes": "[' x', ' y']", "answer_index": "one"}], 0, "answer_index", "integer"),
    ([{"prompt": "a", "classes": "[]", "answer_index": 0}], 0, "classes", "empty class list"),
    ([{"prompt": "a", "classes": [], "answer_index": 0}], 0, "classes", "empty class list"),
    ([{"prompt": "a", "classes": "' x', ' y'", "answer_index": 0}], 0, "classes", "list literal"),
    ([{"prompt": "a", "classes": "[__import__('os').system('true')]", "answer_index": 0}], 0, "classes",
     "not a Python list literal"),
    ([{"prompt": "a", "classes": "[1, 2]", "answer_index": 0}], 0, "classes", "not a string"),
    ([{"prompt": 3, "classes": "[' x']", "answer_index": 0}], 0, "prompt", "expected text"),
])
def test_malformed_rows_are_named(tmp_path, rows, row, field, message):
    p = _jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(InputError, match=message) as e:
        read_task(p, format="classification")
    assert e.value.row == row and e.value.field == field
    assert "\n" not in str(e.value) and f"row {row}" in str(e.value) and f"field '{field}'" in str(e.value)


def test_non_utf8_names_the_row(tmp_path):
    p = tmp_path / "bad.jsonl"
    good = json.dumps({"prompt": "a", "classes": "[' x']", "answer_index": 0}).encode()
    p.write_bytes(good + b"\n" + good + b"\n" + b'{"prompt": "\xff\xfe", "classes": "[\' x\']", "answer_index": 0}\n')
    with pytest.raises(InputError, match="not UTF-8") as e:
        read_task(p)
    assert e.value.row == 2
    c = tmp_path / "bad.csv"
    c.write_bytes(b"prompt,classes,answer_index\na,\"[' x']\",0\n\xff,\"[' x']\",0\n")
    with pytest.raises(InputError, match="not UTF-8") as e:
        read_task(c)
    assert e.value.row == 1


def test_cli_refuses_a_malformed_task_in_one_line(tmp_path, capsys):
    p = _jsonl(tmp_path / "bad.jsonl", [{"prompt": "a", "classes": "[' x', ' y']", "answer_index": 5}])
    code = main(["evaluate", "--model", str(tmp_path), "--task", str(p), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "row 0" in err and "answer_index" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before anything was started


_classes = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6)


@given(_classes)
def test_class_list_literal_round_trips(classes):
    assert parse_classes(repr(classes)) == tuple(classes)
    assert parse_classes(classes) == tuple(classes)


@given(st.text(max_size=40))
def test_class_parser_never_fails_with_anything_but_an_input_error(text):
    try:
        out = parse_classes(text, "t.jsonl", 3)
    except InputError as e:
        assert e.row == 3 and e.field == "classes" and "\n" not in str(e)
    else:
        assert out and all(isinstance(c, str) and c for c in out)


def test_fewshot_demonstrations_are_seeded_distinct_and_never_the_example(tmp_path):
    rows = [{"prompt": f"Q{i}:", "classes": [" a", " b"], "answer_index": i % 2} for i in range(12)]
    task = read_task(_jsonl(tmp_path / "t.jsonl", rows))
    for ex in task.examples:
        demos = task.demonstrations(ex.index, 5, seed=1)
        assert len(set(demos)) == 5 and ex.index not in demos and all(0 <= d < 12 for d in demos)
        assert demos == task.demonstrations(ex.index, 5, seed=1)
    assert any(task.demonstrations(i, 5, seed=1) != task.demonstrations(i, 5, seed=2) for i in range(12))
    prompt, other = task.prompts(task.examples[3], 2, seed=0)
    d = [task.examples[j] for j in task.demonstrations(3, 2, seed=0)]
    # The Prize's separator by default: three newlines.
    assert prompt == f"{d[0].prompt}{d[0].answer}\n\n\n{d[1].prompt}{d[1].answer}\n\n\nQ3:" and other is None
    with pytest.raises(InputError, match="shots"):
        task.demonstrations(0, 12)


def test_cli_refuses_more_shots_than_other_rows(tmp_path, capsys):
    p = _jsonl(tmp_path / "t.jsonl", [{"prompt": "a", "classes": "[' x', ' y']", "answer_index": 0}] * 3)
    code = main(["evaluate", "--model", str(tmp_path), "--task", str(p), "--shots", "3", "--output",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "3 shots need at least 4 rows" in err and "\n" not in err
