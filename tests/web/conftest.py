"""The console served for real: uvicorn in a thread on loopback, and a headless Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

from cyberpeace.app import create_app
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.store import Store, open_store
from tests.conftest import EXAMPLES
from tests.web.seed import Seeded, seed_console

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Console:
    """A running console: where it answers and what it holds."""

    base_url: str
    seeded: Seeded
    store: Store


def console_app(directory: Path, mandate: Mandate) -> tuple[FastAPI, Store, Seeded]:
    """The real application on a fresh SQLite store seeded with realistic data."""
    url = f"sqlite:///{directory / 'console.db'}"
    store = open_store(url)
    seeded = seed_console(store, mandate)
    settings = Settings(
        data_dir=directory, database_url=url, mandate=EXAMPLES / "demo.yaml", action_sweep_seconds=0
    )
    return create_app(settings, store), store, seeded


@dataclass
class ServerThread:
    """uvicorn on an already bound loopback socket, run in a daemon thread."""

    app: FastAPI
    server: uvicorn.Server = field(init=False)
    thread: threading.Thread = field(init=False)
    port: int = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, demo_mandate: Mandate) -> Iterator[Console]:
    """The console served on 127.0.0.1 with a free port, for the whole test module."""
    app, store, seeded = console_app(tmp_path_factory.mktemp("console"), demo_mandate)
    try:
        with ServerThread(app) as base_url:
            yield Console(base_url, seeded, store)
    finally:
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright; skipped when absent unless required (as in CI)."""
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("CYBERPEACE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watched:
    """A page in a fresh 1280x900 context, with every request, console error and failure seen.

    Requests for anything but the console are aborted (the test must not reach the network)
    and recorded, so a page that needs an outside asset fails ``assert_clean``.
    """

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    failures: list[str] = field(default_factory=list)
    refused_pages: dict[str, int] = field(default_factory=dict)  # path -> HTTP status >= 400

    def goto(self, path: str) -> Response:
        response = self.page.goto(self.base_url + path)
        assert response is not None
        return response

    def sign_in(self, token: str) -> Response | None:
        self.goto("/login")
        self.page.fill("#token", token)
        with self.page.expect_navigation() as navigation:
            self.page.click("button[type=submit]")
        return navigation.value

    def assert_clean(self, refused: dict[str, int] | None = None) -> None:
        """Only the console was asked, nothing failed, nothing was logged as an error.

        ``refused`` names the pages the test expects an error status for (path -> status);
        Chromium logs those as console errors, which are expected too, and only those.
        """
        refused = refused or {}
        assert self.requests, "the page made no requests at all"
        outside = [url for url in self.requests if not url.startswith(self.base_url + "/")]
        assert outside == [], f"requests left the console: {outside}"
        assert self.refused_pages == refused
        expected = {
            (f"Failed to load resource: the server responded with a status of {status}", path)
            for path, status in refused.items()
        }
        errors = [
            f"{text} ({url})"
            for text, url in self.console_errors
            if not any(
                text.startswith(prefix) and url == self.base_url + path for prefix, path in expected
            )
        ]
        assert errors == []
        assert self.failures == []


def _watch(page: Page, base_url: str) -> Watched:
    watched = Watched(page, base_url)

    def route(route: Route) -> None:
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append((message.text, message.location.get("url", "")))

    def on_failed(request: Request) -> None:
        # ERR_ABORTED is the browser cancelling a fetch because the page navigated away (a
        # favicon still loading when a form posts); what the server answered is checked above.
        if request.failure != "net::ERR_ABORTED":
            watched.failures.append(f"{request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            watched.refused_pages[response.url.removeprefix(base_url)] = response.status
        else:
            watched.failures.append(f"{response.url}: HTTP {response.status}")

    page.route("**/*", route)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return watched


@pytest.fixture
def watched(browser: Browser, console: Console) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on the running console."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield _watch(context.new_page(), console.base_url)
    finally:
        context.close()
