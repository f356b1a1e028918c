"""The backend seam: the ``Scorer`` contract checked over every registered backend (and failing on broken ones),
the registry's did-you-mean, ``ModelSpec`` as the one identity (keys of stores written before unchanged), and
``device="auto"`` resolved where the model loads, whichever path loads it."""

import pytest
from tinymodels import build_model, task_rows, write_task

from scalecheck.errors import ScalecheckError
from scalecheck.evaluation import Evaluation, Setting, read_task
from scalecheck.evaluation.backends import (
    Scorer,
    backend_names,
    check_backend,
    get_backend,
    make_backend,
    register_backend,
    unregister_backend,
)
from scalecheck.evaluation.backends.hf import HFBackend
from scalecheck.evaluation.models import ModelSpec
from scalecheck.sources.ladder_file import LadderModel


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("backends") / "llama", "llama", seed=4)


@pytest.mark.parametrize("name", backend_names())
def test_every_registered_backend_keeps_the_contract(name, tiny):
    scorer = check_backend(name, ModelSpec(str(tiny), backend=name))
    assert isinstance(scorer, Scorer)


class BatchDependent(HFBackend):
    """Broken: a request's score moves with what else is in the batch (as a padding bug would)."""

    def loglikelihoods(self, requests, progress=None):
        return [v - 1e-3 * len(requests) if v else v for v in super().loglikelihoods(requests, progress)]


class DropsOne(HFBackend):
    def loglikelihoods(self, requests, progress=None):
        return super().loglikelihoods(requests, progress)[:-1] if len(requests) > 1 else \
            super().loglikelihoods(requests, progress)


class Unstable(HFBackend):
    calls = 0

    def fingerprint(self):
        Unstable.calls += 1
        return f"tok{Unstable.calls}"


class Positive(HFBackend):
    def loglikelihoods(self, requests, progress=None):
        return [abs(v) for v in super().loglikelihoods(requests, progress)]


@pytest.mark.parametrize("broken, why", [(BatchDependent, "differs from the same request in a batch"),
                                         (DropsOne, "values for 8 requests"),
                                         (Unstable, "fingerprint"), (Positive, "not finite floats <= 0")])
def test_check_backend_fails_a_broken_backend_saying_what_breaks(broken, why, tiny):
    register_backend("broken", broken)
    try:
        with pytest.raises(AssertionError, match=why) as exc:
            check_backend("broken", ModelSpec(str(tiny), backend="broken"))
        assert "backend 'broken' breaks the scoring contract" in str(exc.value)
    finally:
        unregister_backend("broken")


def test_the_registry_names_the_closest_backend_and_refuses_a_second_of_one_name(tiny, tmp_path):
    with pytest.raises(ScalecheckError, match=r"unknown backend 'hff' \(did you mean 'hf'\?\); known: hf"):
        get_backend("hff")
    with pytest.raises(ValueError, match="already registered"):
        register_backend("hf", DropsOne)
    assert get_backend("hf") is HFBackend
    # An unknown backend in a spec is refused before anything is scored, in one line.
    task = read_task(write_task(tmp_path / "t_classification.jsonl", task_rows(4, 1)))
    with pytest.raises(ScalecheckError, match="unknown backend 'hff'"):
        Evaluation.run([LadderModel(name="m", path=tiny)], task, output=tmp_path / "o", backend="hff")
    assert not (tmp_path / "o" / "results.sqlite").exists()


def test_a_backend_registered_by_a_user_is_what_the_executors_load(tiny, tmp_path):
    built = []

    @register_backend("counting")
    def counting(spec, *, batch_tokens=None):
        built.append(spec)
        return HFBackend(spec, batch_tokens=batch_tokens)

    try:
        task = read_task(write_task(tmp_path / "t_classification.jsonl", task_rows(6, 2)))
        m = [LadderModel(name="m", path=tiny)]
        ref = Evaluation.run(m, task, Setting(1), output=tmp_path / "ref")
        ev = Evaluation.run(m, task, Setting(1), store=tmp_path / "other.sqlite", backend="counting")
        assert [s.backend for s in built] == ["counting"]
        assert [r.examples for r in ev.results] == [r.examples for r in ref.results]
        # Another backend is other numbers: its results have their own key.
        assert ev.results[0].model_key != ref.results[0].model_key
    finally:
        unregister_backend("counting")


def test_model_keys_of_stores_written_before_are_unchanged():
    # Computed with ModelSpec as it was at 6e6fd32 (scalecheck.evaluation.backend): a results.sqlite written then
    # still resumes.
    assert ModelSpec("EleutherAI/pythia-70m", revision="step1000").key() == "5d4abceb8fe61e2ff39ce947151eecef"
    assert ModelSpec("EleutherAI/pythia-70m", dtype="bfloat16", add_special_tokens=False).key() == \
        "743177b1e9350a2e353550dbfad1feec"
    # The device and the GPUs change where a model runs, not its numbers' key.
    assert ModelSpec("a/b", device="cuda:1", gpus=2).key() == ModelSpec("a/b").key()


def test_auto_device_is_resolved_where_the_model_loads_on_every_path(tiny, tmp_path):
    import torch

    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert make_backend(ModelSpec(str(tiny), device="auto")).spec.device == want
    # The Python API's local path used to hand "auto" to torch.
    task = read_task(write_task(tmp_path / "t_classification.jsonl", task_rows(5, 3)))
    ev = Evaluation.run([LadderModel(name="m", path=tiny)], task, output=tmp_path / "o", device="auto")
    assert ev.results[0].examples_scored == 5


def test_from_ladder_is_the_one_way_a_ladder_model_becomes_a_spec(tiny):
    m = LadderModel(name="m", path=tiny, dtype="bfloat16", gpus=2)
    spec = ModelSpec.from_ladder(m, device="auto")
    assert (spec.location, spec.dtype, spec.gpus, spec.device) == (str(tiny), "bfloat16", 2, "auto")
    assert ModelSpec.from_ladder(m, dtype="float32").dtype == "float32"
    with pytest.raises(ScalecheckError, match="names no weights"):
        ModelSpec.from_ladder(LadderModel(name="nothing"))
