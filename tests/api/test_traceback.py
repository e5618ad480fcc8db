"""A detection's traceback is stored with it, kept up to date, and shown by the API and the
incident page; a detection without one says so (null) rather than inventing it."""

from __future__ import annotations

from datetime import timedelta

from cyberpeace.detect.detection import Traceback, TracedSource
from cyberpeace.store import Store, file_detection
from cyberpeace.store.detections import add_detection, update_detection
from tests.api.conftest import API, T0, Seed, TestClient, Tokens, detection

TRACED = Traceback(
    sources=[
        TracedSource(
            address="198.19.77.1", asn=64500, party="borduria", country="BD", role="reflector"
        ),
        TracedSource(address="192.0.2.7", role="source", special_purpose="192.0.2.0/24"),
    ],
    distinct_sources=412,
    special_purpose_share=0.125,
    spoofing_signs=["sources in special-purpose space that no party claims"],
    reflectors=True,
    explanation="412 NTP servers answered requests carrying the hospital's address.",
)


def test_the_traceback_is_stored_updated_and_shown(
    client: TestClient, store: Store, seeded: Seed, tokens: Tokens, staff: dict[str, str]
) -> None:
    found = detection("198.18.10.9", "arcadia", "arcadia-central-hospital", T0 + timedelta(days=1))
    with store.session() as session:
        row = add_detection(session, found.model_copy(update={"traceback": TRACED}))
        incident = file_detection(session, row, tlp="TLP:AMBER")
        assert incident is not None
        ids = (row.id, incident.id)
    body = client.get(f"{API}/detections/{ids[0]}", headers=staff).json()
    assert body["traceback"] == TRACED.model_dump()
    assert body["traceback"]["sources"][0] == {
        "address": "198.19.77.1",
        "asn": 64500,
        "party": "borduria",
        "country": "BD",
        "role": "reflector",
        "special_purpose": None,
    }
    client.cookies.set("cyberpeace_token", tokens.staff)
    page = client.get(f"/incidents/{ids[1]}").text
    for words in (
        "<h4>Traceback</h4>",
        "412 NTP servers answered",
        "the sources are reflectors (abused servers), not the origin",
        "12.5% of the bytes from special-purpose space",
        "<td>AS64500</td><td>borduria</td><td>BD</td><td>reflector</td>",
        "<li>sources in special-purpose space that no party claims</li>",
    ):
        assert words in page, words

    later = TRACED.model_copy(update={"distinct_sources": 900, "reflectors": False})
    with store.session() as session:
        update_detection(session, ids[0], found.model_copy(update={"traceback": later}))
    again = client.get(f"{API}/detections/{ids[0]}", headers=staff).json()["traceback"]
    assert again["distinct_sources"] == 900
    assert again["reflectors"] is False
    assert "the origin as far as the flows show" in client.get(f"/incidents/{ids[1]}").text


def test_a_detection_without_a_traceback_has_none(
    client: TestClient, seeded: Seed, staff: dict[str, str]
) -> None:
    body = client.get(f"{API}/detections/{seeded.det_hospital}", headers=staff).json()
    assert body["traceback"] is None
