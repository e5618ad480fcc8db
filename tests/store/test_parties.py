"""Parties and safe areas: loaded from the mandate, idempotently, and read through a viewer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from cyberpeace.mission import Mandate
from cyberpeace.store import (
    SYSTEM,
    Forbidden,
    NotFound,
    Store,
    Viewer,
    audit,
    get_party,
    get_safe_area,
    list_parties,
    list_safe_areas,
    sync_mandate,
)
from cyberpeace.store.tables import AuditRow, PartyRow, SafeAreaRow

ARCADIA = Viewer("party", party_id="arcadia", name="party:arcadia")
BORDURIA = Viewer("party", party_id="borduria", name="party:borduria")
CALVINIA = Viewer("party", party_id="calvinia", name="party:calvinia")
STAFF = Viewer("staff", name="staff:1")
AREAS = {
    "arcadia-central-hospital": ("arcadia", "health"),
    "arcadia-election-commission": ("arcadia", "elections"),
    "borduria-power-utility": ("borduria", "energy"),
}


def _snapshot(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.session() as session:
        parties = [
            (p.id, p.name, p.country, p.contact, p.territory)
            for p in session.scalars(select(PartyRow).order_by(PartyRow.id))
        ]
        areas = [
            (a.id, a.party_id, a.name, a.sector, a.criticality, a.prefixes, a.hosts, a.domains)
            for a in session.scalars(select(SafeAreaRow).order_by(SafeAreaRow.id))
        ]
    return parties, areas


def test_sync_loads_the_mandate(store: Store) -> None:
    parties, areas = _snapshot(store)
    assert [p[0] for p in parties] == ["arcadia", "borduria", "calvinia"]
    assert [(a[0], a[1], a[3]) for a in areas] == [(k, *v) for k, v in sorted(AREAS.items())]
    arcadia = parties[0]
    assert arcadia[1:3] == ("Republic of Arcadia", "XA")
    assert arcadia[3]["email"] == "cert@arcadia.example"
    assert "198.18.0.0/16" in arcadia[4]["prefixes"]
    power = areas[2]
    assert power[0] == "borduria-power-utility"
    assert power[4] == "critical"
    assert power[5] == ["198.19.30.0/24", "2001:db8:b030::/48"]
    assert power[7] == ["power.borduria.example"]
    with store.session() as session:
        (entry,) = audit.entries(session, subject="mission:demo-mission")
    assert (entry.actor, entry.action) == ("system", "mandate.load")
    assert json.loads(entry.detail) == {"mission": "demo-mission", "parties": 3, "safe_areas": 3}


def test_sync_is_idempotent(store: Store, demo_mandate: Mandate) -> None:
    before = _snapshot(store)
    with store.session() as session:
        sync_mandate(session, demo_mandate, by="cli")
    assert _snapshot(store) == before
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(PartyRow)) == 3
        assert session.scalar(select(func.count()).select_from(SafeAreaRow)) == 3
        loads = audit.entries(session, subject="mission:demo-mission")
        assert [(e.actor, e.action) for e in loads] == [
            ("system", "mandate.load"),
            ("cli", "mandate.load"),
        ]
        assert audit.verify(session).ok


def test_sync_updates_changed_parties(store: Store, demo_mandate: Mandate) -> None:
    parties = [
        p.model_copy(update={"name": "Calvinian Federation"}) if p.id == "calvinia" else p
        for p in demo_mandate.parties
    ]
    renamed = demo_mandate.model_copy(update={"parties": parties})
    with store.session() as session:
        sync_mandate(session, renamed)
    with store.session() as session:
        assert get_party(session, STAFF, "calvinia").name == "Calvinian Federation"
        assert session.scalar(select(func.count()).select_from(PartyRow)) == 3
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 2


def test_staff_sees_every_party_and_area(store: Store) -> None:
    with store.session() as session:
        assert [p.id for p in list_parties(session, STAFF)] == ["arcadia", "borduria", "calvinia"]
        assert [p.id for p in list_parties(session, SYSTEM)] == ["arcadia", "borduria", "calvinia"]
        areas = list_safe_areas(session, STAFF)
        assert [(a.party_id, a.id) for a in areas] == [
            ("arcadia", "arcadia-central-hospital"),
            ("arcadia", "arcadia-election-commission"),
            ("borduria", "borduria-power-utility"),
        ]
        assert [a.id for a in list_safe_areas(session, STAFF, party="borduria")] == [
            "borduria-power-utility"
        ]
        assert list_safe_areas(session, STAFF, party="calvinia") == []
        for party_id in ("arcadia", "borduria", "calvinia"):
            assert get_party(session, STAFF, party_id).id == party_id
        for area_id, (party_id, _) in AREAS.items():
            assert get_safe_area(session, STAFF, area_id).party_id == party_id


def test_party_sees_only_itself(store: Store) -> None:
    with store.session() as session:
        assert [p.id for p in list_parties(session, ARCADIA)] == ["arcadia"]
        assert [p.id for p in list_parties(session, CALVINIA)] == ["calvinia"]
        assert [a.id for a in list_safe_areas(session, ARCADIA)] == [
            "arcadia-central-hospital",
            "arcadia-election-commission",
        ]
        assert [a.id for a in list_safe_areas(session, BORDURIA)] == ["borduria-power-utility"]
        assert list_safe_areas(session, CALVINIA) == []
        # Filtering for someone else's areas shows nothing rather than their areas.
        assert list_safe_areas(session, ARCADIA, party="borduria") == []
        assert get_party(session, ARCADIA, "arcadia").name == "Republic of Arcadia"
        assert get_safe_area(session, BORDURIA, "borduria-power-utility").sector == "energy"


@pytest.mark.parametrize(
    ("viewer", "party_id"),
    [(ARCADIA, "borduria"), (BORDURIA, "calvinia"), (CALVINIA, "arcadia")],
)
def test_another_party_is_forbidden(store: Store, viewer: Viewer, party_id: str) -> None:
    with store.session() as session, pytest.raises(Forbidden, match=party_id):
        get_party(session, viewer, party_id)


@pytest.mark.parametrize(
    ("viewer", "area_id"),
    [
        (BORDURIA, "arcadia-central-hospital"),
        (CALVINIA, "arcadia-election-commission"),
        (ARCADIA, "borduria-power-utility"),
    ],
)
def test_another_partys_safe_area_is_forbidden(store: Store, viewer: Viewer, area_id: str) -> None:
    with store.session() as session, pytest.raises(Forbidden, match=area_id):
        get_safe_area(session, viewer, area_id)


@pytest.mark.parametrize("viewer", [STAFF, ARCADIA])
def test_missing_party_and_area_are_not_found(store: Store, viewer: Viewer) -> None:
    with store.session() as session:
        with pytest.raises(NotFound, match="atlantis"):
            get_party(session, viewer, "atlantis")
        with pytest.raises(NotFound, match="atlantis-harbour"):
            get_safe_area(session, viewer, "atlantis-harbour")
