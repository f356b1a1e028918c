"""Report pages fit a 1,400 px window (issue 17, item 7): wide grid tables wrap instead of widening the page."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from browser import FLAGS, chromium_path
from playwright.sync_api import sync_playwright

from scalecheck import Testbed

WINDOW = 1400
PAGE_WIDTH = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
WIDEST_TABLE = "Math.max(...Array.from(document.querySelectorAll('table')).map(t => t.getBoundingClientRect().right))"


def page_widths(html: Path) -> tuple[int, float]:
    profile = tempfile.mkdtemp(prefix="scalecheck-chromium-")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=FLAGS,
                                                            headless=True, offline=True,
                                                            viewport={"width": WINDOW, "height": 900})
            page = browser.new_page()
            page.goto(html.as_uri(), wait_until="load")
            widths = page.evaluate(PAGE_WIDTH), page.evaluate(WIDEST_TABLE)
            browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return widths


def wide_testbed() -> Testbed:
    """Eight families (nine scopes in the grid) and task names as long as MMLU's."""
    models, scores = [], []
    tasks = ["hendrycksTest-high_school_european_history", "hendrycksTest-professional_accounting", "copa"]
    for f in range(8):
        for i, params in enumerate(np.geomspace(1e7, 1e10, 6)):
            models.append({"model": f"family-number-{f}-{i}", "source": "t", "family": f"family-number-{f}",
                           "params": params})
            for task in tasks:
                scores.append({"model": f"family-number-{f}-{i}", "task": task, "metric": "acc",
                               "value": 0.3 + 0.08 * i + 0.01 * f, "n_examples": 1000, "chance": 0.25})
    return Testbed.build(pd.DataFrame(models), pd.DataFrame(scores), name="wide")


def test_the_reality_check_page_fits_the_window(tmp_path):
    from scalecheck.report.reality import write_report
    from scalecheck.trends import reality_check

    tb = wide_testbed()
    files = write_report(reality_check(tb, x="params", by="family"), tb, tmp_path / "rep")
    page, table = page_widths(files.html)
    assert page <= WINDOW and table <= WINDOW, (page, table)


def test_the_backtest_page_fits_the_window(tmp_path):
    from scalecheck.backtest import backtest
    from scalecheck.report.backtest import write_backtest_report

    tb = wide_testbed()
    files = write_backtest_report(backtest(tb, x="params", by="family"), tmp_path / "bt")
    page, table = page_widths(files["html"])
    assert page <= WINDOW and table <= WINDOW, (page, table)
