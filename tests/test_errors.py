"""The one "did you mean" (scalecheck.errors): one cutoff, any case, as the choices spell them."""

from scalecheck.errors import CLOSE_CUTOFF, close_matches, did_you_mean


def test_did_you_mean_suggests_close_names_only():
    assert did_you_mean("helaswag", ["hellaswag", "copa"]) == " (did you mean 'hellaswag'?)"
    assert did_you_mean("Qwen25", ["qwen2.5", "gpt2"]) == " (did you mean 'qwen2.5'?)"
    assert did_you_mean("mc1", ["acc", "acc_norm"]) == ""  # not alike enough to suggest
    assert close_matches("alpah", ["alpha", "alpaca", "beta"], n=3)[0] == "alpha"
    assert did_you_mean("olmo", ["olmo-1", "olmo-2", "opt"], n=2) == " (did you mean 'olmo-2' or 'olmo-1'?)"
    assert CLOSE_CUTOFF == 0.6


def test_an_unknown_source_gets_a_suggestion():
    import pytest

    from scalecheck.errors import ScalecheckError
    from scalecheck.sources.registry import get

    with pytest.raises(ScalecheckError, match="unknown source 'pythai' \\(did you mean 'pythia'\\?\\)"):
        get("pythai")
