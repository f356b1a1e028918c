"""Reports: figures (``report.figures``), self-contained HTML pages (``report.html``), and the reality check's
report (``report.reality.write_report``)."""

from .html import Report, Section, esc, figure_html, table_html
from .reality import ReportFiles, build_report, write_report

__all__ = ["Report", "Section", "esc", "figure_html", "table_html", "ReportFiles", "build_report", "write_report"]
