"""Tiny causal LMs with random weights and a BPE tokenizer trained here: the exactness tests' models."""

from __future__ import annotations

import json
import random
from pathlib import Path

# Logical GPUs the Ray test cluster declares: Ray assigns them (CUDA_VISIBLE_DEVICES per actor) on a CPU-only
# machine.
RAY_GPUS = 4

WORDS = ("the cat dog sat on a mat answer question yes no true false not heavy fonder absence makes heart grow "
         "long absent soon forgotten returned quote ends word write proverb barometer reading lower chance "
         "sunshine getting wet coral living organism").split()


def corpus(n: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20))) + rng.choice([".", "?", ":", "!"])
            for _ in range(n)]


def build_tokenizer(folder: Path, *, bos: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    if bos:
        # A Llama-like tokenizer: BOS is added to every encoding with add_special_tokens (the default).
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
        wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="<|endoftext|>")
    else:
        wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                          bos_token="<|endoftext|>")
    wrapped.save_pretrained(folder)
    return wrapped


def build_model(folder: Path, arch: str, *, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    import torch
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        GPTNeoXConfig,
        GPTNeoXForCausalLM,
        LlamaConfig,
        LlamaForCausalLM,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(folder, bos=arch == "llama")
    vocab = len(tok)
    torch.manual_seed(seed)
    if arch == "gpt2":
        cfg = GPT2Config(vocab_size=vocab, n_positions=256, n_embd=hidden, n_layer=layers, n_head=4,
                         bos_token_id=0, eos_token_id=0)
        model = GPT2LMHeadModel(cfg)
    elif arch == "neox":
        cfg = GPTNeoXConfig(vocab_size=vocab, max_position_embeddings=256, hidden_size=hidden,
                            num_hidden_layers=layers, num_attention_heads=4, intermediate_size=4 * hidden,
                            bos_token_id=0, eos_token_id=0)
        model = GPTNeoXForCausalLM(cfg)
    elif arch == "llama":
        cfg = LlamaConfig(vocab_size=vocab, max_position_embeddings=256, hidden_size=hidden,
                          num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                          intermediate_size=2 * hidden, bos_token_id=1, eos_token_id=0)
        model = LlamaForCausalLM(cfg)
    else:
        raise ValueError(arch)
    # Random init gives near-uniform predictions; larger weights make the test sensitive to misalignment.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)
    model.save_pretrained(folder)
    return folder


def reference_logprob(model, tokenizer_ids_ctx: list[int], cont: list[int]) -> float:
    """Naive reference: one forward pass over context+continuation in float64."""
    import torch

    ids = torch.tensor([list(tokenizer_ids_ctx) + list(cont)])
    with torch.no_grad():
        logits = model(input_ids=ids).logits.double()
    lp = torch.log_softmax(logits[0], dim=-1)
    n = len(tokenizer_ids_ctx)
    return float(sum(lp[n - 1 + t, c] for t, c in enumerate(cont)))


def task_rows(n, seed, fmt="classification"):
    """Rows of a small random task file (classification or sequence_prob)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + ":"
        if fmt == "sequence_prob":
            out.append({"prompt": prompt, "completion": " " + rng.choice(WORDS)})
        else:
            out.append({"prompt": prompt, "classes": repr([" " + rng.choice(WORDS) for _ in range(2)]),
                        "answer_index": rng.randrange(2)})
    return out


def write_task(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
