"""The report opened in a real headless Chromium: no console errors, every figure decodes, names are text.

Chromium comes from Debian's packages (the Makefile's `chromium` target installs it); Playwright drives the
system browser (no browser download). This test does not skip: a missing browser is a failure.
"""

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from scalecheck.report.reality import write_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no Chromium found: run `make chromium` (apt-get install chromium)")


def test_report_renders_in_headless_chromium(tmp_path, small_result, hostile):
    tb, result = small_result
    files = write_report(result, tb, tmp_path / "out")
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
            heading = page.inner_text("#" + "task-script-alert-1-script-co" + " h3")
            text = page.inner_text("body")
            browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert not problems, problems
    assert len(widths) == 3 and all(w > 0 for w in widths), widths
    assert scripts == 0  # the hostile task name stayed text
    assert heading == hostile
    assert "Predictable:" in text
