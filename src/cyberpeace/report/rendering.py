"""A report as one self-contained HTML document (Jinja2, styles inline, figures as SVG).

The TLP label is printed in the top and bottom page margins of every printed page with CSS
Paged Media margin boxes (CSS Paged Media Module Level 3, section 5), in the label's colour on
black as FIRST's TLP 2.0 standard asks, and stands at the head of the document on screen.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from cyberpeace.report.content import Report
from cyberpeace.report.policy import policy
from cyberpeace.web.routes import TLP_MEANING, tlp_colour, utc

_CSS_PLAIN = frozenset(" .,:;-_/()#+!?'")


def css_string(text: object) -> Markup:
    """Text for a CSS string inside <style>: every character but plain ones as a CSS escape.

    Inside <style> HTML escapes are not decoded, so ``&lt;`` would print as such, and a raw
    ``</style>`` or quote would end the string or the element; CSS escapes avoid both.
    """
    out = [
        ch if (ch.isalnum() and ch.isascii()) or ch in _CSS_PLAIN else f"\\{ord(ch):x} "
        for ch in str(text)
    ]
    return Markup("".join(out))  # noqa: S704 - every character is escaped above


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cyberpeace.report", "templates"),
        autoescape=select_autoescape(["html", "svg.html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc
    env.filters["tlp_colour"] = tlp_colour
    env.filters["css_string"] = css_string
    env.globals["tlp_meaning"] = TLP_MEANING
    env.globals["tlp_colours"] = policy().tlp_colours
    return env


def report_html(report: Report) -> str:
    return environment().get_template("report.html").render(report=report)
