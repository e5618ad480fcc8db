"""MISP import: events written by hand and by PyMISP, malformed events refused, the rest kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent, MISPObject
from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.share.misp_event import read_bytes
from cyberpeace.share.misp_import import import_misp
from cyberpeace.store import Store
from cyberpeace.store.misp_events import MispEventRow
from cyberpeace.store.tables import IncidentRow, IndicatorRow

DATA = Path(__file__).parent / "data"
EVENT = json.loads((DATA / "misp_event.json").read_text())
SOURCE = "misp:CERT-Borduria"


def _indicators(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as session:
        rows = session.scalars(select(IndicatorRow).where(IndicatorRow.source.like("misp:%")))
        return {(row.kind, row.value): row.tlp for row in rows}


def _write(tmp_path: Path, document: Any, name: str = "events.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_an_event_becomes_indicators_and_a_reported_incident(store: Store) -> None:
    result = import_misp(store, DATA / "misp_event.json")
    assert result.refused == []
    assert result.imported == 1
    assert result.incidents == 1
    found = _indicators(store)
    assert found == {
        ("ipv4", "203.0.113.7"): "TLP:AMBER",
        ("ipv4", "203.0.113.9"): "TLP:AMBER",
        ("prefix", "192.0.2.0/28"): "TLP:AMBER",
        ("domain", "booter.example"): "TLP:AMBER",
        ("domain", "c2.booter.example"): "TLP:AMBER",
        ("url", "https://booter.example/panel?id=1"): "TLP:AMBER",
        ("hash", "d41d8cd98f00b204e9800998ecf8427e"): "TLP:AMBER",
        ("hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"): "TLP:RED",
        ("hash", "da39a3ee5e6b4b0d3255bfef95601890afd80709"): "TLP:AMBER",
        ("stix", "[autonomous-system:number = 64500]"): "TLP:AMBER",
        ("stix", "[email-message:from_ref.value = 'ops@booter.example']"): "TLP:AMBER",
        ("ipv6", "2001:db8:c000::9"): "TLP:AMBER",
    }
    # not for IDS, deleted, or of a type without an indicator: not indicators
    assert ("ipv4", "203.0.113.99") not in found
    assert ("ipv4", "203.0.113.100") not in found
    assert result.indicators == 12
    assert result.kept == 5
    with store.session() as session:
        incident = session.scalars(select(IncidentRow)).one()
        assert incident.party_id == "arcadia"  # 198.18.10.5 is in Arcadia's territory
        assert incident.title == EVENT["Event"]["info"]
        assert (incident.severity, incident.tlp) == ("high", "TLP:AMBER")
        assert incident.reported_by == SOURCE
        assert incident.first_seen.isoformat() == "2024-05-01T12:00:00+00:00"
        assert incident.last_seen.isoformat() == "2024-05-01T12:30:00+00:00"
        assert "203.0.113.7" in incident.summary
        assert "Fancy Reflector" in incident.summary
        kept = session.get(MispEventRow, EVENT["Event"]["uuid"])
        assert kept is not None
        assert kept.incident_id == incident.id
        assert "e7d705a3286e19ea42f587b344ee6865" in kept.body  # the JA3 is kept with the event
        assert 'threat-actor="Fancy Reflector"' in kept.galaxies


def test_an_event_seen_again_is_updated_only_when_newer(store: Store, tmp_path: Path) -> None:
    import_misp(store, DATA / "misp_event.json")
    again = import_misp(store, DATA / "misp_event.json")
    assert (again.unchanged, again.imported, again.incidents) == (1, 0, 0)
    newer = json.loads(json.dumps(EVENT))
    newer["Event"]["timestamp"] = "1714600000"
    newer["Event"]["info"] = "NTP and DNS reflection against the hospital"
    newer["Event"]["Attribute"].append(
        {"type": "ip-src", "value": "203.0.113.53", "to_ids": True, "category": "Network activity"}
    )
    result = import_misp(store, _write(tmp_path, newer))
    assert (result.updated, result.incidents) == (1, 0)
    with store.session() as session:
        incident = session.scalars(select(IncidentRow)).one()
        assert incident.title == "NTP and DNS reflection against the hospital"
    assert ("ipv4", "203.0.113.53") in _indicators(store)


def test_an_event_made_with_pymisp_is_imported(store: Store, tmp_path: Path) -> None:
    """PyMISP builds the event (its own ddos template) and writes its JSON; we read it."""
    event = MISPEvent()
    event.info = "SYN flood on the Bordurian power utility"
    event.threat_level_id = 2
    event.add_tag("tlp:amber+strict")
    event.add_tag('cyberpeace:victim="borduria"')
    event.add_attribute("ip-src", "203.0.113.20", to_ids=True)
    event.add_attribute("ja3-fingerprint-md5", "e7d705a3286e19ea42f587b344ee6865")
    ddos = MISPObject("ddos")
    ddos.add_attribute("ip-src", value="203.0.113.21")
    ddos.add_attribute("ip-dst", value="198.19.30.7")
    ddos.add_attribute("first-seen", value="2024-06-01T08:00:00+00:00")
    event.add_object(ddos)
    path = tmp_path / "pymisp.json"
    path.write_text(event.to_json())
    result = import_misp(store, path)
    assert result.refused == []
    assert result.incidents == 1
    found = _indicators(store)
    assert found[("ipv4", "203.0.113.20")] == "TLP:AMBER+STRICT"
    assert found[("ipv4", "203.0.113.21")] == "TLP:AMBER+STRICT"  # PyMISP: ip-src is for IDS
    with store.session() as session:
        incident = session.scalars(select(IncidentRow)).one()
        assert (incident.party_id, incident.severity) == ("borduria", "medium")
        assert incident.tlp == "TLP:AMBER+STRICT"


def test_malformed_events_are_refused_by_name_and_good_ones_kept(
    store: Store, tmp_path: Path
) -> None:
    def variant(uuid: str, **changes: Any) -> dict[str, Any]:
        body = json.loads(json.dumps(EVENT["Event"]))
        body.update(uuid=uuid, **changes)
        return {"Event": body}

    bad_ip = variant("00000000-0000-4000-8000-000000000002")
    bad_ip["Event"]["Attribute"][0]["value"] = "203.0.113.999"
    document = [
        variant("00000000-0000-4000-8000-000000000001"),
        bad_ip,
        variant("00000000-0000-4000-8000-000000000003", Tag=[{"name": "tlp:purple"}]),
        variant("not-a-uuid"),
        variant("00000000-0000-4000-8000-000000000005", info=""),
        variant("00000000-0000-4000-8000-000000000006", Attribute={"type": "ip-src"}),
        variant("00000000-0000-4000-8000-000000000007", Attribute=[{"type": "ip-src"}]),
        variant("00000000-0000-4000-8000-000000000008", threat_level_id="9"),
        variant(
            "00000000-0000-4000-8000-000000000009",
            Attribute=[{"type": "md5", "value": "abc", "to_ids": True}],
        ),
        variant(
            "00000000-0000-4000-8000-00000000000a",
            Attribute=[{"type": "ip-src", "value": "192.0.2.1", "to_ids": "yes"}],
        ),
        ["not", "an", "event"],
    ]
    result = import_misp(store, _write(tmp_path, document))
    assert result.imported == 1
    reasons = "\n".join(result.refused)
    assert len(result.refused) == 10
    for expected in [
        "event 2 00000000-0000-4000-8000-000000000002: Attribute 1 (ip-src): "
        "'203.0.113.999' is not an IP address or prefix",
        "unknown TLP tag 'tlp:purple'",
        "event 4: no valid uuid (got 'not-a-uuid')",
        "empty info",
        "Attribute is not a list",
        "Attribute 1 (ip-src): no value",
        "threat_level_id is '9', not an integer 1..4",
        "Attribute 1 (md5): 'abc' is not 32 hexadecimal digits",
        "to_ids is 'yes', not a boolean",
        'event 11: not an object with an "Event" member',
    ]:
        assert expected in reasons
    with store.session() as session:
        assert session.scalars(select(MispEventRow.uuid)).all() == [
            "00000000-0000-4000-8000-000000000001"
        ]


def test_a_feed_folder_is_read_through_its_manifest(store: Store, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    uuid = EVENT["Event"]["uuid"]
    _write(feed, EVENT, f"{uuid}.json")
    _write(feed, {uuid: {"info": "x"}, "00000000-0000-4000-8000-00000000dead": {}}, "manifest.json")
    result = import_misp(store, feed)
    assert result.imported == 1
    assert len(result.refused) == 1
    assert "00000000dead.json" in result.refused[0]


def test_the_cli_imports_and_says_what_it_refused(tmp_path: Path) -> None:
    env = {"CYBERPEACE_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    runner = CliRunner()
    result = runner.invoke(app, ["misp", "import", str(DATA / "misp_event.json")], env=env)
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    assert "12 indicators" in result.output
    assert "not filed as an incident" in result.output  # the store has no parties loaded
    junk = tmp_path / "junk.json"
    junk.write_text('{"Event": ')
    result = runner.invoke(app, ["misp", "import", str(junk)], env=env)
    assert result.exit_code == 1
    assert "not JSON" in result.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    read = read_bytes(data)
    assert len(read.events) + len(read.errors) >= 1 or data.strip() in (b"[]",)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
_keys = st.sampled_from(
    [
        "uuid",
        "info",
        "date",
        "timestamp",
        "threat_level_id",
        "analysis",
        "Tag",
        "Attribute",
        "Object",
        "Galaxy",
        "Orgc",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _json, max_size=8))
def test_events_of_random_shape_are_read_or_refused_with_a_reason(body: dict[str, Any]) -> None:
    read = read_bytes(json.dumps({"Event": body}).encode())
    assert len(read.events) + len(read.errors) == 1
    for error in read.errors:
        assert str(error).startswith("input: event")
