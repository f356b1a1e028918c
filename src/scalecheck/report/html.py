"""A self-contained HTML report: sections of text, tables and figures in one file.

No JavaScript and no external resources: figures are embedded as base64 PNG, the style sheet is inline, so the
file can be mailed, archived or opened offline (a report with more figures than a page can carry may link them
from its own ``figures/`` folder instead: :func:`figure_html` with ``src``). Tables sit in a scrolling box and their
cells wrap, so no page is wider than the window. Everything that comes from data goes through :func:`esc`;
functions here that return HTML return it *safe* (already escaped), and only such strings may be passed as
``html=`` to :meth:`Report.add_section`.
"""

from __future__ import annotations

import base64
import html as _html
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1150px;
       padding: 1.5em; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; margin-top: 1.8em; }
h3 { margin-bottom: 0.3em; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; max-width: 100%; }
.table-wrap { max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #d8d8d8; padding: 0.25em 0.55em; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; } td.num { overflow-wrap: normal; } td.text { min-width: 14em; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: 0.3em; }
figure { margin: 0.8em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.88em; }
.badge { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.7em; font-size: 0.85em; color: #fff; }
.headline { font-size: 1.15em; background: #f6f8fa; border-left: 4px solid #0072B2; padding: 0.6em 1em; }
.task { border-top: 1px solid #eee; padding-top: 0.4em; }
.muted { color: #666; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.25em; }
"""


def esc(value: object) -> str:
    """Text from data, made safe for HTML (quotes too, so it is safe inside attributes)."""
    return _html.escape(str(value), quote=True)


def anchor(text: str) -> str:
    """A stable id for an in-page link: letters, digits, '-' and '_' only."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", str(text)).strip("-")
    return slug or "section"


def fmt_number(v: object, digits: int = 3) -> str:
    """Numbers for humans: 3 significant digits, '-' for missing."""
    if v is None:
        return "-"
    if isinstance(v, (bool, int)):  # bool is an int: keep True/False and exact counts as they are
        return str(v)
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "-"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f.is_integer() and abs(f) < 1e5:
        return str(int(f))
    if f != 0 and (abs(f) < 1e-3 or abs(f) >= 1e5):
        return f"{f:.{digits - 1}e}"
    return f"{f:.{digits}g}"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def compress_png(png: bytes) -> bytes:
    """A figure for embedding: the PNG reduced to a 256-colour palette (Pillow's fast octree, no dithering). A
    matplotlib plot is a few flat colours plus anti-aliased edges, so the pixels change by about 1/255 on average
    (at most 14/255, on edges) while the bytes fall to about a third, and a page of 300 figures stays small. The
    PNG itself is kept where that is not smaller or Pillow cannot read it. The files written beside a report stay
    full-colour PNG, for papers and slides."""
    import io

    try:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            if "A" in im.getbands() and im.getextrema()[im.getbands().index("A")][0] < 255:
                return png  # see-through pixels: a palette of opaque colours would change them
            palette = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                 dither=Image.Dither.NONE)
        buf = io.BytesIO()
        palette.save(buf, format="PNG", compress_level=9)
        small = buf.getvalue()
    except Exception:  # not an image Pillow reads (or a Pillow without PNG): embed it as it is
        return png
    return small if len(small) < len(png) else png


def figure_html(png: bytes | None, alt: str, caption: str = "", *, src: str | None = None) -> str:
    """A figure: ``png`` embedded (compressed, :func:`compress_png`), or (``src``) a link to an image file beside
    the page, loaded as it scrolls into view. ``alt``, ``caption`` and ``src`` are plain text and get escaped."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    if src is not None:
        return f'<figure><img src="{esc(src)}" alt="{esc(alt)}" loading="lazy">{cap}</figure>'
    if png is None:
        raise ValueError("figure_html needs the PNG bytes or a src")
    return f'<figure><img src="{png_data_uri(compress_png(png))}" alt="{esc(alt)}">{cap}</figure>'


def table_html(df: pd.DataFrame, caption: str = "", formatters: Mapping[str, Callable[[object], str]] | None = None,
               safe_columns: Iterable[str] = (), index: bool = False) -> str:
    """A table from a DataFrame: every cell escaped, numbers formatted, except ``safe_columns`` (whose cells
    the caller has built as safe HTML, e.g. badges or links)."""
    formatters = dict(formatters or {})
    safe = set(safe_columns)
    frame = df.reset_index() if index else df
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for rec in frame.itertuples(index=False):
        cells = []
        for col, val in zip(frame.columns, rec, strict=True):
            if col in safe:
                cells.append(f"<td>{val}")
                continue
            text = formatters[col](val) if col in formatters else fmt_number(val) if _is_number(val) else str(val)
            # Long text gets a floor on its width, so that a wrapping table does not squeeze it to a word a line.
            cls = ' class="num"' if _is_number(val) else ' class="text"' if len(text) > LONG_TEXT else ""
            # No </td>: HTML ends a cell at the next cell or row (a fifth of a 15,000-row report's bytes).
            cells.append(f"<td{cls}>{esc(text)}")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>")


LONG_TEXT = 60  # characters: a cell this long gets a minimum width (td.text)


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclass
class Section:
    title: str
    blocks: list[str] = field(default_factory=list)  # safe HTML
    id: str = ""
    level: int = 2

    def add(self, html: str) -> Section:
        self.blocks.append(html)
        return self

    def add_text(self, text: str, cls: str = "") -> Section:
        c = f' class="{esc(cls)}"' if cls else ""
        return self.add(f"<p{c}>{esc(text)}</p>")

    def add_table(self, df: pd.DataFrame, caption: str = "", **kw) -> Section:
        return self.add(table_html(df, caption, **kw))

    def add_figure(self, png: bytes | None, alt: str, caption: str = "", *, src: str | None = None) -> Section:
        return self.add(figure_html(png, alt, caption, src=src))

    def render(self) -> str:
        h = f"h{self.level}"
        ident = f' id="{esc(self.id)}"' if self.id else ""
        return f'<section{ident} class="task"><{h}>{esc(self.title)}</{h}>' + "".join(self.blocks) + "</section>"


class Report:
    """An HTML page built from sections. ``Report(title).add_section(...)...write(path)``."""

    def __init__(self, title: str, subtitle: str = "", css: str = ""):
        self.title = title
        self.subtitle = subtitle
        self.css = css  # this page's own rules, after the shared style sheet (e.g. a class per badge colour)
        self.sections: list[Section] = []

    def add_section(self, title: str, html: str = "", figures: Iterable[tuple[bytes, str]] = (), *, id: str = "",
                    level: int = 2) -> Section:
        """A new section; ``html`` must be safe HTML (built with :func:`esc`), ``figures`` are (png, alt)."""
        sec = Section(title, id=id or anchor(title), level=level)
        if html:
            sec.add(html)
        for png, alt in figures:
            sec.add_figure(png, alt)
        self.sections.append(sec)
        return sec

    def add_table(self, df: pd.DataFrame, title: str = "", caption: str = "", **kw) -> Section:
        """A section holding one table (or append to the last section when ``title`` is empty)."""
        if title or not self.sections:
            return self.add_section(title or "Table").add_table(df, caption, **kw)
        return self.sections[-1].add_table(df, caption, **kw)

    def render(self) -> str:
        sub = f'<p class="subtitle">{esc(self.subtitle)}</p>' if self.subtitle else ""
        body = "".join(s.render() for s in self.sections)
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{esc(self.title)}</title><style>{CSS}{self.css}</style></head>"
                f"<body><h1>{esc(self.title)}</h1>{sub}{body}</body></html>\n")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)  # never leave a half-written page under the real name
        return path
