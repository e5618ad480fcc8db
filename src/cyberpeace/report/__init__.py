"""Reports: the verification report of one incident and the mission's situation report.

Both are built for one reader (a viewer and the highest TLP they read), hold nothing marked
above it, carry the most restricted label of what they hold, and render as HTML or PDF.

The names below are loaded on first use, so that ``cyberpeace.report.report_cli`` (imported by
every run of the CLI) does not pull in the report machinery until a report is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cyberpeace.report.building import situation_report, verification_report
    from cyberpeace.report.content import Report
    from cyberpeace.report.pdf import PdfError, html_to_pdf
    from cyberpeace.report.period import Period, parse_moment, parse_period, period_of
    from cyberpeace.report.reader import (
        AboveReaderTlp,
        Reader,
        ReportError,
        parse_tlp,
        reader_for,
    )
    from cyberpeace.report.rendering import report_html

_HOMES = {
    "situation_report": "building",
    "verification_report": "building",
    "Report": "content",
    "PdfError": "pdf",
    "html_to_pdf": "pdf",
    "Period": "period",
    "parse_moment": "period",
    "parse_period": "period",
    "period_of": "period",
    "AboveReaderTlp": "reader",
    "Reader": "reader",
    "ReportError": "reader",
    "parse_tlp": "reader",
    "reader_for": "reader",
    "report_html": "rendering",
}

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


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"cyberpeace.report.{home}"), name)
