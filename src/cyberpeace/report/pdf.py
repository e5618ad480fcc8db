"""A report's HTML printed to PDF by Debian's Chromium, headless, with nothing fetched.

Chromium is run as a command (``--print-to-pdf``) on a temporary file with a profile of its own,
its own header and footer turned off (the report's page margins carry the TLP label), and every
host name resolving to nowhere: the document is self-contained and must stay so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 120.0


class PdfError(RuntimeError):
    """Chromium is missing, or did not print the report."""


def find_chromium() -> Path:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise PdfError("no Chromium to print PDF with: install Debian's chromium package")


def html_to_pdf(html: str, *, chromium: Path | None = None, timeout: float = TIMEOUT_S) -> bytes:
    binary = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="cyberpeace-report-") as directory:
        page, out = Path(directory) / "report.html", Path(directory) / "report.pdf"
        page.write_text(html, "utf-8")
        command = [
            str(binary),
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={Path(directory) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox itself as root
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print the report within {timeout:.0f} s") from None
        except OSError as exc:
            raise PdfError(f"cannot run {binary}: {exc}") from None
        printed = out.read_bytes() if out.exists() else b""
        if done.returncode != 0 or not printed.startswith(b"%PDF-"):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfError(f"Chromium failed to print (exit {done.returncode}): {' | '.join(tail)}")
        return printed
