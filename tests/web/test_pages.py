"""The console's pages without a browser: status codes, the session cookie, escaping."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cyberpeace.api.auth import COOKIE
from cyberpeace.mission import Mandate
from cyberpeace.store import SYSTEM, IncidentDraft, create_incident
from tests.web.conftest import Console, console_app

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather use httpx2 than httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def site(tmp_path: Path, demo_mandate: Mandate) -> Iterator[tuple[TestClient, Console]]:
    app, store, seeded = console_app(tmp_path, demo_mandate)
    try:
        with TestClient(app, follow_redirects=False) as client:
            yield client, Console(str(client.base_url), seeded, store)
    finally:
        store.close()


def _signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.set(COOKIE, token)
    return client


def test_the_sign_in_page_renders(site: tuple[TestClient, Console]) -> None:
    client, _ = site
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login">' in response.text
    assert 'name="token" type="password"' in response.text
    assert 'role="alert"' not in response.text


def test_a_wrong_token_gets_401_and_no_cookie(site: tuple[TestClient, Console]) -> None:
    client, _ = site
    response = client.post("/login", data={"token": "cp_wrong"})
    assert response.status_code == 401
    assert "That token is unknown or revoked." in response.text
    assert "set-cookie" not in response.headers


def test_a_good_token_sets_a_strict_http_only_cookie_and_goes_home(
    site: tuple[TestClient, Console],
) -> None:
    client, console = site
    response = client.post("/login", data={"token": f"  {console.seeded.staff_token}\n"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={console.seeded.staff_token};")
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    home = client.get("/")
    assert home.status_code == 200
    assert console.seeded.reflection_title in home.text
    assert "<title>Situation · cyberpeace</title>" in home.text
    assert home.text.count('id="pending-actions"') == 1


def test_pages_without_a_cookie_redirect_to_sign_in(site: tuple[TestClient, Console]) -> None:
    client, console = site
    for path in ["/", f"/incidents/{console.seeded.reflection_incident}"]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    client.cookies.set(COOKIE, "cp_revoked-or-made-up")
    assert client.get("/").headers["location"] == "/login"


def test_an_unknown_incident_is_a_404_page(site: tuple[TestClient, Console]) -> None:
    client, console = site
    response = _signed_in(client, console.seeded.staff_token).get("/incidents/999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no incident 999" in response.text


def test_another_partys_incident_is_a_403_page(site: tuple[TestClient, Console]) -> None:
    client, console = site
    path = f"/incidents/{console.seeded.reflection_incident}"
    response = _signed_in(client, console.seeded.borduria_token).get(path)
    assert response.status_code == 403
    assert "not shared with you" in response.text
    assert console.seeded.reflection_title not in response.text


def test_the_stylesheet_and_script_are_served(site: tuple[TestClient, Console]) -> None:
    client, _ = site
    css = client.get("/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".under-attack" in css.text
    js = client.get("/static/console.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]


def test_titles_are_escaped(site: tuple[TestClient, Console]) -> None:
    client, console = site
    now = datetime.now(UTC)
    draft = IncidentDraft(f"Defacement {SCRIPT}", "arcadia", "medium", now, now, "TLP:AMBER")
    with console.store.session() as session:
        incident = create_incident(session, SYSTEM, draft).id
    _signed_in(client, console.seeded.staff_token)
    for path in [f"/incidents/{incident}", "/"]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
