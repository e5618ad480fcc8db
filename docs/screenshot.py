"""Screenshots of the console for the docs: docs/console-dashboard.png and console-incident.png.

Run from the repository root with ``.venv/bin/python docs/screenshot.py``. It builds the demo
mission in a temporary directory (``cyberpeace.demo.run_demo``, or the web tests' seed data
while the demo cannot run), serves it on a free loopback port, signs in as mission staff in
Debian's headless Chromium and saves both pages at 1280x900, full length.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, ServerThread  # noqa: E402
from tests.web.seed import seed_console  # noqa: E402

from cyberpeace.app import create_app  # noqa: E402
from cyberpeace.config import Settings  # noqa: E402
from cyberpeace.mission import load_mandate  # noqa: E402
from cyberpeace.store import SEVERITIES, SYSTEM, list_incidents, open_store  # noqa: E402

DOCS = ROOT / "docs"
MANDATE = ROOT / "src" / "cyberpeace" / "mission" / "examples" / "demo.yaml"
VIEWPORT = {"width": 1280, "height": 900}


def build(directory: Path) -> tuple[Settings, str]:
    """A filled store in ``directory``: the settings that name it, and a staff token."""
    try:
        from cyberpeace.demo import run_demo
    except ImportError as exc:
        print(f"demo unavailable ({exc}); using the web tests' seed data", file=sys.stderr)
    else:
        result = run_demo(Settings(data_dir=directory))
        return result.settings, result.staff_token
    url = f"sqlite:///{directory / 'console.db'}"
    store = open_store(url)
    try:
        token = seed_console(store, load_mandate(MANDATE)).staff_token
    finally:
        store.close()
    return Settings(data_dir=directory, database_url=url, mandate=MANDATE), token


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, token = build(Path(tmp))
        store = open_store(settings.database_url)
        try:
            with store.session() as session:
                incidents = list_incidents(session, SYSTEM)
            if not incidents:
                sys.exit("the store holds no incident to show")
            worst = max(incidents, key=lambda i: (SEVERITIES.index(i.severity), i.last_seen))
            app = create_app(settings, store)
            with ServerThread(app) as base, sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"{base}/login")
                page.fill("#token", token)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                page.screenshot(path=str(DOCS / "console-dashboard.png"), full_page=True)
                page.goto(f"{base}/incidents/{worst.id}")
                page.screenshot(path=str(DOCS / "console-incident.png"), full_page=True)
                browser.close()
        finally:
            store.close()
    for name in ("console-dashboard.png", "console-incident.png"):
        print(DOCS / name)


if __name__ == "__main__":
    main()
