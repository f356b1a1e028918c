"""A report page opened in a real headless Chromium, for the reports' browser tests.

Chromium comes from Debian's packages (the Makefile's `chromium` target installs it); Playwright drives the
system browser (no browser download). The tests do not skip: a missing browser is a failure.
"""

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no Chromium found: run `make chromium` (apt-get install chromium)")


def open_page(html: Path, *queries: str) -> tuple[list[str], list, str]:
    """Open ``html`` offline; return the problems seen (console errors and warnings, page errors, dialogs, failed
    requests), the value of each JavaScript expression in ``queries``, and the page's text."""
    profile = tempfile.mkdtemp(prefix="scalecheck-chromium-")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=FLAGS,
                                                            headless=True, offline=True)
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(Path(html).as_uri(), wait_until="load")
            values = [page.evaluate(q) for q in queries]
            text = page.inner_text("body")
            browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return problems, values, text


IMAGE_WIDTHS = "Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
SCRIPT_COUNT = "document.scripts.length"
