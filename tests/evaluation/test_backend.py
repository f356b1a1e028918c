"""The backend's batching: out-of-memory halves the batch and retries; identical requests are scored once."""

import pytest
from tinymodels import build_model

from scalecheck.evaluation.backend import HFBackend, ModelSpec


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
