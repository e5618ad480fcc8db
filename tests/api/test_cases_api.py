"""The case file and the evidence locker over HTTP, on SQLite and PostgreSQL: success,
not found, another party's case (403), and uploads that are too large or malformed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from cyberpeace.config import Settings
from cyberpeace.investigate.case_file import Locker
from cyberpeace.store import Store
from tests.api.conftest import API, Seed, TestClient, Tokens
from tests.conftest import EXAMPLES
from tests.investigate.test_evidence_export import lose_connection_at_commit

LIMIT = 64 * 1024
PCAP = b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 64
QUERY = {"source": "arcadia CERT", "method": "tcpdump on the hospital uplink", "kind": "pcap"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The usual settings, with a small upload limit to test against."""
    return Settings(
        data_dir=tmp_path / "data", mandate=EXAMPLES / "demo.yaml", evidence_max_bytes=LIMIT
    )


@pytest.fixture
def locker(settings: Settings) -> Locker:
    return Locker(settings.data_dir / "evidence")


def nothing_stored(locker: Locker) -> bool:
    tmp = list(locker.tmp.iterdir()) if locker.tmp.exists() else []
    return list(locker.object_digests()) == [] and tmp == []


def upload(
    client: TestClient, incident: int, headers: dict[str, str], body: bytes = PCAP, **query: str
) -> object:
    params = {**QUERY, "filename": "hospital.pcap", **query}
    return client.post(
        f"{API}/incidents/{incident}/evidence",
        params=params,
        content=body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_a_party_uploads_lists_and_downloads_its_own_evidence(
    client: TestClient,
    seeded: Seed,
    arcadia: dict[str, str],
    staff: dict[str, str],
    locker: Locker,
) -> None:
    made = upload(client, seeded.hospital, arcadia)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["sha256"] == hashlib.sha256(PCAP).hexdigest()
    assert (body["size"], body["collected_by"], body["kind"]) == (
        len(PCAP),
        "party:arcadia",
        "pcap",
    )
    assert locker.path_of(body["sha256"]).read_bytes() == PCAP
    listed = client.get(f"{API}/incidents/{seeded.hospital}/evidence", headers=arcadia)
    assert [e["id"] for e in listed.json()] == [body["id"]]
    got = client.get(
        f"{API}/evidence/{body['id']}/content",
        headers=arcadia,
        params={"purpose": "checking the capture"},
    )
    assert got.status_code == 200
    assert got.content == PCAP
    assert got.headers["x-content-sha256"] == body["sha256"]
    custody = client.get(f"{API}/evidence/{body['id']}/custody", headers=staff).json()
    assert [(c["action"], c["actor"]) for c in custody] == [
        ("evidence.collect", "party:arcadia"),
        ("evidence.access", "party:arcadia"),
    ]
    assert "checking the capture" in custody[1]["detail"]
    moved = client.post(
        f"{API}/evidence/{body['id']}/transfer",
        headers=staff,
        json={"to": "legal-officer", "reason": "for the verification report"},
    )
    assert moved.status_code == 200
    refused = client.post(
        f"{API}/evidence/{body['id']}/transfer",
        headers=arcadia,
        json={"to": "me", "reason": "mine"},
    )
    assert refused.status_code == 403
    assert client.get(f"{API}/audit/verify", headers=staff).json()["ok"] is True


def test_a_multipart_upload_is_stored_with_its_file_name(
    client: TestClient, seeded: Seed, staff: dict[str, str]
) -> None:
    made = client.post(
        f"{API}/incidents/{seeded.power}/evidence",
        params=QUERY,
        headers=staff,
        files={"file": ("grid.log", b"line one\nline two\n", "text/plain")},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["filename"], made.json()["media_type"]) == ("grid.log", "text/plain")


def test_another_partys_case_and_evidence_are_forbidden(
    client: TestClient,
    seeded: Seed,
    staff: dict[str, str],
    borduria: dict[str, str],
    locker: Locker,
) -> None:
    made = upload(client, seeded.hospital, staff).json()
    before = set(locker.object_digests())
    for path in (
        f"/incidents/{seeded.hospital}/evidence",
        f"/evidence/{made['id']}",
        f"/evidence/{made['id']}/content",
        f"/evidence/{made['id']}/custody",
        f"/incidents/{seeded.hospital}/timeline",
        f"/incidents/{seeded.hospital}/notes",
        f"/incidents/{seeded.hospital}/links",
        f"/incidents/{seeded.hospital}/victims",
    ):
        response = client.get(API + path, headers=borduria)
        assert response.status_code == 403, path
    other = upload(client, seeded.hospital, borduria, body=b"planted" * 10)
    assert other.status_code == 403
    assert set(locker.object_digests()) == before
    assert client.get(f"{API}/evidence/999999", headers=staff).status_code == 404
    assert upload(client, 999999, staff).status_code == 404


def test_an_oversized_upload_is_refused_with_413_and_nothing_stored(
    client: TestClient, seeded: Seed, staff: dict[str, str], locker: Locker
) -> None:
    big = b"x" * (LIMIT + 1)
    declared = upload(client, seeded.hospital, staff, body=big)
    assert declared.status_code == 413
    assert "limit of 65,536 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(LIMIT // 4096 + 2):
            yield b"y" * 4096

    streamed = client.post(
        f"{API}/incidents/{seeded.hospital}/evidence", params=QUERY, content=chunks(), headers=staff
    )
    assert streamed.status_code == 413
    multipart = client.post(
        f"{API}/incidents/{seeded.hospital}/evidence",
        params=QUERY,
        headers=staff,
        files={"file": ("big.bin", big * 2)},
    )
    assert multipart.status_code == 413
    assert nothing_stored(locker)
    assert client.get(f"{API}/incidents/{seeded.hospital}/evidence", headers=staff).json() == []


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("empty body", 400, "empty upload"),
        ("bad kind", 422, "kind 'malware' is not one of"),
        ("no source", 422, "source"),
        ("bad media type", 422, "is not TYPE/SUBTYPE"),
        ("broken multipart", 400, ""),
        ("multipart without file", 400, "exactly one part named 'file'"),
    ],
)
def test_malformed_uploads_are_refused_and_nothing_is_half_stored(
    client: TestClient,
    seeded: Seed,
    staff: dict[str, str],
    locker: Locker,
    store: Store,
    case: str,
    code: int,
    message: str,
) -> None:
    url = f"{API}/incidents/{seeded.hospital}/evidence"
    if case == "empty body":
        response = upload(client, seeded.hospital, staff, body=b"")
    elif case == "bad kind":
        response = upload(client, seeded.hospital, staff, kind="malware")
    elif case == "no source":
        response = client.post(url, params={"method": "m"}, content=PCAP, headers=staff)
    elif case == "bad media type":
        response = upload(client, seeded.hospital, staff, media_type="pcap")
    elif case == "broken multipart":
        headers = {**staff, "Content-Type": "multipart/form-data; boundary=XYZ"}
        response = client.post(
            url,
            params=QUERY,
            headers=headers,
            content=b'--XYZ\r\nContent-Disposition: form-data; name="file"',
        )
    else:
        response = client.post(
            url, params=QUERY, headers=staff, data={"other": "x"}, files={"note": ("a.txt", b"abc")}
        )
    assert response.status_code == code, response.text
    assert message in response.text
    assert nothing_stored(locker)


def test_the_case_file_tasks_links_notes_victims_and_timeline(
    client: TestClient,
    seeded: Seed,
    staff: dict[str, str],
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    case = f"{API}/incidents/{seeded.hospital}"
    task = client.post(f"{case}/tasks", headers=staff, json={"title": "Trace the reflectors"})
    assert task.status_code == 201
    task_id = task.json()["id"]
    assert (
        client.post(
            f"{API}/tasks/{task_id}/assign", headers=staff, json={"owner": "analyst-2"}
        ).json()["owner"]
        == "analyst-2"
    )
    done = client.post(
        f"{API}/tasks/{task_id}/complete",
        headers=staff,
        json={"outcome": "412 open resolvers found"},
    )
    assert done.json()["status"] == "done"
    assert client.post(f"{API}/tasks/{task_id}/complete", headers=staff, json={}).status_code == 409
    assert client.post(f"{case}/tasks", headers=arcadia, json={"title": "mine"}).status_code == 403

    link = client.post(
        f"{case}/links",
        headers=staff,
        json={"other": seeded.elections, "kind": "part-of", "reason": "one campaign"},
    )
    assert link.status_code == 201
    assert (
        client.post(
            f"{case}/links",
            headers=staff,
            json={"other": seeded.hospital, "kind": "related", "reason": "x"},
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{case}/links",
            headers=staff,
            json={"other": seeded.power, "kind": "cousin", "reason": "x"},
        ).status_code
        == 422
    )

    assert (
        client.post(f"{case}/notes", headers=staff, json={"body": "looks like DNS"}).status_code
        == 201
    )
    assert client.post(f"{case}/notes", headers=arcadia, json={"body": "x"}).status_code == 403
    report = client.post(
        f"{case}/notes",
        headers=arcadia,
        json={"kind": "report", "body": "Our ER systems were unreachable"},
    )
    assert report.status_code == 201
    severity = client.post(
        f"{case}/severity",
        headers=staff,
        json={"severity": "high", "reason": "the hospital kept running"},
    )
    assert severity.json()["severity"] == "high"
    assert (
        client.post(
            f"{case}/status", headers=staff, json={"status": "investigating", "reason": "confirmed"}
        ).status_code
        == 200
    )

    victim = client.post(
        f"{case}/victims",
        headers=staff,
        json={"party": "borduria", "safe_area": "borduria-power-utility"},
    )
    assert victim.status_code == 201, victim.text
    assert victim.json()["sector"] == "energy"
    # Now a victim, Borduria may see the case (shared with it), but not the analyst notes.
    shown = client.get(f"{case}/timeline", headers=borduria)
    assert shown.status_code == 200
    kinds = [e["kind"] for e in shown.json()]
    assert "note" not in kinds
    assert "task" not in kinds
    full = client.get(f"{case}/timeline", headers=staff).json()
    got = {e["kind"] for e in full}
    assert {
        "opened",
        "detection",
        "task",
        "link",
        "note",
        "report",
        "status",
        "severity",
        "victim",
    } <= got
    assert [e["at"] for e in full] == sorted(e["at"] for e in full)
    assert any("412 open resolvers" in e["summary"] for e in full)


def test_a_party_reports_an_incident_only_for_itself(
    client: TestClient, seeded: Seed, arcadia: dict[str, str]
) -> None:
    body = {
        "title": "Defacement of the ministry site",
        "party": "arcadia",
        "first_seen": "2026-11-24T09:00:00Z",
        "summary": "seen by our staff",
    }
    made = client.post(f"{API}/incidents", headers=arcadia, json=body)
    assert made.status_code == 201
    timeline = client.get(f"{API}/incidents/{made.json()['id']}/timeline", headers=arcadia).json()
    assert timeline[0]["kind"] == "report"
    assert timeline[0]["actor"] == "party:arcadia"
    other = client.post(f"{API}/incidents", headers=arcadia, json={**body, "party": "borduria"})
    assert other.status_code == 403


def test_the_console_report_form_and_case_section(
    client: TestClient, seeded: Seed, tokens: Tokens, staff: dict[str, str]
) -> None:
    client.cookies.set("cyberpeace_token", tokens.arcadia)
    form = client.get("/report")
    assert form.status_code == 200
    assert 'id="report-form"' in form.text
    assert 'name="party"' not in form.text  # a party reports for itself only
    refused = client.post("/report", data={"title": "x", "first_seen": ""})
    assert refused.status_code == 422
    assert "at least 3 characters" in refused.text
    made = client.post(
        "/report",
        follow_redirects=False,
        data={
            "title": "Phishing wave at the election commission",
            "severity": "high",
            "safe_area": "arcadia-election-commission",
            "first_seen": "2026-11-24T08:30",
            "summary": "Forty staff received the same lure",
        },
    )
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert page.status_code == 200
    assert "Phishing wave at the election commission" in page.text
    assert 'id="case-file"' in page.text
    assert 'data-kind="report"' in page.text
    assert 'id="tasks"' not in page.text  # tasks are the mission's working papers
    upload(client, seeded.hospital, staff)
    client.cookies.set("cyberpeace_token", tokens.borduria)
    assert client.get(made.headers["location"]).status_code == 403
    client.cookies.set("cyberpeace_token", tokens.staff)
    hospital = client.get(f"/incidents/{seeded.hospital}")
    assert hashlib.sha256(PCAP).hexdigest()[:16] in hospital.text
    assert 'id="tasks"' in hospital.text


def test_a_lost_connection_during_an_http_upload_leaves_no_orphaned_file(
    app: FastAPI, store: Store, seeded: Seed, staff: dict[str, str], locker: Locker
) -> None:
    """The database goes away as the upload's row is committed: 500, and neither the object
    nor a temporary file stays in the locker; the next upload works."""
    lose_connection_at_commit(store)
    with TestClient(app, raise_server_exceptions=False) as client:
        lost = upload(client, seeded.hospital, staff)
        assert lost.status_code == 500
        assert nothing_stored(locker)
        again = upload(client, seeded.hospital, staff)
        assert again.status_code == 201, again.text
        assert list(locker.object_digests()) == [hashlib.sha256(PCAP).hexdigest()]
        listed = client.get(f"{API}/incidents/{seeded.hospital}/evidence", headers=staff).json()
        assert [e["sha256"] for e in listed] == [hashlib.sha256(PCAP).hexdigest()]
