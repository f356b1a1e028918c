"""A ladder: the models of a family, each with its identity (name, where its weights are), its sizes, tokens and
known losses. What every reader of ladders returns (:mod:`.ladder_file` for YAML and TOML files and the built-in
ladders, the ``lm-eval`` importer) and what ``scalecheck evaluate`` scores; how a model is loaded and what keys its
results is :class:`scalecheck.evaluation.ModelSpec`, made from a :class:`LadderModel` by ``ModelSpec.from_ladder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..schema import LOSS_PREFIX


@dataclass(frozen=True)
class LadderModel:
    """One model of a ladder: its name in the testbed, where its weights are (a hub ``id`` at a ``revision``, or a
    local ``path``), the figures a law is fitted against, and the load hints a ladder file may give (dtype, GPUs)."""

    name: str
    id: str | None = None
    path: Path | None = None
    revision: str | None = None
    family: str | None = None
    corpus: str | None = None
    size: str | None = None
    params: float | None = None
    params_nonembed: float | None = None
    tokens: float | None = None
    flops: float | None = None
    step: int | None = None
    holdout: bool = False
    dtype: str | None = None
    losses: dict[str, float] = field(default_factory=dict)
    gpus: float | None = None

    @property
    def location(self) -> str:
        """What a backend loads: the local folder, else the hub id."""
        return str(self.path) if self.path is not None else str(self.id)


@dataclass(frozen=True)
class Ladder:
    """The models of a ladder, in order, and where they were read from."""

    models: tuple[LadderModel, ...]
    source: str = "ladder"
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.models)

    def model(self, name: str) -> LadderModel:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def models_frame(self) -> pd.DataFrame:
        """The models table rows for this ladder (see :mod:`scalecheck.schema`)."""
        rows = []
        for m in self.models:
            row = {"model": m.name, "source": self.source, "family": m.family, "corpus": m.corpus,
                   "size": m.size, "params": m.params, "params_nonembed": m.params_nonembed,
                   "tokens": m.tokens, "flops": m.flops, "step": m.step, "holdout": m.holdout}
            row.update({LOSS_PREFIX + k: v for k, v in m.losses.items()})
            rows.append(row)
        return pd.DataFrame(rows)
