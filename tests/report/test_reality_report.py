"""write_report: verdicts.csv, figures, and report.html with every verdict's evidence."""

import pandas as pd

from scalecheck.report.reality import EVIDENCE_LABELS, write_report
from scalecheck.trends import CATEGORIES


def test_write_report(tmp_path, small_result, hostile):
    tb, result = small_result
    files = write_report(result, tb, tmp_path / "out")
    df = pd.read_csv(files.verdicts_csv)
    assert len(df) == 3 * 4 and set(df["category"]) <= set(CATEGORIES)
    assert {"task", "scope", "category", "confidence", "n_models", "spearman_rho", "chi2_red_exp"} <= set(df.columns)
    assert hostile in set(df["task"])  # data keeps its names; only HTML escapes them
    assert len(files.figures) == 3 and all(p.read_bytes()[:4] == b"\x89PNG" for p in files.figures)
    assert all(p.parent.name == "figures" and "<" not in p.name for p in files.figures)
    html = files.html.read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "small &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert html.count("<img ") == 3
    for label in EVIDENCE_LABELS.values():
        assert label in html
    for v in result.verdicts:
        assert v.reason.split(":")[0].replace("&", "&amp;").replace("<", "&lt;") in html
    assert "Predictable:" in html and "share predictable" in html
    assert "BREAK_MIN_PLATEAU_SHARE" in html and "TURN_MIN_CHI2" in html  # the criteria's thresholds are shown
