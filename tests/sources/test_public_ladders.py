"""Built-in ladders: the families the issue names, figures that hold together, names resolved or refused."""

import pandas as pd
import pytest

from scalecheck.cli import main
from scalecheck.errors import InputError, ScalecheckError
from scalecheck.sources.ladder_file import builtin_ladder, read_ladder, resolve_ladder
from scalecheck.sources.public_ladders import PYTHIA_STEPS, ladder_names, public_ladders_frame
from scalecheck.sources.pythia import PYTHIA_PARAMS


def test_the_named_families_with_their_sizes():
    frame = public_ladders_frame()
    assert set(ladder_names()) >= {"pythia", "pythia-deduped", "gpt2", "opt", "gpt-neo", "cerebras-gpt", "smollm2",
                                   "qwen2.5", "olmo-2"}
    by = frame.groupby("ladder")
    assert list(by.get_group("pythia")["size"]) == list(PYTHIA_PARAMS)
    assert list(by.get_group("opt")["id"]) == [f"facebook/opt-{s}" for s in
                                               ("125m", "350m", "1.3b", "2.7b", "6.7b", "13b", "30b", "66b")]
    assert {"EleutherAI/gpt-j-6b", "EleutherAI/gpt-neo-2.7B"} <= set(by.get_group("gpt-neo")["id"])
    assert frame["id"].is_unique and frame["name"].is_unique
    assert frame[["params", "params_nonembed", "context", "licence"]].notna().all().all()
    assert (frame["params_nonembed"] < frame["params"]).all()
    # Sizes ascend within each ladder (a ladder is ordered small to large).
    assert all(g["params"].is_monotonic_increasing for _, g in by)
    # FLOPs are 6ND wherever they are marked so; GPT-2's tokens were never published.
    six = frame[frame["flops_source"] == "6ND"]
    assert list(six["flops"]) == pytest.approx(list(6 * six["params"] * six["tokens"]), rel=1e-3)
    assert frame.loc[frame["ladder"] == "gpt2", "tokens"].isna().all()
    pythia = by.get_group("pythia").set_index("size")
    for size, (params, nonembed) in PYTHIA_PARAMS.items():
        assert pythia.loc[size, "params"] == params and pythia.loc[size, "params_nonembed"] == nonembed


@pytest.mark.parametrize("name, cls, dims", [
    ("SmolLM2-135M", "LlamaConfig", dict(vocab_size=49152, hidden_size=576, num_hidden_layers=30,
                                         num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536,
                                         tie_word_embeddings=True)),
    ("Qwen2.5-0.5B", "Qwen2Config", dict(vocab_size=151936, hidden_size=896, num_hidden_layers=24,
                                         num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864,
                                         tie_word_embeddings=True)),
    ("opt-350m", "OPTConfig", dict(vocab_size=50272, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                   ffn_dim=4096, word_embed_proj_dim=512, do_layer_norm_before=False)),
    ("OLMo-2-0425-1B", "Olmo2Config", dict(vocab_size=100352, hidden_size=2048, num_hidden_layers=16,
                                           num_attention_heads=16, intermediate_size=8192,
                                           tie_word_embeddings=False)),
])
def test_params_are_those_of_the_published_config(name, cls, dims):
    """Counted again here on the meta device from the published config.json dimensions."""
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(getattr(transformers, cls)(**dims))
    total = sum(p.numel() for p in model.parameters())
    row = public_ladders_frame().set_index("name").loc[name]
    assert row["params"] == total


def test_pythia_checkpoints_are_revisions_with_the_tokens_seen():
    ladder = resolve_ladder("pythia-deduped@step71000")
    m = ladder.model("pythia-1b-deduped@step71000")
    assert (m.id, m.revision, m.step) == ("EleutherAI/pythia-1b-deduped", "step71000", 71000)
    assert m.tokens == 71000 * 2_097_152 and m.flops == pytest.approx(6 * m.params * m.tokens)
    assert len(PYTHIA_STEPS) == 154 and builtin_ladder("pythia@step0").models[0].tokens is None
    with pytest.raises(ScalecheckError, match="no checkpoint step1500.*nearest: step(1000|2000)"):
        resolve_ladder("pythia@step1500")
    with pytest.raises(ScalecheckError, match="publishes no step checkpoints"):
        resolve_ladder("opt@step1000")
    plain = resolve_ladder("opt")
    assert plain.models[0].revision is None and plain.models[-1].name == "opt-66b"


def test_unknown_names_get_the_closest_ones_in_one_line(tmp_path, capsys):
    with pytest.raises(ScalecheckError, match="did you mean pythia") as e:
        resolve_ladder("pyhtia")
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="no such ladder file"):
        resolve_ladder(str(tmp_path / "mine.yaml"))
    task = tmp_path / "t.jsonl"
    task.write_text('{"prompt": "a", "classes": [" x", " y"], "answer_index": 0}\n')
    code = main(["evaluate", "--ladder", "qwen25", "--task", str(task), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "did you mean qwen2.5" in err and not (tmp_path / "o").exists()


def test_a_ladder_file_extends_a_builtin_one(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("extends: smollm2\nmodels:\n  - name: SmolLM2-1.7B\n    id: HuggingFaceTB/SmolLM2-1.7B\n"
                 "    params: 1.7e9\n    holdout: true\n  - name: local\n    path: ./ckpt\n    params: 3.0e9\n")
    ladder = resolve_ladder(f)
    assert [m.name for m in ladder.models] == ["SmolLM2-135M", "SmolLM2-360M", "SmolLM2-1.7B", "local"]
    assert ladder.model("SmolLM2-1.7B").holdout and ladder.model("SmolLM2-135M").tokens == 2e12
    assert ladder.model("local").path == (tmp_path / "ckpt").resolve()
    only = tmp_path / "only.yaml"
    only.write_text("extends: gpt2\n")
    assert len(read_ladder(only)) == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: gtp2\n")
    with pytest.raises(InputError, match="did you mean gpt2") as e:
        read_ladder(bad)
    assert e.value.field == "extends"


def test_cli_lists_the_ladders(capsys):
    assert main(["ladders"]) == 0
    out = capsys.readouterr().out
    assert "EleutherAI/pythia-70m-deduped" in out and "allenai/OLMo-2-1124-13B" in out and "NAME@stepN" in out
    assert main(["ladders", "olmo-2", "--csv"]) == 0
    import io

    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame["ladder"].unique()) == ["olmo-2"] and len(frame) == 4
    assert main(["ladders", "olmo2"]) == 2
    assert "did you mean olmo-2" in capsys.readouterr().err
