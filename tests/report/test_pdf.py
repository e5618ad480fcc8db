"""Reports printed to PDF by Debian's Chromium, read back with pypdf.

Few on purpose: Chromium takes seconds per print on a busy two-core machine.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cyberpeace.cli import app as cli
from tests.api.conftest import TestClient, bearer
from tests.report.cases import AMBER_NOTE, RED_NOTE, Case

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def chromium() -> None:
    if shutil.which("chromium") is None:
        message = "chromium is not installed (Debian package chromium)"
        if os.environ.get("CYBERPEACE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _pages(source: Path | bytes) -> list[str]:
    if isinstance(source, bytes):
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"report-{os.getpid()}.pdf"
        path.write_bytes(source)
        source = path
    # NFKC: the text comes back with the font's ligatures (ﬁ for fi); read them as letters.
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(source).pages]


def test_verification_pdf_is_marked_on_every_page(cli_case: Case, tmp_path: Path) -> None:
    out = tmp_path / "incident.pdf"
    result = CliRunner().invoke(
        cli, ["report", "incident", str(cli_case.amber), "--out", str(out), "--tlp", "amber"]
    )
    assert result.exit_code == 0, result.output
    pages = _pages(out)
    assert len(pages) >= 3, "the case file should run over several pages"
    for number, text in enumerate(pages, 1):
        # The top and the bottom margin of every page carry the label.
        assert text.count("TLP:AMBER") >= 2, f"page {number} is not marked: {text[:200]!r}"
        assert f"page {number} of {len(pages)}" in text
    whole = "\n".join(pages)
    squeezed = re.sub(r"\s+", "", whole)  # long hashes wrap across lines in the table
    assert f"Verification report: incident {cli_case.amber}" in whole
    assert "triage → investigating: tracing the reflectors" in whole
    assert re.sub(r"\s+", "", AMBER_NOTE) in squeezed
    assert "No hostile cyber operations against protected civilian" in whole
    assert all(digest in squeezed for digest in cli_case.hashes)
    assert re.sub(r"\s+", "", RED_NOTE) not in squeezed
    assert "TLP:RED" not in whole.replace("above TLP:AMBER", "")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_situation_pdf_for_a_green_reader(client: TestClient, case: Case) -> None:
    response = client.get(
        "/api/v1/reports/situation?since=2026-11-24&until=2026-11-25&tlp=green&format=pdf",
        headers=bearer(case.staff_token),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="situation-20261124-20261125.pdf"' in response.headers["content-disposition"]
    pages = _pages(response.content)
    assert all(text.count("TLP:GREEN") >= 2 for text in pages)
    whole = "\n".join(pages)
    squeezed = re.sub(r"\s+", "", whole)  # table cells wrap titles across lines
    assert re.sub(r"\s+", "", case.green_title) in squeezed
    assert re.sub(r"\s+", "", case.amber_title) not in squeezed
    assert "Wiper" not in whole
    assert "TLP:AMBER" not in whole
    assert "TLP:RED" not in whole
