"""Farm reports (HTML and Markdown) rendered with jinja2 from a CLI command's JSON document."""

from vipctl.report.render import ReportError, render_report, write_report

__all__ = ["ReportError", "render_report", "write_report"]
