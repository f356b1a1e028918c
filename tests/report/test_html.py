"""The HTML building blocks: escaping, tables, figures, the page."""

import base64

import pandas as pd

from scalecheck.report import figures as F
from scalecheck.report.html import Report, anchor, compress_png, esc, figure_html, fmt_number, table_html
from scalecheck.trends.synthetic import make_series


def test_escape_and_anchor():
    assert esc('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert anchor("task-<script> & x") == "task-script-x"


def test_numbers_for_humans():
    assert fmt_number(104) == "104" and fmt_number(1000.0) == "1000" and fmt_number(float("nan")) == "-"
    assert fmt_number(0.123456) == "0.123" and fmt_number(1.5e-7) == "1.50e-07" and fmt_number(True) == "True"


def test_table_escapes_cells_except_safe_columns():
    df = pd.DataFrame({"name": ["<i>x</i>"], "badge": ["<b>ok</b>"], "v": [0.5]})
    html = table_html(df, caption="a & b", safe_columns=("badge",))
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<b>ok</b>" in html and "a &amp; b" in html
    assert '<td class="num">0.5<' in html and "</td>" not in html  # a cell ends at the next: no end tags


def test_report_is_self_contained_with_embedded_figure(tmp_path):
    s = make_series([3, 4, 5, 6], [0.6, 0.5, 0.4, 0.3], n_examples=100, chance=0.25, groups=["a", "b", "a", "b"])
    png = F.to_png(F.series_figure(s, [F.Curve(lambda x: 1.2 - 0.15 * x, "line")], title="t"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    rep = Report("Title <x>", "sub & title")
    sec = rep.add_section("One", figures=[(png, "alt <text>")])
    sec.add_text("para <p>")
    rep.add_table(pd.DataFrame({"a": [1]}), caption="tab")
    path = rep.write(tmp_path / "r.html")
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Title &lt;x&gt;" in html and "sub &amp; title" in html
    assert "para &lt;p&gt;" in html and 'alt="alt &lt;text&gt;"' in html
    uri = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(uri) == compress_png(png)  # the same figure, in a 256-colour palette
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert figure_html(png, "a").count("<img") == 1


def test_figure_for_a_scale_axis_uses_log_x():
    s = make_series([1e7, 1e8, 1e9], [0.3, 0.4, 0.5], n_examples=100, x_is_loss=False, x_name="params")
    fig = F.series_figure(s)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "parameters" in ax.get_xlabel()
    assert F.x_label(make_series([3, 4], [0.1, 0.2])).startswith("C4 validation loss")
