"""Console tables through a pipe or into a log (issue 17, item 7): natural width, no column squeezed to nothing,
labels as a reader writes them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from scalecheck import Testbed
from scalecheck.cli._common import series_label


def test_series_labels_read_as_written():
    assert series_label("arc_challenge", None, 25.0) == "arc_challenge (25-shot)"
    assert series_label("xwinograd", None, float("nan")) == "xwinograd"
    assert series_label("xwinograd", None, pd.NA) == "xwinograd"
    # rich markup: a metric in brackets is text, not a style that vanishes (and leaves a double space)
    assert series_label("memo-trap", "loss", 0) == "memo-trap \\[loss] (0-shot)"
    assert series_label("t", None, 5, "rc") == "t (5-shot, rc)"


def test_a_piped_table_keeps_every_column_and_name(tmp_path):
    long = "hendrycksTest-high_school_european_history_with_an_even_longer_name"
    families = [f"family-number-{i}" for i in range(7)]
    models, scores = [], []
    for f in families:
        for i, params in enumerate(np.geomspace(1e7, 1e10, 6)):
            models.append({"model": f"{f}-{i}", "source": "t", "family": f, "params": params})
            for task in (long, "[red]styled"):
                scores.append({"model": f"{f}-{i}", "task": task, "metric": "acc", "value": 0.3 + 0.08 * i,
                               "n_examples": 1000, "chance": 0.25})
    path = tmp_path / "wide.parquet"
    Testbed.build(pd.DataFrame(models), pd.DataFrame(scores), name="wide").to_parquet(path)
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "reality-check", str(path), "--x", "params",
                        "--by", "family", "-o", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert long in r.stdout and "[red]styled" in r.stdout
    assert "…" not in r.stdout  # nothing cut short
    header = next(line for line in r.stdout.splitlines() if "family-number-6" in line)
    assert all(f in header for f in families)  # one row of headers: every scope column has its width
    assert "wrote" in r.stderr and r.stderr.count("\n") == 1  # the closing line is not broken through a pipe


def test_embedded_figures_are_compressed_and_look_the_same():
    import io

    from PIL import Image

    from scalecheck.report import figures as F
    from scalecheck.report.html import compress_png

    fig = F.new_figure()
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 200)
    ax.fill_between(x, x - 0.1, x + 0.1, color="0.85")
    ax.errorbar(x[::10], x[::10], yerr=0.03, fmt="o")
    ax.plot(x, x ** 2, "k--")
    ax.set_title("a figure")
    png = F.to_png(fig)
    small = compress_png(png)
    assert len(small) < 0.6 * len(png)
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), float)
    b = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), float)
    assert a.shape == b.shape and np.abs(a - b).mean() < 3
    assert compress_png(b"not an image") == b"not an image"
