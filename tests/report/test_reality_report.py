"""write_report: verdicts.csv, figures, and report.html with every verdict's evidence."""

import pandas as pd

from scalecheck.report.reality import EVIDENCE_LABELS, write_report
from scalecheck.trends import CATEGORIES


def test_write_report(tmp_path, small_result, hostile):
    tb, result = small_result
    files = write_report(result, tb, tmp_path / "out")
    df = pd.read_csv(files["verdicts"])
    assert len(df) == 3 * 4 and set(df["category"]) <= set(CATEGORIES)
    assert {"task", "scope", "category", "confidence", "n_models", "spearman_rho", "chi2_red_exp",
            "p_predictable", "p_non_monotonic"} <= set(df.columns)
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
    # The share counts confident verdicts only, and says so.
    assert "Predictable (confidence &ge; 0.5):" in html and "share predictable (confidence &gt;= 0.5)" in html
    assert "law_r2" in html and "RISE_MAX_SPAN" in html  # the criteria's thresholds are shown
    probs = [c for c in df.columns if c.startswith("p_")]
    assert len(probs) == 6 and "caveat" in df.columns
    assert (df[probs].sum(axis=1).round(3) == 1.0).all()
