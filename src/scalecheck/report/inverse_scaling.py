"""The inverse-scaling report: the Prize's figures and tables, the CSVs, and a self-contained HTML page.

Figures as the papers draw them: each task's metric against training FLOPs on a log axis, one line per family
(final checkpoints, McKenzie et al.'s view) and one line per size across training (Michaelov & Bergen's), with
1-sd error bars and chance dashed; and a size x checkpoint heatmap per task.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from ..inverse_scaling import CORRECTIONS, DECLINING, PRIZE_TERMS, TERM_MEANING, InverseScaling
from ..observations import Series
from ..progress import Progress, report
from ..tables import ReportFiles
from . import figures as F
from .html import Report, Section, anchor, esc, fmt_number, table_html

TERM_COLOURS = {"inverse": "#D55E00", "inverted-U": "#CC79A7", "U-shaped": "#E69F00", "standard": "#009E73",
                "flat": "#7f7f7f", "noisy": "#56B4E9", "insufficient-data": "#4d4d4d"}
# How each term's decline is measured, for the overview's header and the console's footnote.
DECLINE_HEADER = ("decline: how much worse, positive = worse; inverse, standard, flat, noisy: smallest to largest "
                  "model; inverted-U: turn to largest; U-shaped: smallest to turn")
_X_NAMES = {"flops": "training FLOPs", "params": "parameters", "params_nonembed": "non-embedding parameters",
            "tokens": "training tokens"}

Unit = tuple  # (task, metric, shots, variant)
# Figures are palette PNGs of this many colours (see figures.to_png), embedded in the page while they add up to at
# most EMBED_BUDGET bytes; past it (Pythia's 87 tasks x 2 metrics x 2 shot counts), the page links each from
# figures/ instead and the browser loads it as it scrolls into view, so that no page passes 10 MB.
COLORS = 64
EMBED_BUDGET = 6_000_000
# A family with more checkpoints than this (OLMo's ladder: 432) has its per-checkpoint tests counted by term in the
# page rather than listed (they stay in inverse_scaling.csv): a table of hundreds of rows per task is read by no one,
# and was 99% of the OLMo page. Pythia's 8 checkpoints are listed.
MAX_CHECKPOINT_ROWS = 16


# A class per term (the page's own CSS) rather than a style per badge: a real ladder's page carries ~16,000 badges.
TERM_CSS = "".join(f".t-{anchor(t)}{{background:{c}}}" for t, c in TERM_COLOURS.items())


def term_badge(term: str, significant: bool | None = None) -> str:
    star = "*" if significant else ""
    known = term.rstrip("*") in TERM_COLOURS
    cls = f"badge t-{anchor(term.rstrip('*'))}" if known else "badge t-insufficient-data"
    return f'<span class="{cls}">{esc(term)}{esc(star)}</span>'


def _unit_label(unit: Unit, result: InverseScaling) -> str:
    return result.label(unit)


def _series_of(result: InverseScaling, unit: Unit, analysis: str) -> list[tuple[str, Series]]:
    return result.series_of(unit, analysis)


def _size_colours(n: int) -> list:
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / max(n - 1, 1)) for i in range(n)]


def trend_figure_png(result: InverseScaling, unit: Unit) -> bytes | None:
    """Over scale (one line per family, final checkpoints) and, where the testbed holds checkpoints, over
    training (one line per size), both against training FLOPs (or the chosen x) on a log axis."""
    scale = _series_of(result, unit, "scale")
    train = _series_of(result, unit, "training")
    if not scale and not train:
        return None
    panels = 2 if train else 1
    fig = F.new_figure(5.2 * panels + 1.6, 3.9)
    first = (scale or train)[0][1]
    with matplotlib.rc_context(F.STYLE):
        ax = fig.add_subplot(1, panels, 1)
        for i, (fam, s) in enumerate(scale):
            c = F.PALETTE[i % len(F.PALETTE)]
            t = next(t for t in result.tests_of(unit, "scale") if t.scope == fam)
            ax.errorbar(s.x, s.y, yerr=np.nan_to_num(s.noise_sd), fmt="o-", ms=3.5, color=c, ecolor=c,
                        elinewidth=0.8, capsize=2, label=f"{fam}: {t.term}{'*' if t.significant else ''}", zorder=3)
            if math.isfinite(t.turn_x):
                ax.axvline(t.turn_x, color=c, ls=":", lw=0.9, zorder=1)
        _chance(ax, first.chance)
        _log_x(ax)
        ax.set_xlabel(f"{_X_NAMES.get(result.x, result.x)} (log scale)")
        ax.set_ylabel(F.y_label(first))
        ax.set_title("over scale (final checkpoints)", loc="left")
        ax.legend(loc="best", fontsize=7)
        if train:
            ax2 = fig.add_subplot(1, panels, 2, sharey=ax)
            colours = _size_colours(len(train))
            for c, (size, s) in zip(colours, train, strict=True):
                t = next(t for t in result.tests_of(unit, "training") if t.scope == size)
                xs = s.flops if result.x == "flops" else s.tokens
                order = np.argsort(xs)
                ax2.errorbar(xs[order], s.y[order], yerr=np.nan_to_num(s.noise_sd[order]), fmt="o-", ms=2.5,
                             color=c, ecolor=c, elinewidth=0.6, capsize=0, lw=1.2,
                             label=f"{size}: {t.term}{'*' if t.significant else ''}", zorder=3)
            _chance(ax2, first.chance)
            _log_x(ax2)
            ax2.set_xlabel(("training FLOPs" if result.x == "flops" else "training tokens") + " (log scale)")
            ax2.set_title("over training (one line per size)", loc="left")
            ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=7)
        fig.suptitle(_unit_label(unit, result), x=0.01, ha="left", fontsize=10)
        fig.subplots_adjust(left=0.07, right=0.84 if train else 0.97, bottom=0.14, top=0.84, wspace=0.12)
    return F.to_png(fig, colors=COLORS)


def heatmap_png(result: InverseScaling, unit: Unit) -> bytes | None:
    """Size (rows, largest on top) x checkpoint (columns): Michaelov & Bergen's view of the whole grid."""
    train = _series_of(result, unit, "training")
    if len(train) < 2:
        return None
    tokens = sorted({float(t) for _, s in train for t in s.tokens})
    grid = np.full((len(train), len(tokens)), np.nan)
    for i, (_, s) in enumerate(train):
        for t, y in zip(s.tokens, s.y, strict=True):
            grid[i, tokens.index(float(t))] = y
    fig = F.new_figure(1.0 + 0.75 * len(tokens), 0.9 + 0.36 * len(train))
    first = train[0][1]
    with matplotlib.rc_context(F.STYLE):
        ax = fig.add_subplot(1, 1, 1)
        cmap = "viridis" if first.higher_is_better else "viridis_r"
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap)
        ax.grid(False)
        ax.set_yticks(range(len(train)), [s for s, _ in train])
        ax.set_xticks(range(len(tokens)), [_tokens_label(t) for t in tokens])
        ax.set_xlabel("training tokens (checkpoint)")
        ax.set_ylabel("size")
        lo, hi = np.nanmin(grid), np.nanmax(grid)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    dark = (grid[i, j] - lo) / (hi - lo + 1e-12) < 0.6
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                            color="white" if dark == first.higher_is_better else "black")
        fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02).set_label(F.y_label(first), fontsize=8)
        ax.set_title(f"{_unit_label(unit, result)}: size x checkpoint", loc="left")
        fig.subplots_adjust(left=0.1, right=0.95, bottom=0.2, top=0.88)
    return F.to_png(fig, colors=COLORS)


def _chance(ax, chance: float) -> None:
    # Dashed, as the Prize's figures draw it.
    if np.isfinite(chance):
        ax.axhline(chance, color="#555555", ls="--", lw=1.0, label=f"chance ({chance:.2g})", zorder=0)


def _log_x(ax) -> None:
    # Decades only: minor ticks on a log axis cost more to draw than the data (and a paper figure omits them).
    from matplotlib.ticker import LogLocator, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=8))
    ax.xaxis.set_minor_locator(NullLocator())


def _tokens_label(t: float) -> str:
    return f"{t / 1e9:.0f}B" if t >= 1e9 else f"{t / 1e6:.0f}M"


def _overview_html(result: InverseScaling) -> str:
    ov = result.overview()
    several = ov["family"].nunique() > 1
    by_key = {(t.task, t.metric, t.shots, t.variant, t.family): t for t in result.tests if t.analysis == "scale"}
    rows = []
    for r in ov.itertuples():
        unit = (r.task, r.metric, _none(r.shots), r.variant)
        label = result.label(unit)
        t = by_key.get((*unit, r.family))
        row = {"task": f'<a href="#{esc(anchor("is-" + label))}">{esc(label)}</a>'}
        if several:
            row["family"] = r.family
        row.update({"over scale": term_badge(t.term, t.significant) if t is not None else "-",
                    "turn at": r.turn_x, "decline measured": r.decline_from or "-",
                    "decline (points)": r.decline_points, "decline (se)": r.decline_se, "p (adjusted)": r.p_adjusted,
                    "over training (per size)": r.over_training, "grid model": r.grid})
        rows.append(row)
    return table_html(pd.DataFrame(rows), "tasks x {over scale, over training}; * = significant after the adjustment "
                      f"for multiple testing ({CORRECTIONS.get(result.correction, result.correction)}), on trends "
                      f"only; {DECLINE_HEADER}", safe_columns=("task", "over scale"))


def _none(v):
    """A frame's missing shots (NaN or <NA>) back to the None of a unit key; a count back to an int."""
    return None if v is None or pd.isna(v) else int(v)


def _tests_table(result: InverseScaling, unit: Unit) -> str:
    rows = []
    tests = result.tests_of(unit)
    at_steps = Counter(t.family for t in tests if t.analysis == "scale@checkpoint")
    folded = {fam for fam, n in at_steps.items() if n > MAX_CHECKPOINT_ROWS}
    for t in tests:
        if t.analysis == "scale@checkpoint" and t.family in folded:
            continue
        rows.append({"analysis": t.analysis, "scope": t.scope, "term": term_badge(t.term, t.significant),
                     "classifier": f"{t.category} ({t.confidence:.2f})", "n": t.n_points,
                     "turn at": t.turn_x, "first": t.first_y, "turn": t.turn_y, "last": t.last_y,
                     "decline measured": t.decline_from or "-", "decline (pts)": t.decline_points,
                     "decline (se)": t.decline_se, "monotone share": t.monotone_share, "test": t.test,
                     "p": t.p_value, "p (adjusted)": t.p_adjusted, "why": t.reason})
    caption = "every test of this task: the classifier's verdict, read in the Prize's terms, with its effect and test"
    if folded:
        counts = "; ".join(f"{fam}: {at_steps[fam]} checkpoints, " + ", ".join(
            f"{term} {n}" for term, n in Counter(t.term for t in tests if t.analysis == "scale@checkpoint"
                                                 and t.family == fam).most_common()) for fam in sorted(folded))
        caption += (f" (over scale at each checkpoint, by term only, more than {MAX_CHECKPOINT_ROWS} per family: "
                    f"{counts}; every one is in inverse_scaling.csv)")
    return table_html(pd.DataFrame(rows), caption, safe_columns=("term",))


def _side_by_side(result: InverseScaling) -> pd.DataFrame | None:
    """Loss and accuracy (or any two metrics of one task and setting) side by side, over scale."""
    by = {}
    for t in result.tests:
        if t.analysis == "scale":
            by.setdefault((t.task, t.shots, t.variant, t.scope), {})[t.metric] = t
    rows = [{"task": k[0], "shots": k[1], "variant": k[2], "scope": k[3],
             **{f"{m}": f"{t.term}{'*' if t.significant else ''} ({fmt_number(t.decline)})" for m, t in d.items()}}
            for k, d in by.items() if len(d) > 1]
    return pd.DataFrame(rows) if rows else None


def build_report(result: InverseScaling, figures: dict[Unit, bytes | str] | None = None,
                 heatmaps: dict[Unit, bytes | str] | None = None) -> Report:
    """The page. ``figures`` and ``heatmaps`` map each unit to its PNG (embedded) or to a path relative to the
    page (linked); by default every figure is drawn and embedded."""
    figures = figures if figures is not None else {u: p for u in result.units
                                                   if (p := trend_figure_png(result, u)) is not None}
    heatmaps = heatmaps if heatmaps is not None else {u: p for u in result.units
                                                      if (p := heatmap_png(result, u)) is not None}
    name = result.testbed_name or "testbed"
    rep = Report(f"Inverse scaling: {name}",
                 f"The Inverse Scaling Prize's analysis (McKenzie et al. 2023), over scale against "
                 f"{_X_NAMES.get(result.x, result.x)} and over training (Michaelov & Bergen 2023). "
                 "Generated by scalecheck.", css=TERM_CSS)
    summ = result.headline()
    sec = rep.add_section("Summary", id="summary")
    scale = [t for t in result.tests if t.analysis == "scale"]
    n_dec = sum(t.declining for t in scale)
    n_sig = sum(t.declining and t.significant for t in scale)
    sec.add(f'<p class="headline">Over scale, <b>{n_dec}</b> of {len(scale)} task series decline at the largest '
            f"models (inverse or inverted-U), <b>{n_sig}</b> of them significant after adjusting for "
            f"{summ['n_tests']} tests by {esc(CORRECTIONS.get(result.correction, result.correction))} at "
            f"{fmt_number(result.alpha)}.</p>")
    sec.add(_overview_html(result))
    sec.add_text("Over scale: each family's final checkpoints. Over training: each size's checkpoints against "
                 "tokens; the cell counts the sizes by term. Grid model: the metric regressed on log params, log "
                 "tokens and their interaction over every checkpoint of every size (OLS, errors clustered by run), "
                 "main effects at the grid's centre, adjusted as the trend tests are.", cls="muted")

    _method(rep, result)
    _criteria(rep, result)
    _grid(rep, result)
    sbs = _side_by_side(result)
    if sbs is not None:
        rep.add_section("Loss and accuracy side by side", id="metrics").add_table(
            sbs, "over scale, per metric: the term (* significant) and the decline in metric units")
    demo = result.demonstrations()
    if len(demo):
        d = rep.add_section("Demonstrations: do few-shot examples turn an inverse trend around?", id="shots")
        d.add_table(demo, "over scale, each shot count against the fewest")

    _tasks(rep, result, figures, heatmaps)
    return rep


def _method(rep: Report, result: InverseScaling) -> None:
    meth = rep.add_section("How to read it", id="method")
    meth.add(table_html(pd.DataFrame({"term": [term_badge(t) for t in PRIZE_TERMS],
                                      "meaning": [TERM_MEANING[t] for t in PRIZE_TERMS]}),
                        safe_columns=("term",)))
    meth.add_text(
        "Every series is classified by scalecheck's one trends classifier (scalecheck.trends.classify: inverse, "
        "non-monotonic with its shape, predictable/breakthrough/noisy, trendless), and its verdict is read in the "
        "Prize's terms above. The decline is measured from the smallest scale to the largest (inverse, standard, "
        "flat, noisy), from the turn to the largest (inverted-U) or from the smallest to the turn (U-shaped): in points "
        "(x100, for shares of examples) and in standard errors of that difference. Each series is also tested: for "
        "monotone and flat verdicts, the classifier's own trend p (the smallest of its three trend tests, times 3); "
        "for turns, the quadratic term of a weighted regression on log x (standard errors inflated by any excess "
        f"scatter). The p-values are adjusted over every task x scope test by "
        f"{CORRECTIONS.get(result.correction, result.correction)}: a screen over many tasks and scopes. Because "
        "the p-values are adjusted here, the classifier detects a trend at the analysis's own level "
        f"({fmt_number(result.alpha)}) rather than at the reality check's guard of p < 0.001: a decline is named "
        "by its shape, and the star says whether it survives the adjustment (a star marks a trend only: a flat or "
        "noisy series has no trend to be significant). With 8 models that scatter far more "
        "than their sampling noise, an unstarred decline is a shape worth a look, not a finding: the decline, its "
        "standard errors and the reason are shown beside every verdict.")


def _criteria(rep: Report, result: InverseScaling) -> None:
    crit = result.criteria()
    if not len(crit):
        return
    c = rep.add_section("The Prize's criteria: strength and generality", id="criteria")
    c.add_text("Strength: over scale, the share of steps between neighbouring models that go down, Spearman's rho "
               "of the metric with scale (-1: perfectly monotone decline), and the decline in points and standard "
               "errors (the median over families). Generality: in how many families (final checkpoints), "
               "checkpoints (the models at each step) and sizes (each run over training) the trend declines "
               "(inverse or inverted-U), and how many of those are significant after adjustment.")
    units = [_unit_label(u, result) for u in result.units]
    c.add_table(pd.DataFrame({"task": units, "monotone share": crit["strength_monotone_share"],
                              "Spearman rho": crit["strength_spearman_rho"],
                              "decline (points)": crit["strength_decline_points"],
                              "decline (se)": crit["strength_decline_se"]}), "strength (over scale)")

    def share(name: str) -> list[str]:
        return [f"{int(k)}/{int(n)} ({int(q)} significant)" if n else "-" for k, q, n in
                zip(crit[f"declining_{name}"], crit[f"significant_{name}"], crit[f"of_{name}"], strict=True)]

    c.add_table(pd.DataFrame({"task": units, "families": share("families"), "checkpoints": share("checkpoints"),
                              "sizes": share("sizes")}),
                "generality: declining (inverse or inverted-U) in k of n families, checkpoints and sizes")


def _grid(rep: Report, result: InverseScaling) -> None:
    g = result.grid_frame()
    if len(g):
        gs = rep.add_section("Grid model: worse with size, with training, or both?", id="grid")
        gs.add_text("metric ~ log10 params * log10 tokens, both centred, by OLS over the whole size x checkpoint grid; "
                    "standard errors cluster-robust by run (each run's checkpoints are repeated measures of one "
                    "model), t with runs-1 dof; slopes are per decade, in metric units (n, runs and R^2 are in "
                    "inverse_scaling_grid.csv). size_slope_final is the "
                    "size effect at the end of training, training_slope_largest the training effect of the "
                    "largest model.")
        cols = ["task", "metric", "shots", "worse_with", "b_params", "p_params_adjusted", "b_tokens",
                "p_tokens_adjusted", "b_interaction", "p_interaction", "size_slope_final", "training_slope_largest"]
        gs.add_table(g[[c for c in cols if c in g.columns]])


def _tasks(rep: Report, result: InverseScaling, figures: dict, heatmaps: dict) -> None:
    tasks = rep.add_section("Tasks", id="tasks").add_text(
        f"Left: the metric of each family's final checkpoints against {_X_NAMES.get(result.x, result.x)} (log "
        "axis), 1-sd error bars, chance dashed, the turn (if any) dotted. Right: every size over training, one line "
        "per size (light = largest). Below: the size x checkpoint heatmap, and every test of the task.")
    if any(isinstance(f, str) for f in (*figures.values(), *heatmaps.values())):
        tasks.add_text("The figures are too many to embed in one page: they are linked from the figures/ folder "
                       "beside this page (keep the two together), and load as they scroll into view.", cls="muted")
    for unit in result.units:
        label = _unit_label(unit, result)
        s = Section(label, id=anchor("is-" + label), level=3)
        for store, alt in ((figures, f"{label}: metric against {_X_NAMES.get(result.x, result.x)}"),
                           (heatmaps, f"{label}: size x checkpoint heatmap")):
            if unit in store:
                fig = store[unit]
                s.add_figure(*((fig, alt) if isinstance(fig, bytes) else (None, alt)),
                             src=None if isinstance(fig, bytes) else fig)
        s.add(_tests_table(result, unit))
        rep.sections.append(s)


def write_report(result: InverseScaling, out_dir: str | Path, progress: Progress | None = None) -> ReportFiles:
    """Write the CSVs (first, so they survive a failure in drawing), ``figures/*.png`` (each unit's as soon as it
    is drawn) and ``inverse_scaling.html``."""
    out = Path(out_dir)
    tables = result.write(out)
    drawn: dict[str, dict[Unit, bytes]] = {"": {}, "_heatmap": {}}
    src: dict[str, dict[Unit, str]] = {"": {}, "_heatmap": {}}
    paths: list[Path] = []
    units = result.units
    stems = F.figure_stems(result.label(u) for u in units)
    for i, unit in enumerate(units):
        report(progress, i, len(units), result.label(unit))
        mine = []
        for kind, draw in (("", trend_figure_png), ("_heatmap", heatmap_png)):
            png = draw(result, unit)
            if png is not None:
                drawn[kind][unit] = png
                src[kind][unit] = f"figures/{stems[result.label(unit)]}{kind}.png"
                mine.append((stems[result.label(unit)] + kind, png))
        paths += F.write_figures(out / "figures", mine)
    report(progress, len(units), len(units), "report")
    embed = sum(len(p) for d in drawn.values() for p in d.values()) <= EMBED_BUDGET
    figures, heatmaps = (drawn[""], drawn["_heatmap"]) if embed else (src[""], src["_heatmap"])
    html = build_report(result, figures, heatmaps).write(out / "inverse_scaling.html")
    return tables.with_report(html, tuple(paths))


__all__ = ["write_report", "build_report", "trend_figure_png", "heatmap_png", "TERM_COLOURS", "DECLINING"]
