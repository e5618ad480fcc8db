"""Reports: the verification report of one incident and the mission's situation report.

Both are built for one reader (a viewer and the highest TLP they read), hold nothing marked
above it, carry the most restricted label of what they hold, and render as HTML or PDF.
"""

from cyberpeace.report.building import situation_report, verification_report
from cyberpeace.report.content import Report
from cyberpeace.report.pdf import PdfError, html_to_pdf
from cyberpeace.report.period import Period, parse_moment, parse_period, period_of
from cyberpeace.report.reader import AboveReaderTlp, Reader, ReportError, parse_tlp, reader_for
from cyberpeace.report.rendering import report_html

__all__ = [
    "AboveReaderTlp",
    "PdfError",
    "Period",
    "Reader",
    "Report",
    "ReportError",
    "html_to_pdf",
    "parse_moment",
    "parse_period",
    "parse_tlp",
    "period_of",
    "reader_for",
    "report_html",
    "situation_report",
    "verification_report",
]
