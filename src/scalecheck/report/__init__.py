"""Reports: figures (``report.figures``), self-contained HTML pages (``report.html``), and one writer per
analysis: the reality check's (``write_report``), the backtest's and the two-step prediction's
(``write_backtest_report``, ``write_ladder_report``) and sensitivity's (``write_sensitivity_report``). Each writes
the result's own tables first (``result.write(dir)``), then the figures (``figures.write_figures``, where a page
has figure files) and the page, and returns the files: one :class:`~scalecheck.tables.ReportFiles`, as every
result's ``write``."""

from ..tables import ReportFiles
from .backtest import write_backtest_report, write_ladder_report
from .html import Report, Section, esc, figure_html, table_html
from .reality import build_report, write_report
from .sensitivity import write_sensitivity_report

__all__ = ["Report", "Section", "esc", "figure_html", "table_html", "ReportFiles", "build_report", "write_report",
           "write_backtest_report", "write_ladder_report", "write_sensitivity_report"]
