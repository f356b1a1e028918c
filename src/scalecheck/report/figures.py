"""Paper-quality figures of series and laws, as PNG bytes.

Built on ``matplotlib.figure.Figure`` with the Agg canvas directly (no pyplot): no global backend state, no
windows, safe in worker processes. Colours are the Okabe-Ito palette (safe for the common colour-blindnesses).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..observations import Series
from ..trends.evidence import scale_grows_right

# Okabe & Ito (2008): distinguishable under deuteranopia, protanopia and tritanopia, and in greyscale order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CATEGORY_COLOURS = {
    "predictable": "#009E73", "inverse": "#D55E00", "non-monotonic": "#CC79A7", "noisy": "#E69F00",
    "trendless": "#7f7f7f", "breakthrough": "#0072B2", "insufficient-data": "#4d4d4d",
}
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.25, "grid.linewidth": 0.6, "lines.linewidth": 1.6, "figure.dpi": 100,
    "legend.frameon": False, "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
}
DPI = 100


def styled(fig_fn):
    """Draw under the paper style (the rc settings of :data:`STYLE` apply when artists are created)."""
    import functools

    @functools.wraps(fig_fn)
    def wrapped(*a, **kw):
        with matplotlib.rc_context(STYLE):
            return fig_fn(*a, **kw)
    return wrapped


_X_LABELS = {
    "params": "parameters (log scale)", "params_nonembed": "non-embedding parameters (log scale)",
    "tokens": "training tokens (log scale)", "flops": "training compute, FLOPs (log scale)",
}


def x_label(series: Series) -> str:
    """The x axis label, with units."""
    if series.x_is_loss:
        name = "C4" if series.x_name == "c4_val" else series.x_name
        return f"{name} validation loss (nats/token; larger models to the right)"
    return _X_LABELS.get(series.x_name, series.x_name)


def y_label(series: Series) -> str:
    unit = " (share correct)" if series.metric == "accuracy" else ""
    return f"{series.metric}{unit}" + ("" if series.higher_is_better else " (lower is better)")


def group_colours(groups: Sequence[str]) -> dict[str, str]:
    """A stable colour per group, in sorted order of the names."""
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(sorted(set(groups)))}


def new_figure(width: float = 8.0, height: float = 3.8) -> Figure:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, dpi: int = DPI, colors: int | None = None) -> bytes:
    """The figure as PNG bytes; with ``colors``, as a palette PNG of at most that many colours.

    A line plot in the Okabe-Ito palette holds a few dozen colours and their anti-aliased edges: 64 keep it
    indistinguishable on screen at a quarter of the bytes (measured on the inverse-scaling figures: 65 KB to
    16 KB on average), which is what lets a report of hundreds of figures stay one page.
    """
    # One draw: fixed margins (set by series_figure) instead of bbox_inches="tight", which draws twice.
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=dpi)
    png = buf.getvalue()
    return png if colors is None else compact_png(png, colors)


def compact_png(png: bytes, colors: int = 64) -> bytes:
    """``png`` re-encoded with an adaptive palette of ``colors`` colours (Pillow, which matplotlib requires)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        out = io.BytesIO()
        im.convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class Curve:
    """A fitted curve to draw over a series: ``f(x)``, optionally a band ``band(x) -> (lo, hi)``."""

    f: Callable[[np.ndarray], np.ndarray]
    label: str
    colour: str = "#000000"
    band: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    style: str = "-"
    width: float = 1.8


def plot_series(ax, series: Series, colours: dict[str, str] | None = None, *, errorbars: bool = True,
                label: bool = True) -> dict[str, str]:
    """Points coloured by group (corpus or family) with their sampling error bars (1 sd)."""
    colours = colours or group_colours(series.groups)
    groups = np.asarray(series.groups, object)
    sd = series.noise_sd
    for g, c in colours.items():
        m = groups == g
        if not m.any():
            continue
        yerr = sd[m] if errorbars and np.isfinite(sd[m]).any() else None
        ax.errorbar(series.x[m], series.y[m], yerr=yerr, fmt="o", ms=3.5, color=c, ecolor=c, elinewidth=0.7,
                    alpha=0.85, capsize=0, label=f"{g} ({int(m.sum())})" if label else None, zorder=3)
    return colours


def plot_curve(ax, curve: Curve, x: np.ndarray) -> None:
    grid = np.linspace(float(np.min(x)), float(np.max(x)), 200)
    y = np.asarray(curve.f(grid), float)
    if not np.isfinite(y).any():
        return
    if curve.band is not None:
        try:
            lo, hi = curve.band(grid)
            lo, hi = np.asarray(lo, float), np.asarray(hi, float)
            if np.isfinite(lo).all() and np.isfinite(hi).all():
                ax.fill_between(grid, lo, hi, color=curve.colour, alpha=0.15, linewidth=0, zorder=1)
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            pass  # a law without a usable band is still drawn
    ax.plot(grid, y, curve.style, color=curve.colour, lw=curve.width, label=curve.label, zorder=2)


def plot_chance(ax, chance: float) -> None:
    if np.isfinite(chance):
        ax.axhline(chance, color="#555555", ls=":", lw=1.0, label=f"chance ({chance:.2g})", zorder=0)


def series_figure(series: Series, curves: Sequence[Curve] = (), *, title: str = "",
                  marks: Sequence[tuple[float, str]] = (), colours: dict[str, str] | None = None,
                  width: float = 8.0, height: float = 3.8) -> Figure:
    """One series: points by group, fitted curves (with bands), the chance line and vertical marks."""
    fig = new_figure(width, height)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot(1, 1, 1)
        plot_series(ax, series, colours)
        for c in curves:
            plot_curve(ax, c, series.x)
        plot_chance(ax, series.chance)
        for x, label in marks:
            if np.isfinite(x):
                ax.axvline(x, color="#333333", ls="--", lw=0.9, label=label, zorder=0)
        if not scale_grows_right(series.x_is_loss):
            ax.invert_xaxis()  # loss falls as scale grows: bigger models to the right
        else:
            ax.set_xscale("log")  # a scale axis, on the log scale the law is fitted on
        ax.set_xlabel(x_label(series))
        ax.set_ylabel(y_label(series))
        if title:
            ax.set_title(title, loc="left")
        # A fixed corner: loc="best" searches every data point for overlaps and costs more than the plot.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        fig.subplots_adjust(left=0.1, right=0.7, bottom=0.13, top=0.92)
    return fig


def figure_stems(names: Iterable[str]) -> dict[str, str]:
    """A file stem per name: letters, digits, '-' and '_' (as an HTML anchor), with '_' appended where two names
    slug alike, so that two tasks never share a file."""
    from .html import anchor

    stems: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        if name in stems:
            continue
        stem = anchor(name)
        while stem in used:
            stem += "_"
        used.add(stem)
        stems[name] = stem
    return stems


def write_figures(fig_dir: str | Path, figures: Iterable[tuple[str, bytes]]) -> tuple[Path, ...]:
    """Write each ``(stem, png)`` as ``fig_dir/<stem>.png`` (the folder made if missing): every report's figures."""
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, png in figures:
        path = fig_dir / f"{stem}.png"
        path.write_bytes(png)
        paths.append(path)
    return tuple(paths)
