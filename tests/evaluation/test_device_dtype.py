"""The GPU path's arithmetic and the dtype plumbing, on the CPU (no GPU was available to test CUDA itself)."""

import pytest
from tinymodels import build_model

from scalecheck.errors import ScalecheckError
from scalecheck.evaluation.backends.hf import HFBackend, cuda_batch_tokens
from scalecheck.evaluation.models import ModelSpec

GiB = 1 << 30


def _llama(**kw):
    from transformers import LlamaConfig

    dims = dict(vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                num_key_value_heads=3, intermediate_size=1536)
    return LlamaConfig(**{**dims, **kw})


def test_the_budget_follows_free_memory_and_dtype():
    cfg = _llama()
    f32 = cuda_batch_tokens(cfg, "float32", 8 * GiB)
    # Per token: float32 KV cache 2 x 30 x 192 x 4 B = 46 kB, activations 4 x (4 x 576 + 2 x 1536) = 21 kB,
    # logits (4 + 8) x 49152 / 8 = 74 kB: ~141 kB, of which 60% of 8 GiB holds ~36,600 tokens.
    assert f32 == int(0.6 * 8 * GiB / (4 * (2 * 30 * 192 + 4 * 576 + 2 * 1536) + 12 * 49152 // 8))
    assert 30_000 < f32 < 40_000
    assert cuda_batch_tokens(cfg, "float32", 4 * GiB) == pytest.approx(f32 / 2, rel=1e-3)
    half = cuda_batch_tokens(cfg, "bfloat16", 8 * GiB)
    assert f32 < half < 2 * f32 and cuda_batch_tokens(cfg, "float16", 8 * GiB) == half
    # A 70B-shaped model on what an 80 GB GPU has left after its bfloat16 weights: still a useful batch.
    big = _llama(vocab_size=128256, hidden_size=8192, num_hidden_layers=80, num_attention_heads=64,
                 num_key_value_heads=8, intermediate_size=28672)
    assert 1000 < cuda_batch_tokens(big, "bfloat16", 20 * GiB) < 20_000
    assert cuda_batch_tokens(cfg, "float32", 1) == 256 and cuda_batch_tokens(cfg, "float32", 1 << 50) == 1 << 20


def test_the_budget_reads_gpt2_and_neox_configs():
    from transformers import GPT2Config, GPTNeoXConfig

    assert cuda_batch_tokens(GPT2Config(), "float16", 8 * GiB) > 10_000
    assert cuda_batch_tokens(GPTNeoXConfig(), "bfloat16", 8 * GiB) > 1000

    class Odd:
        vocab_size = 10

    with pytest.raises(ScalecheckError, match="--batch-tokens"):
        cuda_batch_tokens(Odd(), "float32", GiB)


def test_the_cuda_budget_is_taken_from_mem_get_info(tmp_path, monkeypatch):
    """HFBackend on cuda calls torch.cuda.mem_get_info for its device after loading (the move to the device
    itself is replaced here: there is no GPU to move to)."""
    import torch

    folder = build_model(tmp_path / "llama", "llama")
    seen = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda dev=None: seen.append(dev) or (2 * GiB, 16 * GiB))
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, *a, **k: self)
    from scalecheck.evaluation.backends import hf as backend_module

    real_load = backend_module._load
    monkeypatch.setattr(backend_module, "_load", lambda spec: real_load(ModelSpec(spec.location, dtype=spec.dtype)))
    be = HFBackend(ModelSpec(str(folder), dtype="bfloat16", device="cuda:1"))
    assert [str(d) for d in seen] == ["cuda:1"]
    assert be.batch_tokens == cuda_batch_tokens(be.model.config, "bfloat16", 2 * GiB)
    assert HFBackend(ModelSpec(str(folder), device="cuda"), batch_tokens=999).batch_tokens == 999


def test_dtypes_reach_the_model_and_scores_stay_float32(tmp_path):
    import torch

    folder = build_model(tmp_path / "gpt2", "gpt2")
    pairs = [("the cat sat on", " the mat."), ("a question:", " yes")]
    ref = HFBackend(ModelSpec(str(folder), dtype="float32"))
    want = ref.loglikelihoods(ref.encode_pairs(pairs))
    bf = HFBackend(ModelSpec(str(folder), dtype="bfloat16"))
    assert next(bf.model.parameters()).dtype == torch.bfloat16 and bf.score_dtype == torch.float32
    got = bf.loglikelihoods(bf.encode_pairs(pairs))
    assert got == pytest.approx(want, abs=0.5) and got != want  # bfloat16 rounds, but scores the same text
    assert ModelSpec(str(folder), dtype="bfloat16").key() != ModelSpec(str(folder)).key()
    with pytest.raises(ScalecheckError, match="unknown dtype"):
        ModelSpec(str(folder), dtype="float8")


def test_cuda_without_a_gpu_is_one_line(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ScalecheckError, match="torch sees no CUDA device"):
        HFBackend(ModelSpec(str(tmp_path), device="cuda"))
