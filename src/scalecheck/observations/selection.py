"""What an analysis looks at: one frozen selection (x, by, tasks, metric, shots, variant, checkpoints).

The reality check, backtests, sensitivity and the two-step prediction all start from a testbed and the same
handful of choices. :class:`Selection` holds them, :meth:`Selection.validate` checks them once against a
testbed (an unknown x, column, task, metric, shot count or variant is a one-line
:class:`~scalecheck.errors.SelectionError` naming the field, with a suggestion where one is close) and fills in
the defaults (``x``: :meth:`Testbed.default_x`), and :meth:`Selection.apply` keeps each training run's final
checkpoint where asked. The ``scalecheck`` commands build one from the shared options
(``scalecheck.cli._common.add_selection_options``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import pandas as pd

from ..errors import SelectionError, did_you_mean
from ..schema import LOSS_PREFIX
from .checkpoints import final_models
from .testbed import Testbed

CHECKPOINTS = ("final", "all")  # a run's last checkpoint only (a model at scale), or every one


def _choices(values: Iterable[object], limit: int = 12) -> str:
    vals = [str(v) for v in values]
    more = f", ... ({len(vals)} in all)" if len(vals) > limit else ""
    return ", ".join(vals[:limit]) + more


@dataclass(frozen=True)
class Selection:
    """Which part of a testbed an analysis looks at.

    ``x``: a validation-loss name (``c4_val``) or a scale axis (``params``, ``tokens``, ``flops``); None means
    the testbed's :meth:`~Testbed.default_x`. ``by``: a model column (``corpus``, ``family``) to split by, None
    pools all models. ``tasks``: None means every task. ``metric``, ``shots``, ``variant``: the score setting
    where tasks have several (None: each task's default). ``metrics``: for an analysis that reads several metrics
    side by side (inverse scaling), which ones (None: each task's every metric); an analysis of one metric takes
    ``metric``. ``checkpoints``: ``"final"`` keeps each training run's last checkpoint, ``"all"`` every one.
    """

    x: str | None = None
    by: str | None = None
    tasks: tuple[str, ...] | None = None
    metric: str | None = None
    shots: int | None = None
    variant: str | None = None
    checkpoints: str = "final"
    metrics: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("tasks", "metrics"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple([value] if isinstance(value, str) else value))
        if self.checkpoints not in CHECKPOINTS:
            raise SelectionError(f"checkpoints must be 'final' or 'all', not {self.checkpoints!r}")

    @classmethod
    def of(cls, selection: Selection | None = None, **fields) -> Selection:
        """``selection`` with the given fields replaced (those given as None are left alone)."""
        base = selection if selection is not None else cls()
        given = {k: v for k, v in fields.items() if v is not None}
        return replace(base, **given) if given else base

    def validate(self, testbed: Testbed) -> Selection:
        """Check every field against ``testbed`` and return the selection with ``x`` filled in.

        Fields are checked for existence anywhere in the testbed; a task that lacks the chosen metric or
        setting is the analysis's business (it reports or skips it).
        """
        x = self.x if self.x is not None else testbed.default_x()
        try:
            testbed.x_column(x)
        except SelectionError:
            raise SelectionError(f"unknown x {x!r}{did_you_mean(x, testbed.x_names)}; choose one of: "
                                 f"{', '.join(testbed.x_names)}") from None
        if x.startswith(LOSS_PREFIX):
            x = x[len(LOSS_PREFIX):]
        m = testbed.models
        if self.by is not None and self.by not in m.columns:
            groups = [c for c in m.columns if not c.startswith(LOSS_PREFIX) and m[c].dtype in (object, "string")]
            hint = " (use None to pool all models)" if str(self.by).lower() == "none" else did_you_mean(self.by, groups)
            raise SelectionError(f"cannot split by {self.by!r}: not a model column{hint}; model columns to split "
                                 f"by: {_choices(groups)}")
        if self.tasks is not None:
            known = set(testbed.task_names)
            unknown = [t for t in self.tasks if t not in known]
            if unknown:
                raise SelectionError(f"unknown task(s) {', '.join(map(repr, unknown))}"
                                     f"{did_you_mean(unknown[0], testbed.task_names)} "
                                     f"({len(known)} tasks; see `scalecheck show`)")
        s = testbed.scores
        self._check_value("metric", self.metric, s["metric"])
        for metric in self.metrics or ():
            self._check_value("metric", metric, s["metric"])
        self._check_value("shots", self.shots, s["shots"])
        self._check_value("variant", self.variant, s["variant"])
        return replace(self, x=x)

    @staticmethod
    def _check_value(name: str, value: object, column: pd.Series) -> None:
        if value is None:
            return
        present = column.dropna().unique().tolist()
        if value not in present:
            shown = sorted(map(str, present))
            raise SelectionError(f"unknown {name} {value!r}{did_you_mean(value, shown)}; the testbed has: "
                                 f"{_choices(shown) or 'none'}")

    def apply(self, testbed: Testbed) -> Testbed:
        """The testbed an analysis works on: each run's final checkpoint only, unless ``checkpoints="all"``."""
        return final_models(testbed) if self.checkpoints == "final" else testbed

    def task_names(self, testbed: Testbed) -> list[str]:
        """The selected tasks, in the given order (default: all of the testbed's)."""
        return list(self.tasks) if self.tasks is not None else testbed.task_names

    def groups(self, testbed: Testbed) -> list:
        """The values of ``by`` in ``testbed`` (sorted; none when pooling)."""
        if self.by is None:
            return []
        return sorted(testbed.models[self.by].dropna().unique().tolist())

    def setting(self) -> dict:
        """The score-setting keywords of :meth:`Testbed.series`."""
        return {"metric": self.metric, "shots": self.shots, "variant": self.variant}

    def to_dict(self) -> dict:
        return {"x": self.x, "by": self.by, "tasks": list(self.tasks) if self.tasks is not None else None,
                "metric": self.metric, "shots": self.shots, "variant": self.variant,
                "checkpoints": self.checkpoints,
                "metrics": list(self.metrics) if self.metrics is not None else None}

