"""A model's identity and how it is loaded, in one place: :class:`ModelSpec`.

A ladder names its models (:class:`~scalecheck.sources.ladder.LadderModel`: a name, sizes, tokens, known
losses); :meth:`ModelSpec.from_ladder` turns one into what is loaded and what keys its results: where the weights
are (a local folder or .gguf file, or a hub id at a revision), the dtype, the device ("auto" resolved once, where
the model is loaded: :meth:`ModelSpec.resolved`), the GPUs one copy needs, the backend that scores it, and the
tokenisation options. The store key (:meth:`ModelSpec.key`) is what changes the numbers: the weights (a local
model by the hash of its files, a hub model by id and revision), the dtype, the tokenisation and the backend; not
the device or the GPUs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, ScalecheckError

if TYPE_CHECKING:  # a Ray worker imports this module: the sources (and pandas) stay out of it
    from ..sources.ladder import LadderModel

DTYPES = ("float32", "float64", "float16", "bfloat16")
BYTES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}
DEFAULT_BACKEND = "hf"


def weights_hash(folder: Path) -> str:
    """sha256 over every file of a local model folder (weights, config, tokenizer), names included; or of one
    GGUF file (which holds all three)."""
    h = hashlib.sha256()
    if folder.is_file():
        files, folder = [folder], folder.parent
    else:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts)
    if not files:
        raise InputError(folder, "model folder is empty")
    for p in files:
        h.update(str(p.relative_to(folder)).encode() + b"\0")
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def resolve_device(device: str) -> str:
    """``auto``: the first CUDA device when torch sees one, else the CPU; any other device as given."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class ModelSpec:
    """What a model is, how it is loaded and what keys its results (see the module doc)."""

    location: str
    revision: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    trust_remote_code: bool = False
    add_special_tokens: bool | None = None
    backend: str = DEFAULT_BACKEND
    gpus: float | None = None  # GPUs one copy needs (Ray executor); None: from its size and the GPUs' memory
    _weights: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ScalecheckError(f"unknown dtype {self.dtype!r} (known: {', '.join(DTYPES)})")
        if self.location in ("", "None"):
            raise ScalecheckError("a model needs a local folder, a .gguf file or a hub id")
        if self.revision is not None and self.is_local:
            raise ScalecheckError(f"{self.location}: a local model has no revisions (asked for {self.revision!r}); "
                                  "a revision picks a checkpoint of a hub model")

    @classmethod
    def from_ladder(cls, model: LadderModel, *, dtype: str | None = None, device: str = "cpu",
                    trust_remote_code: bool = False, add_special_tokens: bool | None = None,
                    backend: str = DEFAULT_BACKEND) -> ModelSpec:
        """A ladder's model as loaded: ``dtype`` overrides the ladder's (default float32)."""
        if model.path is None and model.id is None:
            raise ScalecheckError(f"model {model.name!r} names no weights: give it an 'id' or a 'path'")
        return cls(model.location, model.revision, dtype or model.dtype or "float32", device, trust_remote_code,
                   add_special_tokens, backend, model.gpus)

    def resolved(self) -> ModelSpec:
        """This spec with ``device="auto"`` made concrete, on the machine that loads the model."""
        device = resolve_device(self.device)
        return self if device == self.device else dataclasses.replace(self, device=device, _weights=self._weights)

    @property
    def is_gguf(self) -> bool:
        """A single GGUF file (config, tokenizer and weights in one)."""
        return self.location.lower().endswith(".gguf")

    @property
    def is_local(self) -> bool:
        return Path(self.location).is_dir() or (self.is_gguf and Path(self.location).is_file())

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda") or self.device == "auto"

    def identity(self) -> dict:
        """The key of this model's results: a local folder by the hash of its files, a hub id by revision."""
        ident = {"location": self.location, "dtype": self.dtype, "add_special_tokens": self.add_special_tokens}
        if self.backend != DEFAULT_BACKEND:  # the HF backend's keys are those of every store written before
            ident["backend"] = self.backend
        if self.is_local:
            if "sha256" not in self._weights:
                self._weights["sha256"] = weights_hash(Path(self.location))
            ident["weights"] = self._weights["sha256"]
        else:
            ident["revision"] = self.revision or "main"
        return ident

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:32]


def checkpoints(models: Sequence[LadderModel], revisions: Sequence[str]) -> list[LadderModel]:
    """Each model at each revision (checkpoint): named ``NAME@REV``.

    A revision ``stepN`` sets the step; where the model's step and tokens (or FLOPs) are known, the
    checkpoint's are scaled by N / step (tokens per step are constant within a run, as in Pythia's).
    """
    out = []
    for m in models:
        if m.path is not None:  # scoring the final weights under a checkpoint's label would be a wrong number
            raise ScalecheckError(f"model {m.name!r} is a local {'file' if m.path.is_file() else 'folder'} "
                                  f"({m.path}), which has no revisions; --revision picks checkpoints of hub models")
        for rev in revisions:
            found = re.fullmatch(r"step(\d+)", rev)
            step = int(found.group(1)) if found else None
            scale = step / m.step if step is not None and m.step else None
            out.append(dataclasses.replace(
                m, name=f"{m.name}@{rev}", revision=rev, step=step if step is not None else m.step,
                tokens=m.tokens * scale if scale is not None and m.tokens else (m.tokens if step is None else None),
                flops=m.flops * scale if scale is not None and m.flops else (m.flops if step is None else None),
                losses={} if step is not None else dict(m.losses)))
    return out
