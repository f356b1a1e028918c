"""One ReportFiles for every writer, and the one figure-writing helper."""

import pandas as pd

from scalecheck.report.figures import figure_stems, write_figures
from scalecheck.tables import ReportFiles, write_tables


def test_report_files_read_as_the_tables_and_list_everything(tmp_path):
    files = write_tables(tmp_path, {"verdicts": ("verdicts.csv", pd.DataFrame({"a": [1]}))})
    assert isinstance(files, ReportFiles) and files["verdicts"] == tmp_path / "verdicts.csv"
    assert list(files.values()) == [tmp_path / "verdicts.csv"] and files.html is None
    html = tmp_path / "report.html"
    html.write_text("<html></html>")
    full = files.with_report(html, (tmp_path / "figures" / "a.png",))
    assert full.paths == (tmp_path / "verdicts.csv", html, tmp_path / "figures" / "a.png") and full["html"] == html
    assert list(full) == ["verdicts", "html"] and "html" not in files
    assert full.describe() == f"{html}, 1 table and 1 figure in {tmp_path}/"
    assert files.describe() == f"1 table in {tmp_path}/"
    # Files that are neither tables, page nor figures (an evaluation's run record and examples) come last.
    run = ReportFiles(tmp_path, {"summary": tmp_path / "summary.csv"}, others=(tmp_path / "run.json",))
    assert run.paths == (tmp_path / "summary.csv", tmp_path / "run.json") and list(run) == ["summary"]
    assert run.describe() == f"1 table and 1 other file in {tmp_path}/"


def test_figure_stems_never_collide_and_figures_land_in_their_folder(tmp_path):
    stems = figure_stems(["a b", "a-b", "a b", "<x>"])
    assert stems == {"a b": "a-b", "a-b": "a-b_", "<x>": "x"}
    paths = write_figures(tmp_path / "figures", [(s, b"\x89PNG") for s in stems.values()])
    assert [p.name for p in paths] == ["a-b.png", "a-b_.png", "x.png"] and all(p.exists() for p in paths)
