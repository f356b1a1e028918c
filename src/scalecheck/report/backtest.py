"""Report sections for backtests: how well laws fitted on small models predicted the larger ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..backtest import Backtest, summarise
from ..backtest.two_step import LadderPrediction
from ..tables import ReportFiles, write_tables
from . import figures as F
from .html import Report, esc, table_html

PER_TASK_ROWS = 60
MAX_BARS = 40  # the per-task table is sorted worst first; the CSV has every row


def k_units(bt: Backtest) -> str:
    units = bt.predictions["units"].dropna().unique().tolist()
    return units[0] if len(units) == 1 else "mixed units"


@F.styled
def error_by_k_png(bt: Backtest) -> bytes | None:
    """Median absolute error (and coverage) against the number of sizes fitted, one line per form."""
    k = bt.by_k()
    if k.empty or k["k_sizes_fit"].nunique() < 2:
        return None
    fig = F.new_figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    for i, (form, g) in enumerate(k.groupby("form", sort=True)):
        c = F.PALETTE[i % len(F.PALETTE)]
        ax1.plot(g["k_sizes_fit"], g["median_ae"], "o-", color=c, label=form)
        ax2.plot(g["k_sizes_fit"], g["coverage"], "o-", color=c, label=form)
    ax1.set_xlabel("sizes fitted (smallest first)")
    ax1.set_ylabel(f"median absolute error ({k_units(bt)})")
    ax1.set_ylim(bottom=0)
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.axhline(bt.level, color="#7f7f7f", ls="--", lw=1)
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("sizes fitted (smallest first)")
    ax2.set_ylabel(f"share inside the {bt.level:.0%} interval")
    ax1.legend()
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.95, wspace=0.3)
    return F.to_png(fig)


@F.styled
def predicted_vs_actual_png(frame: pd.DataFrame, title: str = "", label_col: str | None = None,
                            paper: pd.DataFrame | None = None) -> bytes | None:
    """Each prediction with its interval against the truth; the diagonal is a perfect prediction."""
    ok = frame[frame["usable"].astype(bool)] if "usable" in frame else frame
    ok = ok[np.isfinite(ok["predicted"].astype(float))]
    if ok.empty:
        return None
    fig = F.new_figure(5.2, 4.6)
    ax = fig.subplots()
    known = ok["covered"].notna().to_numpy()
    covered = ok["covered"].fillna(False).astype(bool).to_numpy()
    err = np.vstack([ok["predicted"] - ok["lo"], ok["hi"] - ok["predicted"]]).clip(min=0)
    err = np.where(np.isfinite(err), err, 0.0)
    # Past a few dozen predictions, interval bars hide the points; colour still says which were covered.
    bars = len(ok) <= MAX_BARS
    for mask, colour, name in ((covered & known, F.PALETTE[2], "interval covers the truth"),
                               (~covered & known, F.PALETTE[5], "interval misses"),
                               (~known, "#7f7f7f", "no interval")):
        if mask.any():
            ax.errorbar(ok["actual"][mask], ok["predicted"][mask], yerr=err[:, mask] if bars else None, fmt="o",
                        ms=4 if bars else 3, alpha=1.0 if bars else 0.6, color=colour, elinewidth=0.8, capsize=2,
                        label=name)
    if paper is not None and len(paper):
        ax.plot(paper["actual"], paper["paper_predicted"], "x", color=F.PALETTE[7], ms=6, label="paper's prediction")
    lo = float(np.nanmin([ok["actual"].min(), ok["lo"].min()]))
    hi = float(np.nanmax([ok["actual"].max(), ok["hi"].max()]))
    ax.plot([lo, hi], [lo, hi], color="#7f7f7f", lw=1, ls="--")
    if label_col is not None:
        for r in ok.itertuples():
            ax.annotate(str(getattr(r, label_col)), (r.actual, r.predicted), fontsize=6.5, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.11, top=0.92)
    return F.to_png(fig)


@F.styled
def calibration_png(bt: Backtest) -> bytes | None:
    """Coverage against nominal level (50-95%), overall and per reality-check verdict; the diagonal is honest."""
    overall = bt.calibration(by=())
    if overall.empty or overall["n"].max() == 0:
        return None
    fig = F.new_figure(4.8, 4.2)
    ax = fig.subplots()
    ax.plot([0.45, 1.0], [0.45, 1.0], color="#7f7f7f", lw=1, ls="--", label="nominal")
    ax.plot(overall["level"], overall["coverage"], "o-", color="black", lw=1.6, label=f"all (n={overall['n'].iloc[0]})")
    if "verdict" in bt.predictions and bt.predictions["verdict"].astype(str).str.len().gt(0).any():
        per = bt.calibration(by=("verdict",))
        for i, (verdict, g) in enumerate(per.groupby("verdict", sort=True)):
            ax.plot(g["level"], g["coverage"], "o-", ms=3, lw=1, color=F.PALETTE[i % len(F.PALETTE)],
                    label=f"{verdict} (n={g['n'].iloc[0]})")
    ax.set_xlabel("nominal level of the prediction interval")
    ax.set_ylabel("share of held-out models inside")
    ax.set_xlim(0.45, 1.0)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=7)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.12, top=0.96)
    return F.to_png(fig)


def reliability_table(bt: Backtest) -> pd.DataFrame:
    """Per task, scope and form: the reliability estimated from the fit set alone (before the held-out models were
    seen; scalecheck.laws.reliability) beside what then happened: the error and coverage of its predictions.

    In an expanding window each split has its own estimate; the table keeps the split that saw all but the largest
    size (the hardest honest case, as the predicted-against-actual figure). Highest estimate first."""
    f = bt.predictions
    if f.empty or "reliability" not in f or not f["reliability"].astype(str).str.len().gt(0).any():
        return pd.DataFrame()
    if bt.scheme == "expanding":
        last = f.groupby(["task", "scope", "form"], sort=False)["k_sizes_fit"].transform("max")
        f = f[f["k_sizes_fit"] == last]
    keys = ["task", "scope", "form"]
    first = f.groupby(keys, sort=True)[["estimated_skill", "reliability"]].first().reset_index()
    outcome = summarise(f, keys)[[*keys, "n_predictions", "mae", "coverage"]]
    out = first.merge(outcome, on=keys, how="left")
    out = out.sort_values("estimated_skill", ascending=False, na_position="last", kind="stable")
    return out.rename(columns={"reliability": "reading before the targets"})


def add_backtest_sections(report: Report, bt: Backtest) -> None:
    """Overview, per-form and per-task tables, error against sizes fitted, and predicted vs actual."""
    overall = bt.by_form()
    scheme = {"expanding": "an expanding window over model size (fit on the k smallest sizes, predict every "
                           "larger one, for every k)", "leave_largest_out": "leave-largest-out (fit on every "
                           "size but the largest, predict the largest)",
              "holdout": "the declared hold-out models (fit on the others, predict these)"}[bt.scheme]
    scope = "pooled over all models" if bt.by is None else f"separately per {bt.by}"
    intro = (f"<p>Each law was fitted on smaller models and asked to predict larger ones it never saw: "
             f"{esc(scheme)}; x = {esc(bt.x)}, {esc(scope)}. Errors of accuracies are in points (x100); "
             f"bias is the mean signed error (positive: the law over-predicts); coverage is the share of truths "
             f"inside the {bt.level:.0%} prediction interval. A prediction interval is for a new model's measured "
             f"score: the central interval of a predictive distribution in which a new model realises a share "
             f"(uniform over a calibrated range) of the change the law predicts past its data, plus the fit's "
             f"residual scatter growing with the distance travelled; its four numbers are calibrated on "
             f"expanding-window backtests of four real testbeds (scalecheck.laws.prediction). A 50% interval "
             f"should hold half of the held-out models, a 90% one nine in ten: the calibration plot shows "
             f"whether they did here.</p>")
    sec = report.add_section("Backtest: will the law extrapolate?", intro, id="backtest")
    sec.add_table(overall, caption="Per form, over every task. interval_score: Gneiting and Raftery's mean "
                                   "interval score (width plus 2/alpha times the miss; lower is better, and a wider "
                                   "interval is not better for its coverage alone)")
    png = calibration_png(bt)
    if png is not None:
        sec.add_figure(png, "calibration of the prediction intervals",
                       "Coverage against nominal level: the share of held-out models inside the 50-95% prediction "
                       "intervals, overall and per reality-check verdict (of the whole series). On the diagonal, "
                       "an interval means what it says; below it, it is too narrow.")
    if "verdict" in bt.predictions and bt.predictions["verdict"].astype(str).str.len().gt(0).any():
        sec.add_table(bt.by_verdict(), caption="Per form and reality-check verdict")
    sec.add_table(bt.by_distance(), caption="Per extrapolation distance (in units of the fitted x range; inside: "
                                            "within it)")
    png = error_by_k_png(bt)
    if png is not None:
        sec.add_figure(png, "error and coverage against sizes fitted",
                       "More sizes fitted, smaller error? Median absolute error and interval coverage "
                       "against the number of model sizes the law saw.")
    last = bt.predictions
    if bt.scheme == "expanding" and len(last):
        # The hardest honest case shown: the fits that saw all but the largest size.
        last = last[last["k_sizes_fit"] == last["k_sizes_fit"].max()]
    png = predicted_vs_actual_png(last, "held-out models" if bt.scheme != "expanding" else
                                  "fit on all but the largest size")
    if png is not None:
        sec.add_figure(png, "predicted against actual", "Predicted against actual, with prediction intervals.")
    rel = reliability_table(bt)
    if len(rel):
        sec.add(table_html(rel.head(PER_TASK_ROWS),
                           caption=f"How far to trust each extrapolation, estimated from the fit set alone (its inner "
                                   f"backtests: estimated_skill is 1 - the forecast's inner error over no change's: "
                                   f"1 perfect, 0 no better than no change), beside the held-out predictions' error "
                                   f"and coverage; highest estimate first ({min(len(rel), PER_TASK_ROWS)} of "
                                   f"{len(rel)} rows; every row's estimate is in backtest.csv)"))
    per_task = bt.summary().sort_values("mae", ascending=False, na_position="first")
    sec.add(table_html(per_task.head(PER_TASK_ROWS),
                       caption=f"Per task, scope and form, worst first ({min(len(per_task), PER_TASK_ROWS)} of "
                               f"{len(per_task)} rows; all in backtest_summary.csv)"))


def add_ladder_sections(report: Report, lp: LadderPrediction, title: str = "Two-step ladder prediction") -> None:
    """Per target: our chained prediction, its interval and error, each step's error, and the paper's."""
    s = lp.summary()
    st = lp.settings
    intro = (f"<p>Step 1: {esc(st['loss_metric'])} as a {esc(st['step1_form'])} law in parameters and tokens, on the "
             f"final checkpoints of {len(lp.train_runs)} training runs. Step 2: {esc(st['metric'])} as a "
             f"{esc(st['step2_form'])} of that loss, on their checkpoints. Intervals are {lp.level:.0%} prediction "
             f"intervals carrying both steps' bootstrap uncertainty. Errors in points.</p>")
    sec = report.add_section(title, intro)
    sec.add_table(s, caption="Per target: mean absolute error, coverage, and the paper's own MAE on the same tasks")
    cols = ["target", "task", "actual", "predicted", "lo", "hi", "abs_error", "covered", "step1_actual",
            "step1_predicted", "step2_predicted", "paper_predicted", "paper_abs_error"]
    sec.add_table(lp.predictions[cols], caption="Per target and task")
    rel = lp.predictions[["target", "task", "estimated_skill", "reliability"]]
    if rel["reliability"].astype(str).str.len().gt(0).any():
        sec.add_table(rel.rename(columns={"reliability": "reading before the targets"}),
                      caption="How far to trust each prediction, estimated from the training runs alone: "
                              "estimated_skill is the skill against no change (the training runs' largest size) "
                              "the chain expects of itself at the target (its inner track record where it made no prediction), "
                              "1 perfect, 0 no better than no change; "
                              "the reading is the task's inner track record")
    for target, g in lp.predictions.groupby("target", sort=False):
        paper = g[g["paper_predicted"].notna()]
        png = predicted_vs_actual_png(g, f"{target}", label_col="task", paper=paper)
        if png is not None:
            sec.add_figure(png, f"predicted against actual for {target}",
                           f"{target}: chained predictions with {lp.level:.0%} intervals; crosses are the paper's.")


def write_backtest_report(bt: Backtest, out_dir: str | Path, *, title: str = "scalecheck backtest",
                          subtitle: str = "") -> ReportFiles:
    """backtest.csv (one row per prediction), backtest_summary.csv (per task, scope, form) and backtest.html."""
    files = bt.write(out_dir)  # the tables first: they survive even if drawing fails
    report = Report(title, subtitle)
    add_backtest_sections(report, bt)
    return files.with_report(report.write(Path(out_dir) / "backtest.html"))


def write_ladder_report(predictions: dict[str, LadderPrediction], out_dir: str | Path, *,
                        title: str = "scalecheck two-step ladder prediction", subtitle: str = "") -> ReportFiles:
    """ladder_prediction.csv (one row per fit set, target and task) and ladder.html, one section per fit set
    (``predictions`` maps a fit-set name, e.g. "paper's config", to its prediction)."""
    frames = [lp.frame().assign(fit_set=name) for name, lp in predictions.items()]
    files = write_tables(out_dir, {"predictions": ("ladder_prediction.csv", pd.concat(frames, ignore_index=True))})
    report = Report(title, subtitle)
    for name, lp in predictions.items():
        add_ladder_sections(report, lp, title=f"Two-step ladder prediction: {name}")
    return files.with_report(report.write(Path(out_dir) / "ladder.html"))
