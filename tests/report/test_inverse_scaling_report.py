"""The inverse-scaling report: files, escaping, and the page opened in a real headless Chromium."""

import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from scalecheck.inverse_scaling import inverse_scaling
from scalecheck.inverse_scaling.synthetic import draw_ladder
from scalecheck.report.inverse_scaling import write_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no Chromium found: run `make chromium` (apt-get install chromium)")


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
    assert {p.name for p in files.tables} >= {"inverse_scaling.csv", "inverse_scaling_overview.csv",
                                              "inverse_scaling_grid.csv", "inverse_scaling_criteria.csv"}
    assert len(files.figures) == 4 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files.figures)
    for section in ("Grid model", "strength and generality", "How to read it"):
        assert section in html


def test_report_renders_in_headless_chromium(tmp_path, hostile_result, hostile):
    files = write_report(hostile_result, tmp_path / "out")
    profile = tempfile.mkdtemp(prefix="scalecheck-chromium-")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=FLAGS,
                                                            headless=True, offline=True)
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(Path(files.html).as_uri(), wait_until="load")
            widths = page.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
            scripts = page.evaluate("document.scripts.length")
            headings = page.evaluate("Array.from(document.querySelectorAll('h3')).map(h => h.textContent)")
            text = page.inner_text("body")
            browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert not problems, problems
    assert len(widths) == 4 and all(w > 0 for w in widths), widths
    assert scripts == 0
    assert hostile in headings
    assert "Over scale" in text and "inverse" in text
