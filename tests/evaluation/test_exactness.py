"""Every class log-probability equals a naive reference: one float64 forward pass per prompt+class.

The models are tiny GPT-2, GPT-NeoX and Llama configurations with random weights and a BPE tokenizer trained
here (tinymodels.py), saved to disk and loaded through the real backend. Batches mix prompt lengths (a small
token budget splits each chunk into many batches of different widths), classes have 1 to several tokens, some
prompts end in whitespace and one is empty.
"""

import json
import math
import random

import numpy as np
import pytest
from tinymodels import WORDS, build_model

from scalecheck.evaluation import Evaluation, Setting, read_task
from scalecheck.sources.ladder_file import LadderModel

ARCHS = ("gpt2", "neox", "llama")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {a: build_model(root / a, a, seed=i) for i, a in enumerate(ARCHS)}


@pytest.fixture(scope="module")
def references(models):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = {}
    for arch, folder in models.items():
        tok = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64).eval()
        prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id

        def logprob(ctx, cont, tok=tok, model=model, prefix=prefix):
            # lm-evaluation-harness's split, written out independently of the backend.
            if ctx == "":
                c, k = [prefix], tok(cont)["input_ids"]
            else:
                n = len(ctx) - len(ctx.rstrip())
                if n:
                    ctx, cont = ctx[:-n], ctx[-n:] + cont
                whole, c = tok(ctx + cont)["input_ids"], tok(ctx)["input_ids"]
                k = whole[len(c):]
            ids = torch.tensor([c + k])
            with torch.no_grad():
                lp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
            return float(sum(lp[len(c) - 1 + t, tid] for t, tid in enumerate(k)))

        out[arch] = logprob
    return out


def _sentence(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def _task_rows(fmt: str, n: int = 24, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prompt = _sentence(rng, 1, 25) + rng.choice([":", "?", " ", "\n", ""])
        if i == 0 and fmt != "logodds":
            prompt = ""  # an empty context is scored after the BOS/EOS prefix token
        if fmt == "sequence_prob":
            rows.append({"prompt": prompt, "completion": " " + _sentence(rng, 1, 6)})
            continue
        k = rng.randint(2, 4)
        classes = [" " + _sentence(rng, 1, 3) + rng.choice(["", "."]) for _ in range(k)]
        row = {"prompt": prompt, "classes": repr(classes), "answer_index": rng.randrange(k)}
        if fmt == "logodds":
            row["other_prompt"] = _sentence(rng, 1, 20) + ":"
        rows.append(row)
    return rows


def _run(models, arch, fmt, tmp_path, shots=0, dtype="float64"):
    path = tmp_path / f"t_{fmt}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _task_rows(fmt)))
    task = read_task(path, format=fmt)
    ev = Evaluation.run([LadderModel(name=arch, path=models[arch])], task, Setting(shots=shots),
                        output=tmp_path / "out", dtype=dtype, batch_tokens=160, chunk=10)
    return task, ev


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("fmt", ["classification", "sequence_prob", "logodds"])
def test_class_logprobs_equal_the_naive_reference(models, references, tmp_path, arch, fmt):
    task, ev = _run(models, arch, fmt, tmp_path, shots=2 if fmt == "classification" else 0)
    ref = references[arch]
    out = tmp_path / "out" / Evaluation.examples_file(arch, task.name, ev.setting)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(len(task)))
    worst = 0.0
    for ex, row in zip(task.examples, rows, strict=True):
        prompt, other = task.prompts(ex, ev.setting.shots)
        want = [ref(prompt, c) for c in ex.classes]
        worst = max(worst, *(abs(a - b) for a, b in zip(row["class_logprobs"], want, strict=True)))
        if fmt == "logodds":
            want_other = [ref(other, c) for c in ex.classes]
            worst = max(worst, *(abs(a - b) for a, b in zip(row["other_class_logprobs"], want_other, strict=True)))
        # The metrics, recomputed here from the reference numbers.
        if fmt == "sequence_prob":
            assert row["loss"] == pytest.approx(-want[0], abs=1e-5)
            continue
        norm = np.array(want) - np.logaddexp.reduce(want)
        assert row["loss"] == pytest.approx(-norm[ex.answer_index], abs=1e-5)
        assert row["correct"] == (int(np.argmax(want)) == ex.answer_index)
        if fmt == "classification":
            assert row["class_mass"] == pytest.approx(math.exp(np.logaddexp.reduce(want)), rel=1e-5)
        else:
            # log(p / (1 - p)) with 1 - p summed over the other classes (p can round to 1 in floats).
            def log_odds(lp, a=ex.answer_index):
                lp = np.array(lp) - np.logaddexp.reduce(lp)
                return lp[a] - np.logaddexp.reduce(np.delete(lp, a))

            assert row["logodds"] == pytest.approx(log_odds(want) - log_odds(want_other), abs=1e-5)
    assert worst < 1e-5, worst
    assert ev.results[0].stats.forwards > 4  # many batches of mixed widths, not one


def test_float32_matches_the_float64_reference_closely(models, references, tmp_path):
    task, ev = _run(models, "llama", "classification", tmp_path, dtype="float32")
    ref = references["llama"]
    diffs = [abs(a - ref(ex.prompt, c)) for ex, r in zip(task.examples, ev.results[0].examples, strict=True)
             for a, c in zip(r["class_logprobs"], ex.classes, strict=True)]
    assert max(diffs) < 1e-4


def test_each_prompt_is_run_once_for_all_its_classes(models, tmp_path):
    task, ev = _run(models, "gpt2", "classification", tmp_path)
    stats = ev.results[0].stats
    n_classes = sum(len(e.classes) for e in task.examples)
    assert stats.requests == n_classes and stats.contexts == len(task)
    # Tokens fed to the model: each prompt once plus the continuations, far fewer than prompt x classes.
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(models["gpt2"])
    naive = sum(len(tok(e.prompt + c)["input_ids"]) for e in task.examples for c in e.classes)
    assert stats.tokens < 0.75 * naive
