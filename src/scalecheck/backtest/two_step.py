"""The two-step prediction (Bhagia et al. 2024): scale -> task loss -> accuracy, fitted on a small ladder of runs.

Step 1 fits the task loss (bits per byte of the correct answer) as a Chinchilla law in parameters and tokens,
``L(N, D) = E + A/N^alpha + B/D^beta``, on the final checkpoints of the ladder's training runs (each one's
task loss the mean of its run's last 5 checkpoints; Huber loss on log residuals, as the paper). Step 2 fits the
accuracy as a sigmoid of that task loss on *every* checkpoint of those runs after their first 10% of tokens
(intermediate ones too: step 2 is a property of the loss-to-accuracy map, not of where training stopped). :func:`scalecheck.laws.fit_chain`
composes the two, carrying both steps' bootstrap uncertainty into the target's interval.

The fit set and the targets are declared in data: ``train_runs`` (the ``run`` values the paper fits on, its
``mode: train`` configs) and ``targets`` (name -> runs or model ids predicted, its ``mode: eval`` configs).
:func:`scalecheck.sources.olmo_ladder.paper_setup` reads both from the OLMo ladder paper folder. The defaults
are the paper's settings (its tasks, MMLU's composite, step 1's last-5 mean and Huber loss, step 2's checkpoint
window), defined with the paper's importer in :mod:`scalecheck.sources.olmo_ladder`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError
from ..laws import fit, fit_chain
from ..laws.groups import GROUPINGS, fit_for_group
from ..laws.prediction import PredictionModel
from ..laws.reliability import expected_skill, reliability
from ..laws.select import no_change_levels
from ..observations import Selection, Series, Testbed, add_composite_task
from ..observations.checkpoints import final_checkpoints
from ..progress import Progress, report
from ..sources.olmo_ladder import (
    MMLU_TEST_PARTS,
    PAPER_TASKS,
    STEP1_LAST_N,
    STEP1_LOSS,
    STEP2_MIN_TOKENS_FRACTION,
    STEP2_PER_RUN,
    TARGET_LAST_N,
)
from ..tables import ReportFiles, write_tables

# Step 1's inputs: the paper's (N, D); training compute C = 6ND alone (its FLOPs variant, one exponent, law
# ``step1_flops_form``); or "both": the mean of the two chained predictions, its interval the envelope of the two
# (the mean's error includes the two step-1 laws' disagreement, which neither bootstrap sees). "both" was selected
# on a target-free validation inside the paper's train runs (1.3B predicted from 190M-760M, and 760M from
# 190M-370M: mean accuracy MAE 1.17 points vs 1.27 for (N, D) alone, 1.39 for C alone;
# benchmarks/olmo_ladder_select.py), before it was ever run on the 7B/13B targets.
STEP1_AXES = ("params_tokens", "flops", "both")

LADDER_COLUMNS = ["target", "task", "params", "tokens", "actual", "predicted", "lo", "hi", "abs_error",
                  "rel_error", "signed_error", "covered", "step1_actual", "step1_predicted", "step1_lo",
                  "step1_hi", "step1_abs_error", "step2_predicted", "step2_abs_error", "n_step1", "n_step2",
                  "paper_predicted", "paper_abs_error", "usable", "reason", "estimated_skill", "reliability"]


def _models_of(testbed: Testbed, ids_or_runs: Sequence[str]) -> pd.DataFrame:
    m = testbed.models
    pick = m["model"].isin(list(ids_or_runs)) | m["run"].isin(list(ids_or_runs))
    return m[pick]


# What the two-step prediction analyses unless a selection says otherwise: the paper's tasks, accuracy of the
# ranked-classification variant, 5-shot. A selection's fields left None fall back to these.
PAPER_SELECTION = Selection(tasks=tuple(PAPER_TASKS), metric="acc", variant="rc", shots=5)


@dataclass(frozen=True)
class LadderPredictionOptions:
    """How the two-step prediction fits, in one place (what it analyses is a
    :class:`~scalecheck.observations.Selection`: the tasks, the accuracy metric, shots and variant).

    ``loss_metric``: the task loss of step 1 and step 2's x (bits per byte of the correct answer).
    ``step1_form`` (in (N, D)) and ``step2_form`` (accuracy against task loss) are the laws; ``level`` the
    intervals' coverage; ``n_boot`` bootstrap draws from ``seed`` (both steps' bootstraps resample whole runs,
    since checkpoints of one run share its noise).

    ``target_last_n``: a target's last checkpoints averaged for its actual. ``step1_last_n`` averages each run's
    last checkpoints into its final task loss and ``step1_loss`` (``"huber"`` or ``"ls"``) is step 1's fitting
    loss. ``step1_axis``: ``"params_tokens"`` (the paper's: ``step1_form`` in (N, D)), ``"flops"``
    (``step1_flops_form``, a one-variable law, in training compute C = 6ND) or ``"both"`` (the mean of the two
    chained predictions, the interval the envelope of theirs; see ``STEP1_AXES``).

    ``step2_min_tokens_fraction`` drops checkpoints before that fraction of their run's final tokens from step 2
    (the earliest checkpoints are far from any target; 0 keeps all). ``step2_per_run`` keeps that many
    checkpoints per run for step 2, evenly spaced over the run (None: all). ``step2_anchor`` adds the point (task
    loss 0, accuracy 1) to step 2: a model that gives the correct continuation probability 1 ranks it first on
    every question, so the sigmoid's ceiling is pinned where the ladder alone cannot see it.

    ``prediction_model``: the :class:`scalecheck.laws.prediction.PredictionModel` that turns both steps' bootstrap
    draws into prediction intervals (default: the calibrated one). The defaults are the paper's settings, defined
    with its importer in :mod:`scalecheck.sources.olmo_ladder`.

    ``step1_grouping``: step 1 on a ladder of several corpora (:func:`scalecheck.laws.groups.fit_for_group`:
    "auto" chooses pooled, offsets or separate by BIC, for the targets' corpus; "pooled" ignores corpora).
    """

    loss_metric: str = "bpb"
    step1_form: str = "chinchilla"
    step2_form: str = "sigmoid"
    level: float = 0.9
    n_boot: int = 1000
    seed: int = 0
    target_last_n: int = TARGET_LAST_N
    step2_min_tokens_fraction: float = STEP2_MIN_TOKENS_FRACTION
    step2_per_run: int | None = STEP2_PER_RUN
    step2_anchor: bool = True
    step1_loss: str = STEP1_LOSS
    step1_last_n: int = STEP1_LAST_N
    step1_axis: str = "params_tokens"
    step1_flops_form: str = "power_floor"
    prediction_model: PredictionModel | None = None
    step1_grouping: str = "auto"

    def __post_init__(self) -> None:
        if self.step1_axis not in STEP1_AXES:
            raise SelectionError(f"unknown step1_axis {self.step1_axis!r}; known: {', '.join(STEP1_AXES)}")
        if self.step1_grouping not in GROUPINGS:
            raise SelectionError(f"unknown step1_grouping {self.step1_grouping!r}; known: {', '.join(GROUPINGS)}")

    def settings(self, selection: Selection) -> dict:
        """What a result records of how it was made (``LadderPrediction.settings``): these choices (but the
        prediction model, an object) and the selection's setting."""
        return {"step1_form": self.step1_form, "step2_form": self.step2_form, "n_boot": self.n_boot,
                "seed": self.seed, "loss_metric": self.loss_metric, "metric": selection.metric,
                "variant": selection.variant, "shots": selection.shots, "target_last_n": self.target_last_n,
                "step2_min_tokens_fraction": self.step2_min_tokens_fraction, "step2_per_run": self.step2_per_run,
                "step2_anchor": self.step2_anchor, "step1_loss": self.step1_loss, "step1_last_n": self.step1_last_n,
                "step1_axis": self.step1_axis, "step1_flops_form": self.step1_flops_form,
                "step1_grouping": self.step1_grouping}


@dataclass(frozen=True)
class LadderPrediction:
    """Two-step predictions of the targets' accuracy, with each step's error and the paper's, where known."""

    predictions: pd.DataFrame
    level: float
    train_runs: tuple[str, ...]
    targets: dict
    settings: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, testbed: Testbed, train_runs: Sequence[str], targets: Mapping[str, Sequence[str]],
            selection: Selection | None = None, options: LadderPredictionOptions | None = None, *,
            paper: pd.DataFrame | None = None, progress: Progress | None = None) -> LadderPrediction:
        """Fit step 1 on the final checkpoints and step 2 on all checkpoints of ``train_runs``; predict each
        target (name -> runs or model ids; its last ``options.target_last_n`` checkpoints are averaged for the
        actual).

        ``selection`` (a :class:`~scalecheck.observations.Selection`) gives the tasks, the accuracy metric, shots
        and variant; a field left None is the paper's (:data:`PAPER_SELECTION`). Its x, by and checkpoints do not
        apply: the two steps' axes are fixed, and step 2 uses every checkpoint. ``options``: a
        :class:`LadderPredictionOptions` (default: the paper's settings). ``paper`` (columns target, task, pred)
        adds the paper's own predictions beside ours. ``progress(done, total, what)`` is called before each task.
        :func:`ladder_prediction` takes the same choices as keyword shortcuts.
        """
        opts = options if options is not None else LadderPredictionOptions()
        sel = _ladder_selection(selection)
        testbed = _prepared(testbed, sel, opts)
        train = _models_of(testbed, train_runs)
        if train.empty:
            raise SelectionError(f"none of the training runs {list(train_runs)[:3]}... is in the testbed")
        train = train[train["tokens"].notna() & (train["tokens"] > 0)]
        step2_models = _step2_models(train, opts)
        # The targets' corpus: step 1 is fitted group-aware for it (one corpus, or several targets': pooled).
        target_groups = set(_models_of(testbed, [i for ids in targets.values() for i in ids])["corpus"].astype(str))
        run_of = dict(zip(testbed.models["model"], testbed.models["run"].fillna(testbed.models["model"]), strict=True))
        rows = []
        tasks = list(sel.tasks)
        for i, task in enumerate(tasks):
            report(progress, i, len(tasks), task)
            step2, chains = _fit_steps(testbed, task, sel, opts, train, step2_models, run_of, target_groups)
            # Before the targets: the fit set's own track record on this task (scalecheck.laws.reliability).
            kw = {"shots": sel.shots, "variant": sel.variant}
            fit_set = _final_means(testbed.series(task, "flops", metric=sel.metric, **kw), train, 1, run_of)
            rel, level_now = reliability(fit_set), no_change_levels(fit_set)[1]
            for name, ids in targets.items():
                row = _target_row(testbed, task, name, ids, opts.loss_metric, sel.metric, kw, chains, step2,
                                  opts.level, opts.target_last_n, paper, opts.prediction_model)
                # What the chain expects of itself at the target against no change (the training runs' largest
                # size's level); the inner track record where it gave no prediction.
                skill = (expected_skill(row["predicted"], row["lo"], row["hi"], level_now, opts.level)
                         if row["usable"] else rel.estimated_skill)
                rows.append({**row, "estimated_skill": skill, "reliability": rel.reading})
        report(progress, len(tasks), len(tasks), "done")
        frame = pd.DataFrame(rows, columns=LADDER_COLUMNS)
        return cls(frame, opts.level, tuple(train_runs), {k: list(v) for k, v in targets.items()},
                   opts.settings(sel))

    def frame(self) -> pd.DataFrame:
        return self.predictions.copy()

    def summary(self) -> pd.DataFrame:
        """Per target: tasks, mean absolute error (points), coverage, bias; the paper's MAE on the same tasks."""
        rows = []
        for target, g in self.predictions.groupby("target", sort=False):
            ok = g[g["usable"]]
            paper = g["paper_abs_error"].dropna()
            rows.append({"target": target, "n_tasks": len(g), "n_usable": len(ok),
                         "mae": ok["abs_error"].mean(), "bias": ok["signed_error"].mean(),
                         "n_covered": int(ok["covered"].astype(bool).sum()), "coverage": ok["covered"].astype(bool).mean(),
                         "step1_mae": ok["step1_abs_error"].mean(), "step2_mae": ok["step2_abs_error"].mean(),
                         "paper_mae": paper.mean() if len(paper) else np.nan, "paper_n_tasks": len(paper)})
        return pd.DataFrame(rows)

    def write(self, out_dir: str | Path) -> ReportFiles:
        """``ladder_prediction.csv`` (:meth:`frame`) and ``ladder_prediction_summary.csv`` (:meth:`summary`)."""
        return write_tables(out_dir, {"predictions": ("ladder_prediction.csv", self.frame()),
                                      "summary": ("ladder_prediction_summary.csv", self.summary())})

    def to_dict(self) -> dict:
        return {"level": self.level, "train_runs": list(self.train_runs), "targets": self.targets,
                "settings": self.settings, "summary": self.summary().to_dict("records"),
                "predictions": self.predictions.to_dict("records")}


def ladder_prediction(testbed: Testbed, train_runs: Sequence[str], targets: Mapping[str, Sequence[str]], *,
                      selection: Selection | None = None, options: LadderPredictionOptions | None = None,
                      tasks: Sequence[str] | None = None, metric: str | None = None, shots: int | None = None,
                      variant: str | None = None, paper: pd.DataFrame | None = None,
                      progress: Progress | None = None, **option_fields) -> LadderPrediction:
    """The two-step chained prediction: :meth:`LadderPrediction.fit` with keyword shortcuts.

    What is analysed: a ``selection``, or its fields as keywords (``tasks``, ``metric``, ``shots``,
    ``variant``), which override the selection's; a field given nowhere is the paper's (:data:`PAPER_SELECTION`).
    How: ``options`` (:class:`LadderPredictionOptions`), or its fields as keywords (``n_boot``, ``seed``,
    ``step1_axis``, ...), which override the object's.
    """
    sel = Selection.of(selection, tasks=tuple(tasks) if tasks is not None else None, metric=metric, shots=shots,
                       variant=variant)
    opts = replace(options if options is not None else LadderPredictionOptions(), **option_fields)
    return LadderPrediction.fit(testbed, train_runs, targets, sel, opts, paper=paper, progress=progress)


def _ladder_selection(selection: Selection | None) -> Selection:
    """The tasks and setting analysed: the selection's, the paper's where it leaves a field None."""
    if selection is None:
        return PAPER_SELECTION
    return Selection.of(PAPER_SELECTION, tasks=selection.tasks, metric=selection.metric, shots=selection.shots,
                        variant=selection.variant)


def _prepared(testbed: Testbed, sel: Selection, opts: LadderPredictionOptions) -> Testbed:
    """The testbed with MMLU's composite task where asked for, after checking the selection once, before any fit
    (an unknown task, metric or setting is a one-line error)."""
    if "mmlu_avg_test" in sel.tasks and "mmlu_avg_test" not in testbed.task_names:
        testbed = add_composite_task(testbed, "mmlu_avg_test", MMLU_TEST_PARTS, [opts.loss_metric, sel.metric])
    Selection(tasks=sel.tasks, metric=sel.metric, shots=sel.shots, variant=sel.variant).validate(testbed)
    Selection(metric=opts.loss_metric).validate(testbed)
    return testbed


def _step2_models(train: pd.DataFrame, opts: LadderPredictionOptions) -> pd.DataFrame:
    """The training runs' checkpoints step 2 is fitted on: past the token fraction, thinned per run."""
    step2_models = train
    if opts.step2_min_tokens_fraction > 0:
        last = train.groupby("run")["tokens"].transform("max")
        step2_models = train[train["tokens"] >= opts.step2_min_tokens_fraction * last]
    if opts.step2_per_run:
        step2_models = _thin(step2_models, opts.step2_per_run)
    return step2_models


def _fit_steps(testbed: Testbed, task: str, sel: Selection, opts: LadderPredictionOptions, train: pd.DataFrame,
               step2_models: pd.DataFrame, run_of: Mapping[str, str], target_groups: set[str]):
    """One task's step 2 and its chains: [(axis, step 1, step 1 composed with step 2)] for each step-1 axis; step
    1 group-aware for the targets' corpus (:func:`scalecheck.laws.groups.fit_for_group`)."""
    kw = {"shots": sel.shots, "variant": sel.variant}
    losses = testbed.series(task, "tokens", metric=opts.loss_metric, **kw)
    s1 = _final_means(losses, train, opts.step1_last_n, run_of)
    step2_series = _joined(testbed, task, opts.loss_metric, sel.metric, step2_models["model"], kw)
    step2 = _fit_step2(step2_series, opts.step2_form, _runs(step2_series, run_of), opts.step2_anchor, opts.n_boot,
                       opts.seed, opts.level)
    chains = []
    for axis in (("params_tokens", "flops") if opts.step1_axis == "both" else (opts.step1_axis,)):
        on = _on_flops(s1) if axis == "flops" else s1
        step1 = fit_for_group(on, opts.step1_flops_form if axis == "flops" else opts.step1_form, target_groups,
                              opts.step1_grouping, n_boot=opts.n_boot, seed=opts.seed, level=opts.level,
                              clusters=_runs(on, run_of), loss=opts.step1_loss)
        chains.append((axis, step1, fit_chain(step1, step2)))
    return step2, chains


def _final_means(series: Series, train: pd.DataFrame, last_n: int, run_of: Mapping[str, str]) -> Series:
    """The final checkpoint of each run, its value the mean over the run's last ``last_n`` checkpoints (the
    evaluation noise of one checkpoint averages out; the scale stays the final one's)."""
    tail = final_checkpoints(train, last_n)
    final = final_checkpoints(train, 1)
    part = _pick(series, tail["model"])
    runs = np.array([run_of.get(m, m) for m in part.models], dtype=object)
    means = {r: float(part.y[runs == r].mean()) for r in np.unique(runs.astype(str))}
    last = _pick(series, final["model"])
    return replace(last, y=np.array([means[run_of.get(m, m)] for m in last.models], float))


def _on_flops(series: Series) -> Series:
    """The same points with x the training compute C = 6ND (the paper's FLOPs axis, Chinchilla's approximation)."""
    c = 6.0 * np.asarray(series.params, float) * np.asarray(series.tokens, float)
    moved = replace(series, x=c, x_name="flops")
    return moved.subset(np.argsort(c, kind="mergesort"))


def _fit_step2(series: Series, form: str, clusters: np.ndarray, anchor: bool, n_boot: int, seed: int,
              level: float):
    x, y, c = series.x, series.y, clusters
    if anchor:
        # The anchor is its own bootstrap cluster; its weight is that of one ordinary point (unweighted fit).
        x, y, c = np.append(x, 0.0), np.append(y, 1.0), np.append(c, c.max() + 1 if len(c) else 0)
    # No leave-one-out refits: with every checkpoint they cost ~9 s per task (1,400 refits), and nothing in the
    # ladder prediction reads them.
    return fit(x, y, form, n_boot=n_boot, seed=seed, level=level, clusters=c, loo=False)


def _thin(models: pd.DataFrame, per_run: int) -> pd.DataFrame:
    """``per_run`` checkpoints of each run, evenly spaced by index from the first to the last."""
    m = models.assign(_run=models["run"].fillna(models["model"])).sort_values(["_run", "tokens"], kind="mergesort")
    keep = []
    for _, g in m.groupby("_run", sort=True):
        idx = np.unique(np.round(np.linspace(0, len(g) - 1, min(per_run, len(g)))).astype(int))
        keep.append(g.iloc[idx])
    return pd.concat(keep).drop(columns="_run")


def _runs(series: Series, run_of: Mapping[str, str]) -> np.ndarray:
    """Bootstrap clusters: the index of each point's training run."""
    names = [run_of.get(m, m) for m in series.models]
    _, codes = np.unique(np.array(names, dtype=object).astype(str), return_inverse=True)
    return codes


def _pick(series: Series, models) -> Series:
    keep = set(models)
    return series.subset(np.array([m in keep for m in series.models], bool))


def _joined(testbed: Testbed, task: str, loss_metric: str, metric: str, models, kw) -> Series:
    """Accuracy (y) against the task loss (x) of the same checkpoints: the series step 2 is fitted to."""
    acc = _pick(testbed.series(task, "tokens", metric=metric, **kw), models)
    loss = _pick(testbed.series(task, "tokens", metric=loss_metric, **kw), models)
    by_model = dict(zip(loss.models, loss.y, strict=True))
    keep = np.array([m in by_model for m in acc.models], bool)
    acc = acc.subset(keep)
    x = np.array([by_model[m] for m in acc.models], float)
    order = np.argsort(x, kind="mergesort")
    acc = replace(acc, x=x, x_name=f"{task} {loss_metric}", x_is_loss=True)
    return acc.subset(order)


def _target_models(testbed: Testbed, ids: Sequence[str], last_n: int) -> pd.DataFrame:
    """A target's checkpoints: its declared hold-out ones where it has any, of which the last ``last_n``."""
    m = _models_of(testbed, ids)
    if m["holdout"].any():
        m = m[m["holdout"].astype(bool)]
    return final_checkpoints(m, last_n)


def _target_row(testbed, task, name, ids, loss_metric, metric, kw, chains, step2, level, last_n, paper, model=None):
    """One target on one task. ``chains`` is [(axis, step1, chain)]: with two, the prediction is their mean and
    the interval the envelope of theirs (see ``STEP1_AXES``)."""
    tm = _target_models(testbed, ids, last_n)
    base = {"target": name, "task": task, "n_step1": chains[0][1].n, "n_step2": step2.n}
    if tm.empty:
        raise SelectionError(f"target {name!r}: none of {list(ids)} is in the testbed")
    acc = _pick(testbed.series(task, "tokens", metric=metric, **kw), tm["model"])
    loss = _pick(testbed.series(task, "tokens", metric=loss_metric, **kw), tm["model"])
    # The target's scale is its final checkpoint's (N, D); its measured value the mean of the last checkpoints.
    last = tm.sort_values("tokens").iloc[-1]
    n, d = float(last["params"]), float(last["tokens"])
    actual, loss_actual = float(np.mean(acc.y)), float(np.mean(loss.y))
    usable = step2.usable and all(c[1].usable for c in chains)
    reasons = [c[1].reason for c in chains] + [step2.reason]
    row = {**base, "params": n, "tokens": d, "actual": actual, "step1_actual": loss_actual,
           "usable": bool(usable), "reason": "" if usable else "; ".join(r for r in reasons if r)}
    if usable:
        def one(v):
            return float(np.asarray(v, float).ravel()[0])

        got = []
        for axis, step1, chain in chains:
            xy = np.array([6.0 * n * d]) if axis == "flops" else np.array([[n, d]])
            lo, hi = chain.interval(xy, level=level, kind="prediction", model=model)
            l1, h1 = step1.interval(xy, level=level, kind="prediction", model=model)
            got.append([one(chain.predict(xy)), one(lo), one(hi), one(step1.predict(xy)), one(l1), one(h1)])
        g = np.array(got)
        pred, p1 = float(g[:, 0].mean()), float(g[:, 3].mean())
        lo, hi, l1, h1 = float(g[:, 1].min()), float(g[:, 2].max()), float(g[:, 4].min()), float(g[:, 5].max())
        p2 = one(step2.predict(np.array([loss_actual])))
        row.update({"predicted": pred, "lo": lo, "hi": hi, "abs_error": 100 * abs(pred - actual),
                    "rel_error": abs(pred - actual) / abs(actual), "signed_error": 100 * (pred - actual),
                    "covered": bool(lo <= actual <= hi), "step1_predicted": p1, "step1_lo": l1, "step1_hi": h1,
                    "step1_abs_error": abs(p1 - loss_actual), "step2_predicted": p2,
                    "step2_abs_error": 100 * abs(p2 - actual)})
    else:
        row.update({"covered": False})
    if paper is not None:
        hit = paper[(paper["target"] == name) & (paper["task"] == task)]
        if len(hit):
            pp = float(hit["pred"].iloc[0])
            row.update({"paper_predicted": pp, "paper_abs_error": 100 * abs(pp - actual)})
    return row
