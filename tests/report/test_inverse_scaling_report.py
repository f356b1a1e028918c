"""The inverse-scaling report: files, escaping, and the page opened in a real headless Chromium."""

import pytest
from browser import IMAGE_WIDTHS, SCRIPT_COUNT, open_page

from scalecheck.inverse_scaling import inverse_scaling
from scalecheck.inverse_scaling.synthetic import draw_ladder
from scalecheck.report.inverse_scaling import write_report


@pytest.fixture(scope="module")
def hostile_result(hostile):
    tb = draw_ladder(["inverse", "flat"], seed=2, n_sizes=6, n_steps=5)
    scores = tb.scores.copy()
    scores.loc[scores["task"] == "flat-1", "task"] = hostile
    tb = type(tb).build(tb.models, scores, name="sim & <b>bold</b>")
    return inverse_scaling(tb)


def test_report_files(tmp_path, hostile_result, hostile):
    files = write_report(hostile_result, tmp_path / "out")
    html = files.html.read_text()
    assert hostile not in html and "&lt;script&gt;" in html and "sim &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert {p.name for p in files.tables.values()} >= {"inverse_scaling.csv", "inverse_scaling_overview.csv",
                                              "inverse_scaling_grid.csv", "inverse_scaling_criteria.csv"}
    assert len(files.figures) == 4 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files.figures)
    for section in ("Grid model", "strength and generality", "How to read it"):
        assert section in html
    # Badges by class, coloured once in the page's style sheet (not a style per badge: ~16,000 on Pythia).
    assert 'class="badge t-inverse"' in html and ".t-inverse{background:#D55E00}" in html
    assert 'style="background' not in html


def test_report_renders_in_headless_chromium(tmp_path, hostile_result, hostile):
    files = write_report(hostile_result, tmp_path / "out")
    headings = "Array.from(document.querySelectorAll('h3')).map(h => h.textContent)"
    problems, (widths, scripts, headings), text = open_page(files.html, IMAGE_WIDTHS, SCRIPT_COUNT, headings)
    assert not problems, problems
    assert len(widths) == 4 and all(w > 0 for w in widths), widths
    assert scripts == 0
    assert hostile in headings
    assert "Over scale" in text and "inverse" in text


PAGE_FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# Lazy images load as they scroll into view: ask each to load now, and wait for it.
LOADED_WIDTHS = ("Promise.all(Array.from(document.images).map(i => { i.loading = 'eager'; "
                 "return i.decode().then(() => i.naturalWidth, () => 0); }))")


def test_figures_are_palette_pngs(tmp_path, hostile_result):
    files = write_report(hostile_result, tmp_path / "out")
    # IHDR colour type (byte 25): 3 is an indexed palette, a quarter of the bytes of the full-colour figure.
    assert all(p.read_bytes()[25] == 3 for p in files.figures)
    assert "data:image/png;base64," in files.html.read_text()


def test_past_the_budget_the_page_links_its_figures_and_still_fits_the_window(tmp_path, hostile_result,
                                                                             monkeypatch):
    import scalecheck.report.inverse_scaling as R

    monkeypatch.setattr(R, "EMBED_BUDGET", 0)
    files = write_report(hostile_result, tmp_path / "out")
    html = files.html.read_text()
    assert "data:image" not in html and html.count('loading="lazy"') == len(files.figures) == 4
    assert "linked from the figures/ folder" in html
    problems, (widths, fits), _ = open_page(files.html, LOADED_WIDTHS, PAGE_FITS)
    assert not problems, problems
    assert len(widths) == 4 and all(w > 0 for w in widths), widths  # each linked file loads
    assert fits  # no page wider than the window: tables scroll in their box and their cells wrap


def test_a_family_with_many_checkpoints_is_counted_not_listed(tmp_path, monkeypatch):
    import scalecheck.report.inverse_scaling as R

    monkeypatch.setattr(R, "MAX_CHECKPOINT_ROWS", 3)  # the simulated ladder has 5 checkpoints per run
    result = inverse_scaling(draw_ladder(["inverse"], seed=2, n_sizes=6, n_steps=5))
    html = write_report(result, tmp_path / "out").html.read_text()
    assert html.count(">scale@checkpoint<") == 0 and "sim: 5 checkpoints, " in html
    assert html.count(">training<") == 6  # each size's test over training is still listed
    assert len(result.tests_of(result.units[0], "scale@checkpoint")) == 5  # and every test stays in the result
