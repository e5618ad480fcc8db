"""MISP export: PyMISP loads it, its bundled schemas and templates accept it, we read it back."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pymisp import MISPEvent
from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.share.misp_export import export_event
from cyberpeace.share.misp_import import import_misp
from cyberpeace.store import SYSTEM, Store, Viewer, open_store, sync_mandate
from cyberpeace.store.tables import IncidentRow, IndicatorRow

from .stix_cases import make_incident

PYMISP_DATA = resources.files("pymisp") / "data"


def _json(name: str) -> Any:
    return json.loads((PYMISP_DATA / name).read_text("utf-8"))


@pytest.fixture
def exported(store: Store, demo_mandate: Mandate) -> dict[str, Any]:
    with store.session() as session:
        incident = make_incident(session)
        mission = demo_mandate.mission
        return export_event(session, SYSTEM, mission.id, mission.name, incident.id)


def test_pymisp_loads_the_event_and_its_attributes_round_trip(exported: dict[str, Any]) -> None:
    event = MISPEvent()
    event.load(json.dumps(exported))
    ours = exported["Event"]
    assert event.info == ours["info"]
    assert event.uuid == ours["uuid"]
    assert [tag.name for tag in event.tags][:2] == ["tlp:amber", 'cyberpeace:victim="arcadia"']
    loaded = {(a.type, a.value, bool(a.to_ids)) for a in event.attributes}
    assert loaded == {(a["type"], a["value"], a["to_ids"]) for a in ours["Attribute"]}
    assert ("ip-dst", "198.18.10.5", False) in loaded  # the victim, not for blocking
    assert ("ip-src", "203.0.113.7", True) in loaded
    assert ("ip-src", "2001:db8:ffff::9", True) in loaded
    assert ("domain", "evil.example", True) not in loaded  # not sighted by these detections
    assert [o.name for o in event.objects] == ["ddos", "ddos"]
    relations = {(a.object_relation, a.value) for a in event.objects[0].attributes}
    assert ("ip-dst", "198.18.10.5") in relations
    assert ("src-port", "123") in relations
    assert int(event.threat_level_id) == 1
    assert int(event.distribution) == 1
    # PyMISP's own JSON of what it loaded reads the same through our importer's reader
    again = json.loads(event.to_json())
    assert {(a["type"], a["value"]) for a in again["Attribute"]} == {
        (a["type"], a["value"]) for a in ours["Attribute"]
    }


def test_the_event_passes_the_json_schemas_bundled_with_pymisp(exported: dict[str, Any]) -> None:
    """schema.json is strict (additionalProperties false) but older than MISP objects, so it is
    checked on the event without its Object list; schema-lax.json on the whole event."""
    strict, lax = _json("schema.json"), _json("schema-lax.json")
    jsonschema.validate(exported, lax)
    without_objects = {"Event": {k: v for k, v in exported["Event"].items() if k != "Object"}}
    jsonschema.validate(without_objects, strict)
    for obj in exported["Event"]["Object"]:  # object attributes against the attribute schema
        for attribute in obj["Attribute"]:
            plain = {k: v for k, v in attribute.items() if k != "object_relation"}
            jsonschema.validate(plain, {**strict["defs"]["attribute"], "defs": strict["defs"]})


def test_types_categories_and_objects_follow_misp_own_definitions(
    exported: dict[str, Any],
) -> None:
    types = _json("describeTypes.json")["result"]
    attributes = list(exported["Event"]["Attribute"])
    for obj in exported["Event"]["Object"]:
        template = _json(f"misp-objects/objects/{obj['name']}/definition.json")
        assert (obj["template_uuid"], int(obj["template_version"])) == (
            template["uuid"],
            template["version"],
        )
        assert obj["meta-category"] == template["meta-category"]
        relations = {a["object_relation"] for a in obj["Attribute"]}
        assert relations & set(template["requiredOneOf"])
        for attribute in obj["Attribute"]:
            spec = template["attributes"][attribute["object_relation"]]
            assert attribute["type"] == spec["misp-attribute"]
            attributes.append(attribute)
        singles = [r for r, s in template["attributes"].items() if not s.get("multiple")]
        for relation in singles:
            assert [a["object_relation"] for a in obj["Attribute"]].count(relation) <= 1
    for attribute in attributes:
        assert attribute["type"] in types["types"]
        assert attribute["type"] in types["category_type_mappings"][attribute["category"]]


def test_our_import_reads_our_export_back(
    exported: dict[str, Any], tmp_path: Path, demo_mandate: Mandate
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(exported))
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    with other.session() as session:
        sync_mandate(session, demo_mandate)
    result = import_misp(other, path)
    assert result.refused == []
    assert result.incidents == 1
    source = f"misp:{demo_mandate.mission.name}"[:100]
    with other.session() as session:
        incident = session.scalars(select(IncidentRow)).one()
        assert (incident.party_id, incident.tlp, incident.severity) == (
            "arcadia",
            "TLP:AMBER",
            "high",
        )
        rows = session.scalars(select(IndicatorRow).where(IndicatorRow.source == source))
        values = {row.value: row.tlp for row in rows}
    assert values["203.0.113.7"] == "TLP:AMBER"  # the event's TLP is the most restricted
    assert "198.18.10.5" not in values  # the victim's address is no indicator
    other.close()


def test_the_cli_exports_refuses_unknown_and_forbidden_incidents(
    settings: Settings, tmp_path: Path, demo_mandate: Mandate
) -> None:
    settings.data_dir.mkdir(parents=True)
    store = open_store(settings.database_url)
    with store.session() as session:
        sync_mandate(session, demo_mandate)
        number = make_incident(session).id
    store.close()
    env = {
        "CYBERPEACE_DATA_DIR": str(settings.data_dir),
        "CYBERPEACE_MANDATE": str(settings.mandate),
    }
    out = tmp_path / "event.json"
    runner = CliRunner()
    result = runner.invoke(
        app, ["misp", "export", "--incident", str(number), "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["Event"]["info"].startswith("UDP reflection against")
    result = runner.invoke(app, ["misp", "export", "--incident", "999"], env=env)
    assert result.exit_code == 1
    assert "no incident 999" in result.output
    args = ["misp", "export", "--incident", str(number), "--party", "borduria"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "not shared with you" in result.output


def test_a_party_exports_its_own_incident(store: Store, demo_mandate: Mandate) -> None:
    with store.session() as session:
        incident = make_incident(session, tlp="TLP:RED")
        event = export_event(session, Viewer("party", "arcadia"), "m", "Mission", incident.id)[
            "Event"
        ]
    assert event["distribution"] == "0"
    assert {"name": "tlp:red"} in event["Tag"]
