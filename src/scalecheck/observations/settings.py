"""Which setting (shot count, prompt variant) an analysis uses when tasks were scored in several.

A testbed may hold each task at several settings (Pythia: 0- and 5-shot; the OLMo ladder: the ``mc`` and ``rc``
prompt formats). A series needs one, and a silent per-task refusal turns most tasks into insufficient-data. So
when the :class:`~scalecheck.observations.Selection` leaves ``shots`` or ``variant`` open and some selected task
has several values, :func:`choose_setting` picks the value the evidence supports, and says why:

1. the value every selected task was scored at (Pythia: 0-shot; its 5-shot runs lack the bias tasks);
2. of several such values, the one scored on clearly the most models (the OLMo ladder: ``rc``, 3,948 models
   against 379 for ``mc``);
3. otherwise nothing is picked: a one-line :class:`~scalecheck.errors.SelectionError` names the flag and the
   values to choose from.

Each task's metric is the selection's, else the task's default (as :meth:`Testbed.series` resolves it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from ..errors import SelectionError
from .selection import Selection
from .testbed import Testbed

FLAGS = {"shots": "--shots", "variant": "--variant"}
# "Clearly the most": the runner-up has at most this share of the leader's models. A near tie is no evidence.
MOST_MODELS_RATIO = 0.8


@dataclass(frozen=True)
class SettingChoice:
    """The selection with the chosen settings filled in, and one sentence per choice made (for the user)."""

    selection: Selection
    notes: tuple[str, ...]


def _label(dim: str, value) -> str:
    if dim == "variant":
        return repr(value) if value == "" else str(value)
    return str(value)


def _task_scores(testbed: Testbed, selection: Selection) -> pd.DataFrame:
    """The selected tasks' scores in each task's metric (tasks whose metric is ambiguous are left to the analysis)."""
    tasks = list(selection.tasks) if selection.tasks is not None else testbed.task_names
    s = testbed.scores[testbed.scores["task"].isin(tasks)]
    if selection.metric is not None:
        return s[s["metric"] == selection.metric]
    declared = testbed.tasks.set_index("task")["metric"]
    parts = []
    for task, sub in s.groupby("task", sort=False):
        metrics = sub["metric"].unique().tolist()
        default = declared.get(task, pd.NA)
        if pd.notna(default) and default in metrics:
            parts.append(sub[sub["metric"] == default])
        elif len(metrics) == 1:
            parts.append(sub)
    return pd.concat(parts) if parts else s.iloc[:0]


def choose_setting(testbed: Testbed, selection: Selection | None = None) -> SettingChoice:
    """Fill in ``shots`` and ``variant`` where the selection leaves them open and the tasks have several (see the
    module's docstring for the rule); a SelectionError naming the flag where the evidence picks none."""
    selection = selection if selection is not None else Selection()
    testbed = selection.apply(testbed)  # count the models the analysis will see (final checkpoints by default)
    s = _task_scores(testbed, selection)
    if selection.shots is not None:
        s = s[s["shots"] == selection.shots]
    if selection.variant is not None:
        s = s[s["variant"] == selection.variant]
    notes: list[str] = []
    chosen: dict[str, object] = {}
    for dim in ("shots", "variant"):
        if getattr(selection, dim) is not None or s.empty:
            continue
        values = s[dim].astype(object).where(s[dim].notna(), None)
        per_task = values.groupby(s["task"]).agg(lambda v: frozenset(v))
        if not (per_task.map(len) > 1).any():
            continue  # each task has one value: each uses its own
        every = frozenset.intersection(*per_task.tolist()) - {None}
        models = s.assign(_v=values).groupby("_v")["model"].nunique().sort_values(ascending=False, kind="mergesort")
        everything = sorted((v for v in models.index if v is not None), key=lambda v: (str(type(v)), v))
        shown = ", ".join(_label(dim, v) for v in everything)
        flag = FLAGS[dim]
        if not every:
            counts = "; ".join(f"{_label(dim, v)}: {int((per_task.map(lambda vs, v=v: v in vs)).sum())} tasks"
                               for v in everything)
            raise SelectionError(f"the tasks were scored at several {dim} values ({counts}) and no one value is "
                                 f"shared by every task; choose one with {flag} (tasks without it are left out) "
                                 f"or pick tasks with --tasks")
        if len(every) == 1:
            value = next(iter(every))
            why = "the setting every task has" if len(everything) > 1 else "the only one"
        else:
            ranked = models[[v for v in models.index if v in every]]
            if ranked.iloc[1] > MOST_MODELS_RATIO * ranked.iloc[0]:
                options = " or ".join(f"{flag} {_label(dim, v)}" for v in sorted(every, key=str))
                raise SelectionError(f"every task was scored at several {dim} values ({shown}), on about as many "
                                     f"models each ({', '.join(f'{_label(dim, v)}: {n}' for v, n in ranked.items())}"
                                     f"); choose one: {options}")
            value = ranked.index[0]
            why = (f"the one scored on the most models: {int(ranked.iloc[0]):,} against "
                   f"{int(ranked.iloc[1]):,}")
        s = s[values == value]
        value = int(value) if dim == "shots" else str(value)
        chosen[dim] = value
        notes.append(f"{dim}: {_label(dim, value)} (of {shown}; {why}) - pass {flag} to choose")
    return SettingChoice(replace(selection, **chosen) if chosen else selection, tuple(notes))
