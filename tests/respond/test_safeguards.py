"""Safeguards and the lifecycle on a real SQLite store: shared infrastructure held for a human,
RTBH only with two distinct approvers, time limits from the mandate, necessity, deduplication
and safe aggregation."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from cyberpeace.mission import Mandate
from cyberpeace.respond import approve, expire_due, list_actions, plan, reject, respond
from cyberpeace.respond.aggregation import aggregate
from cyberpeace.respond.legitimate import packed
from cyberpeace.store import Forbidden, InvalidTransition, Store, Viewer, audit
from cyberpeace.store.tables import ActionRow
from cyberpeace.telemetry.schema import FLOW_SCHEMA

from .conftest import NOW, VICTIM, context, flood, stored

ALICE = Viewer("staff", name="staff:1:alice")
BOB = Viewer("staff", name="staff:2:bob")
ARCADIA = Viewer("party", party_id="arcadia", name="party:arcadia")


def _by_key(rows: list[ActionRow]) -> dict[str, ActionRow]:
    return {r.dedup_key or "": r for r in rows}


def test_resolver_and_allow_listed_sources_are_held_for_a_human(
    sqlite_store: Store, demo_mandate: Mandate
) -> None:
    attack = stored(
        sqlite_store,
        flood(
            [
                ("198.19.77.1", "borduria"),
                ("8.8.8.8", None),
                ("198.18.250.3", "arcadia"),
            ]
        ),
    )
    with sqlite_store.session() as session:
        outcome = respond(session, [attack], context(demo_mandate))
        actions = _by_key(outcome.created)
        clean = actions[f"edge-filter:{VICTIM}:sources"]
        held = actions[f"edge-filter:{VICTIM}:shared-sources"]
        assert clean.status == "approved"
        assert clean.approvals_needed == 0
        assert clean.parameters["sources"] == ["198.19.77.1"]
        assert held.status == "proposed"
        assert held.approvals_needed == 1
        assert sorted(held.parameters["sources"]) == ["198.18.250.3", "8.8.8.8"]
        check = next(c for c in held.safeguards if c["name"] == "proportionality")
        assert check["needs_human"]
        assert "shared infrastructure" in check["result"]
        assert (
            "public resolver Google Public DNS" in check["inputs"]["shared_infrastructure"].values()
        )
        assert not [
            e
            for e in actions[f"blocklist:{VICTIM}:sources"].parameters["entries"]
            if e["value"] in ("8.8.8.8", "198.18.250.3")
        ]
        with pytest.raises(Forbidden):
            approve(session, ARCADIA, held.id, "looks fine", NOW)
        approve(session, ALICE, held.id, "the resolver is abused, drop it for 30 min", NOW)
        assert held.status == "approved"


def test_rtbh_needs_two_distinct_approvers(sqlite_store: Store, demo_mandate: Mandate) -> None:
    attack = stored(sqlite_store, flood([("198.19.77.1", "borduria")], peak_bps=40e9))
    with sqlite_store.session() as session:
        rtbh = _by_key(respond(session, [attack], context(demo_mandate)).created)[
            f"rtbh:{VICTIM}:victim"
        ]
        assert rtbh.status == "proposed"
        assert rtbh.approvals_needed == 2
        assert rtbh.parameters == {"prefix": f"{VICTIM}/32", "communities": ["65535:666"]}
        approve(session, ALICE, rtbh.id, "links saturated", NOW)
        assert rtbh.status == "proposed"
        with pytest.raises(InvalidTransition, match="already approved"):
            approve(session, ALICE, rtbh.id, "again", NOW)
        with pytest.raises(InvalidTransition, match="reason"):
            approve(session, BOB, rtbh.id, "  ", NOW)
        approve(session, BOB, rtbh.id, "confirmed with the hospital", NOW)
        assert rtbh.status == "approved"
        assert [a["by"] for a in rtbh.approvals or []] == [ALICE.actor, BOB.actor]
        trail = [e.action for e in audit.entries(session, subject=f"action:{rtbh.id}")]
        assert trail == ["action.propose", "action.approve", "action.approve"]


def test_no_rtbh_for_an_attack_the_links_can_carry(
    demo_mandate: Mandate, sqlite_store: Store
) -> None:
    attack = stored(sqlite_store, flood([("198.19.77.1", "borduria")], peak_bps=1e9))
    assert "rtbh" not in {p.kind for p in plan(attack, context(demo_mandate))}


def test_every_action_expires_within_the_mandates_limit(
    sqlite_store: Store, demo_mandate: Mandate
) -> None:
    attack = stored(sqlite_store, flood([("198.19.77.1", "borduria")], peak_bps=40e9))
    with sqlite_store.session() as session:
        created = respond(session, [attack], context(demo_mandate)).created
        for row in created:
            cap = demo_mandate.engagement(row.kind).max_duration  # type: ignore[union-attr]
            assert row.expires_at is not None
            assert NOW < row.expires_at <= NOW + cap
        expired = expire_due(session, NOW + timedelta(hours=1, seconds=1))
        kinds = {r.kind for r in expired}
        assert {"edge-filter", "rtbh"} <= kinds
        assert "blocklist" not in kinds
        assert all(r.status == "expired" for r in expired)
        with pytest.raises(InvalidTransition):
            reject(session, ALICE, expired[0].id, "too late", NOW)


def test_an_attack_no_longer_active_is_refused(sqlite_store: Store, demo_mandate: Mandate) -> None:
    attack = stored(
        sqlite_store, flood([("198.19.77.1", "borduria")], end=NOW - timedelta(hours=2))
    )
    with sqlite_store.session() as session:
        outcome = respond(session, [attack], context(demo_mandate))
        assert not outcome.created
        assert outcome.refused
        assert all("necessity" in " ".join(j.reasons) for _, j in outcome.refused)
        assert list_actions(session, ALICE) == []


def test_a_flood_of_detections_renews_one_action(
    sqlite_store: Store, demo_mandate: Mandate
) -> None:
    for second in range(20):
        now = NOW + timedelta(seconds=30 * second)
        sources = [("198.19.77.1", "borduria"), (f"198.19.78.{second + 1}", "borduria")]
        attack = stored(sqlite_store, flood(sources, end=now))
        with sqlite_store.session() as session:
            respond(session, [attack], context(demo_mandate, now))
    with sqlite_store.session() as session:
        edge = [r for r in list_actions(session, ALICE) if r.kind == "edge-filter"]
        assert len(edge) == 1
        assert len(edge[0].parameters["sources"]) == 21
        assert edge[0].expires_at == NOW + timedelta(seconds=30 * 19, minutes=30)
        notify = [r for r in list_actions(session, ALICE) if r.kind == "notify"]
        assert len(notify) == 1


def test_dry_run_writes_nothing(sqlite_store: Store, demo_mandate: Mandate) -> None:
    attack = stored(sqlite_store, flood([("198.19.77.1", "borduria")]))
    with sqlite_store.session() as session:
        before = len(audit.entries(session, limit=1000))
        outcome = respond(session, [attack], context(demo_mandate), dry_run=True)
        assert outcome.judged
        assert not outcome.created
        assert len(audit.entries(session, limit=1000)) == before
        assert list_actions(session, ALICE) == []


def test_aggregation_only_of_complete_prefixes_within_one_party() -> None:
    limits = {"ipv4": 24, "ipv6": 64}
    full = [f"198.19.5.{i}" for i in range(256)]
    parties = dict.fromkeys(full, "borduria")
    assert aggregate(full, parties, limits) == ["198.19.5.0/24"]
    assert len(aggregate(full[:-1], parties, limits)) > 1
    assert "198.19.5.0/24" not in aggregate(full[:-1], parties, limits)
    split = {a: ("borduria" if i < 128 else "calvinia") for i, a in enumerate(full)}
    assert sorted(aggregate(full, split, limits)) == ["198.19.5.0/25", "198.19.5.128/25"]
    assert aggregate(["198.19.5.0", "198.19.5.1"], {}, {"ipv4": 32, "ipv6": 128}) == [
        "198.19.5.0",
        "198.19.5.1",
    ]


def test_reflection_port_rule_held_when_it_would_catch_legitimate_dns(
    sqlite_store: Store, demo_mandate: Mandate
) -> None:
    mix = {"53": {"protocol": "DNS", "share": 0.97}, "123": {"protocol": "NTP", "share": 0.03}}
    attack = stored(
        sqlite_store,
        flood([("198.19.9.9", "borduria")], kind="udp-reflection", details={"amplifiers": mix}),
    )
    rows = 10
    baseline = pa.table(
        {
            "dst_addr": pa.array([packed(VICTIM)] * rows, pa.binary(16)),
            "src_addr": pa.array([packed("203.0.113.7")] * rows, pa.binary(16)),
            "protocol": pa.array([17] * 5 + [6] * 5, pa.uint8()),
            "src_port": pa.array([53] * 5 + [443] * 5, pa.uint16()),
            "bytes": pa.array([100] * 5 + [900] * 5, pa.uint64()),
            "packets": pa.array([1] * rows, pa.uint64()),
        }
    )
    assert set(baseline.column_names) <= set(FLOW_SCHEMA.names)
    with sqlite_store.session() as session:
        created = _by_key(
            respond(session, [attack], context(demo_mandate), baseline=baseline).created
        )
        edge = created[f"edge-filter:{VICTIM}:udp-sport"]
        assert edge.parameters["source_ports"] == [53, 123]
        check = next(c for c in edge.safeguards if c["name"] == "proportionality")
        assert check["inputs"]["legitimate_share"] == pytest.approx(0.1)
        assert check["needs_human"]
        assert edge.status == "proposed"
        assert created[f"notify:{VICTIM}:party:borduria"].parameters["message_kind"] == (
            "due-diligence-request"
        )


def test_renewal_keeps_one_match_per_address(sqlite_store: Store, demo_mandate: Mandate) -> None:
    """Sources already held by a prefix add nothing; a new prefix replaces the hosts it holds
    (overlapping intervals would make nft refuse the set)."""
    whole = [(f"198.19.5.{i}", "borduria") for i in range(256)]
    steps = [
        (whole, ["198.19.5.0/24"]),  # every address seen: one prefix
        ([("198.19.5.7", "borduria"), ("198.19.6.1", "borduria")], ["198.19.5.0/24", "198.19.6.1"]),
        (
            [(f"198.19.6.{i}", "borduria") for i in range(256)],
            ["198.19.5.0/24", "198.19.6.0/24"],  # 198.19.6.1 is now inside the new prefix
        ),
    ]
    for n, (sources, expected) in enumerate(steps):
        now = NOW + timedelta(seconds=30 * n)
        with sqlite_store.session() as session:
            respond(
                session, [stored(sqlite_store, flood(sources, end=now))], context(demo_mandate, now)
            )
            edge = [r for r in list_actions(session, ALICE) if r.kind == "edge-filter"]
            assert len(edge) == 1
            assert edge[0].parameters["sources"] == expected
