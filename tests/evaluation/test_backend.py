"""The backend's batching: out-of-memory halves the batch and retries; identical requests are scored once."""

import pytest
from tinymodels import build_model

from scalecheck.evaluation.backends.hf import HFBackend
from scalecheck.evaluation.models import ModelSpec


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    folder = build_model(tmp_path_factory.mktemp("be") / "gpt2", "gpt2")
    return HFBackend(ModelSpec(str(folder), dtype="float64"), batch_tokens=4096)


PAIRS = [("the cat sat on", " the mat."), ("the cat sat on", " a dog"), ("a question:", " yes"),
         ("a question: ", "no"), ("", " heavy fonder"), ("the cat sat on", " the mat.")] * 3


def test_identical_requests_are_scored_once(backend):
    reqs = backend.encode_pairs(PAIRS)
    before = backend.stats.unique_requests
    out = backend.loglikelihoods(reqs)
    assert backend.stats.unique_requests - before == 5
    assert out[0] == out[5] == out[6] and len(out) == len(PAIRS)
    # "a question: " + "no" is scored as "a question:" + " no" (the trailing space moves to the continuation).
    assert reqs[3][0] == reqs[2][0] and reqs[3][1] != reqs[2][1]


def test_out_of_memory_halves_the_batch_and_retries(backend, monkeypatch):
    reqs = backend.encode_pairs(PAIRS)
    want = backend.loglikelihoods(reqs)
    real = backend._score_batch

    def small_memory(batch, by_ctx, scores):
        if len(batch) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(batch, by_ctx, scores)

    monkeypatch.setattr(backend, "_score_batch", small_memory)
    retries = backend.stats.oom_retries
    got = backend.loglikelihoods(reqs)
    assert backend.stats.oom_retries > retries and backend.batch_tokens < 4096
    assert got == pytest.approx(want, abs=1e-12)


def test_other_errors_are_not_swallowed(backend, monkeypatch):
    def broken(batch, by_ctx, scores):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(backend, "_score_batch", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        backend.loglikelihoods(backend.encode_pairs(PAIRS[:2]))


def test_cli_scores_one_model_with_a_progress_bar(backend, tmp_path, capsys):
    import json

    from scalecheck.cli import main

    task = tmp_path / "toy_sequence-probability.jsonl"
    task.write_text("".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in PAIRS[:5]))
    code = main(["evaluate", "--model", backend.spec.location, "--task", str(task), "--output",
                 str(tmp_path / "out"), "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 0 and "examples/s" in captured.err and "5/5" in captured.err
    rows = [json.loads(x) for x in (tmp_path / "out" / "gpt2" / "toy.0shot.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(5)) and all(r["correct"] is None for r in rows)
    want = backend.loglikelihoods(backend.encode_pairs(PAIRS[:5]))
    # The CLI ran the model in float32; the fixture's backend runs it in float64.
    assert [r["class_logprobs"][0] for r in rows] == pytest.approx(want, abs=1e-4)
    assert [r["loss"] for r in rows] == pytest.approx([-w for w in want], abs=1e-4)


def test_a_plan_is_tokenised_once_per_tokenizer_and_the_driver_encodes_as_the_backend(backend, tmp_path):
    from tinymodels import task_rows, write_task

    from scalecheck.evaluation.backends.hf import Encoder, load_tokenizer
    from scalecheck.evaluation.plan import EncodingCache, Setting, Work, encode
    from scalecheck.evaluation.tasks import read_task

    write_task(tmp_path / "t_classification.jsonl", task_rows(8, 3))
    task = read_task(tmp_path / "t_classification.jsonl")
    # The driver's encoder, from the tokenizer alone, gives the backend's ids and fingerprint.
    driver = Encoder(load_tokenizer(backend.spec), backend.spec.add_special_tokens)
    assert driver.fingerprint() == backend.encoder.fingerprint()
    assert encode(driver, task, Setting(2)) == encode(backend, task, Setting(2))
    # Another tokenizer (a Llama-like one adds BOS) has another fingerprint.
    other = HFBackend(ModelSpec(str(build_model(tmp_path / "llama", "llama"))))
    assert other.encoder.fingerprint() != driver.fingerprint()
    cache, work = EncodingCache(), [Work(0, 0), Work(0, 1)]
    first = cache.get(driver, [task], [Setting(0), Setting(2)], work)
    assert cache.get(backend.encoder, [task], [Setting(0), Setting(2)], work)[(0, 1)] is first[(0, 1)]
    assert cache.get(other.encoder, [task], [Setting(0), Setting(2)], work)[(0, 1)] is not first[(0, 1)]
