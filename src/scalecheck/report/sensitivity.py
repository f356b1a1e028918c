"""Report sections for sensitivity: which verdicts, trend signs and corpus orderings survive a benign change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..sensitivity import Sensitivity
from ..tables import ReportFiles
from ..trends.reality import CONFIDENT
from . import figures as F
from .html import Report, esc, table_html

TOP_ROWS = 40


@F.styled
def _paired_bars(labels: list[str], first: np.ndarray, second: np.ndarray, names: tuple[str, str],
                 colours: tuple[str, str], xlabel: str, title: str) -> bytes:
    """Two bars per row (a count and the stricter count inside it), rows labelled on the left."""
    height = 1.2 + 0.28 * len(labels)
    fig = F.new_figure(9.0, height)
    ax = fig.subplots()
    y = np.arange(len(labels))
    ax.barh(y - 0.2, first, height=0.4, color=colours[0], label=names[0])
    ax.barh(y + 0.2, second, height=0.4, color=colours[1], label=names[1])
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.subplots_adjust(left=0.3, right=0.72, bottom=0.6 / height, top=1 - 0.35 / height)
    return F.to_png(fig)


def changes_png(per: pd.DataFrame, factor: str, title: str) -> bytes | None:
    """Tasks whose verdict flips, and whose trend sign reverses, per setting of one factor."""
    g = per[per["factor"] == factor]
    if g.empty:
        return None
    return _paired_bars(g["setting"].tolist(), g["n_flipped"].to_numpy(), g["n_sign_changed"].to_numpy(),
                        ("verdict changes", "trend sign reverses"), (F.PALETTE[0], F.PALETTE[5]),
                        f"tasks (of {int(g['n_tasks'].max())})", title)


def reversals_png(rev: pd.DataFrame, x_ref: str) -> bytes | None:
    """Per validation set: pairs of corpora whose order at matched loss differs from the baseline's."""
    if rev.empty:
        return None
    g = rev.groupby("x_name").agg(reversed=("reversed", "sum"), decided=("reversed_decided", "sum"),
                                  n=("reversed", "size")).reset_index()
    return _paired_bars(g["x_name"].tolist(), g["reversed"].to_numpy(), g["decided"].to_numpy(),
                        ("order reversed", "reversed, beyond\nthe laws' uncertainty"), (F.PALETTE[1], F.PALETTE[5]),
                        f"task x corpus-pair comparisons (of {int(g['n'].max())} per validation set)",
                        f"corpus order at matched loss vs {x_ref}")


def add_sensitivity_sections(report: Report, sens: Sensitivity) -> None:
    """One section per finding: validation set, corpus, setting, corpus order at matched loss."""
    lines = "".join(f"<li>{esc(t)}</li>" for t in sens.headline())
    intro = (f"<p>Each task's verdict and trend sign are recomputed while one thing changes, against the baseline "
             f"(x = {esc(sens.baseline_x)}, all models pooled, the task's default metric and setting). A trend "
             f"sign counts where the rank correlation of score with scale is significant at 5%.</p><ul>{lines}</ul>")
    report.add_section("Sensitivity: does the verdict survive a benign change?", intro, id="sensitivity")
    per = sens.per_setting()
    for factor, title, what in (("x", "Validation set used as x", "validation set"),
                                ("corpus", "Per corpus instead of pooled", sens.by),
                                ("setting", "Metric or shot setting", "setting")):
        g = per[per["factor"] == factor]
        if g.empty:
            continue
        sec = report.add_section(f"Sensitivity: {title}", level=3)
        sec.add_table(g.drop(columns="factor"), caption=f"Tasks whose verdict or trend sign changes, per {what}")
        png = changes_png(per, factor, f"changes per {what}")
        if png is not None:
            sec.add_figure(png, f"verdict changes per {what}", f"Verdict changes (between verdicts of confidence >= "
                                                               f"{CONFIDENT:g}) and trend-sign reversals per {what}.")
        trans = sens.transitions(factor)
        if len(trans):
            sec.add_table(trans.sort_values("n", ascending=False), caption="Which verdicts become which")
        flips = sens.flips(factor)[["task", "setting", "baseline_category", "baseline_confidence", "category",
                                    "confidence", "rho", "baseline_sign", "trend_sign"]]
        if len(flips):
            sec.add(table_html(flips.head(TOP_ROWS), caption=f"Verdict changes between verdicts of confidence >= "
                                                               f"{CONFIDENT:g} ({min(len(flips), TOP_ROWS)} of "
                                                               f"{len(flips)}; all in sensitivity_verdicts.csv)"))
    rev = sens.rank_reversals
    if len(rev):
        sec = report.add_section("Sensitivity: corpus order at matched loss", level=3)
        sec.add_text(f"For each task and pair of {sens.by} values, both laws ({sens.form} in loss) are read at one "
                     f"loss inside both ranges; 'diff' is how much better the first scores there. A reversal is a "
                     f"pair whose order on another validation set differs from its order on {sens.baseline_x}.")
        png = reversals_png(rev, sens.baseline_x)
        if png is not None:
            sec.add_figure(png, "corpus order reversals per validation set",
                           "Corpus pairs whose order at matched loss reverses, per validation set.")
        best = sens.best_corpus()
        if len(best) and best.shape[1] > 2:
            changed = best[best.drop(columns="task").nunique(axis=1) > 1]
            sec.add(table_html(changed.head(TOP_ROWS),
                               caption=f"Which {sens.by} looks best at matched loss, per validation set: the "
                                       f"{len(changed)} of {len(best)} tasks where the answer depends on the set "
                                       f"('-': none beats all others)"))
        decided = rev[rev["reversed_decided"]].sort_values(["task", "x_name"])
        if len(decided):
            sec.add(table_html(decided.head(TOP_ROWS), caption=f"Reversals beyond the laws' uncertainty "
                                                                 f"({min(len(decided), TOP_ROWS)} of {len(decided)})"))


def write_sensitivity_report(sens: Sensitivity, out_dir: str | Path, *, title: str = "scalecheck sensitivity",
                             subtitle: str = "") -> ReportFiles:
    """sensitivity_verdicts.csv, sensitivity_corpus_ranks.csv, sensitivity_reversals.csv,
    sensitivity_summary.csv and sensitivity.html."""
    files = sens.write(out_dir)  # the tables first: they survive even if drawing fails
    report = Report(title, subtitle)
    add_sensitivity_sections(report, sens)
    return files.with_report(report.write(Path(out_dir) / "sensitivity.html"))
