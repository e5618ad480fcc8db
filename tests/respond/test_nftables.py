"""The nftables enforcer against real packets in network namespaces this test builds.

Attack packets from the source seen attacking are dropped at the router (the safe area's edge);
the legitimate client and the attacker's other, unseen address get through; expiry removes the
element, and then the attacker gets through again. Counts come from nft counters in the victim
namespace, i.e. packets that actually arrived.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cyberpeace.mission import Mandate
from cyberpeace.respond import Action, NftablesEnforcer, NotifyEnforcer, reconcile, respond
from cyberpeace.respond.enforcers.blocklist import BlocklistEnforcer
from cyberpeace.respond.lifecycle import expire_due
from cyberpeace.store import Store
from cyberpeace.store.tables import ActionRow, MessageRow

from .conftest import context, flood, stored
from .netns import ATTACKER, ATTACKER_2, LEGIT, VICTIM, Network

COUNT = 200


def test_planned_edge_filter_drops_the_attack_and_passes_the_rest(
    network: Network, sqlite_store: Store, demo_mandate: Mandate, tmp_path: object
) -> None:
    edge = NftablesEnforcer(netns=network.ns("router"))
    enforcers = {
        "nftables": edge,
        "notify": NotifyEnforcer(sqlite_store),
        "blocklist": BlocklistEnforcer(Path(str(tmp_path)) / "feed"),
    }
    now = datetime.now(UTC)
    attack = stored(sqlite_store, flood([(ATTACKER, "borduria")], end=now))
    with sqlite_store.session() as session:
        outcome = respond(session, [attack], context(demo_mandate, now))
        action_id = next(r.id for r in outcome.created if r.kind == "edge-filter")
    done = reconcile(sqlite_store, enforcers, now)
    assert action_id in done.applied
    assert not done.failed
    with sqlite_store.session() as session:
        message = session.scalars(select(MessageRow)).one()
        assert message.kind == "due-diligence-request"
        assert message.to_party_id == "borduria"
        assert ATTACKER in message.body
    assert reconcile(sqlite_store, enforcers, now).applied == []  # nothing more to do
    network.send_udp("attacker", COUNT, sport=4444)
    network.send_udp("attacker", COUNT, sport=4444, source=ATTACKER_2)
    network.send_udp("legit", COUNT, sport=5555)
    got = network.received()
    assert got[ATTACKER] == 0
    assert got[ATTACKER_2] == COUNT
    assert got[LEGIT] == COUNT
    assert edge.counters()["cyberpeace:src_dst4"] == COUNT
    element = edge.elements("src_dst4")[0]["elem"]
    assert element["val"]["concat"] == [ATTACKER, VICTIM]
    assert 0 < element["expires"] <= 1800

    # Applying again changes nothing: still one element, one rule.
    with sqlite_store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        assert row.status == "applied"
        assert row.in_force
        row.next_attempt_at = now
    reconcile(sqlite_store, enforcers, now)
    assert len(edge.elements("src_dst4")) == 1
    assert list(edge.counters()).count("cyberpeace:src_dst4") == 1

    later = now + timedelta(hours=2)
    with sqlite_store.session() as session:
        assert action_id in {r.id for r in expire_due(session, later)}
    assert action_id in reconcile(sqlite_store, enforcers, later).removed
    assert edge.elements("src_dst4") == []
    network.send_udp("attacker", COUNT, sport=4444)
    assert network.received()[ATTACKER] == COUNT


def test_reflection_rule_drops_amplifier_ports_only(network: Network) -> None:
    edge = NftablesEnforcer(netns=network.ns("router"))
    action = Action(
        1,
        "edge-filter",
        VICTIM,
        {
            "match": "reflection",
            "protocol": "udp",
            "source_ports": [53, 123],
            "destination": VICTIM,
        },
        datetime.now(UTC) + timedelta(minutes=5),
    )
    edge.apply(action)
    network.send_udp("attacker", COUNT, sport=53)
    network.send_udp("attacker", COUNT, sport=123, source=ATTACKER_2)
    network.send_udp("legit", COUNT, sport=40000)
    got = network.received()
    assert got[ATTACKER] == 0
    assert got[ATTACKER_2] == 0
    assert got[LEGIT] == COUNT
    edge.remove(action)
    edge.remove(action)  # idempotent
    assert edge.elements("reflect4") == []


def test_rate_limit_rule_caps_the_attack(network: Network) -> None:
    edge = NftablesEnforcer(netns=network.ns("router"))
    action = Action(
        7,
        "edge-rate-limit",
        VICTIM,
        {
            "destination": VICTIM,
            "protocol": "udp",
            "source_ports": [4444],
            "rate_pps": 10,
        },
        datetime.now(UTC) + timedelta(minutes=5),
    )
    edge.apply(action)
    edge.apply(action)
    assert list(edge.counters()).count("cyberpeace:action:7") == 1
    network.send_udp("attacker", COUNT, sport=4444)  # 1000 pps for 0.2 s
    network.send_udp("legit", COUNT, sport=5555)
    got = network.received()
    assert got[ATTACKER] < COUNT // 4
    assert got[LEGIT] == COUNT
    edge.remove(action)
    assert "cyberpeace:action:7" not in edge.counters()


def test_the_kernel_expires_an_element_by_itself(network: Network) -> None:
    edge = NftablesEnforcer(netns=network.ns("router"))
    action = Action(
        2,
        "edge-filter",
        VICTIM,
        {
            "match": "sources",
            "sources": [ATTACKER],
            "destination": VICTIM,
        },
        datetime.now(UTC) + timedelta(seconds=2),
    )
    edge.apply(action)
    assert len(edge.elements("src_dst4")) == 1
    time.sleep(3)
    assert edge.elements("src_dst4") == []
    network.send_udp("attacker", 20, sport=4444)
    assert network.received()[ATTACKER] == 20


class _Refusing:
    """A second edge enforcer that always fails (a test double: a router that refuses), to show
    that the part nftables applied is undone rather than left half-applied."""

    name = "zz-refusing"
    kinds = frozenset({"edge-filter"})

    def apply(self, action: Action) -> object:
        raise ConnectionRefusedError("router 192.0.2.1:179 refused the connection")

    def remove(self, action: Action) -> None:
        return None


def test_unreachable_enforcer_fails_retries_with_back_off_and_alerts(
    network: Network, sqlite_store: Store, demo_mandate: Mandate
) -> None:
    now = datetime.now(UTC)
    attack = stored(sqlite_store, flood([(ATTACKER, "borduria")], end=now))
    with sqlite_store.session() as session:
        outcome = respond(session, [attack], context(demo_mandate, now))
        action_id = next(r.id for r in outcome.created if r.kind == "edge-filter")
    gone = {"nftables": NftablesEnforcer(netns="cp-no-such-namespace")}
    alerts = []
    done = reconcile(sqlite_store, gone, now, alert=alerts.append)
    assert action_id in done.failed
    assert alerts
    assert alerts[0].action_id == action_id
    with sqlite_store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        assert row.status == "failed"
        assert not row.in_force
        assert "network namespace" in (row.last_error or "")
        assert row.attempts == 1
        assert row.next_attempt_at == now + timedelta(seconds=5)
    assert action_id not in reconcile(sqlite_store, gone, now + timedelta(seconds=4)).failed
    reconcile(sqlite_store, gone, now + timedelta(seconds=5), alert=alerts.append)
    with sqlite_store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        assert row.attempts == 2
        assert row.next_attempt_at == now + timedelta(seconds=15)  # 5 s, then 10 s
    # The namespace appears, one enforcer still refuses: what nftables put in is taken out.
    edge = NftablesEnforcer(netns=network.ns("router"))
    half = {"nftables": edge, "zz-refusing": _Refusing()}
    done = reconcile(sqlite_store, half, now + timedelta(seconds=15), alert=alerts.append)  # type: ignore[arg-type]
    assert action_id in done.failed
    assert edge.elements("src_dst4") == []
    with sqlite_store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        assert "partial apply was undone" in (row.last_error or "")
    done = reconcile(sqlite_store, {"nftables": edge}, now + timedelta(seconds=35))
    assert action_id in done.applied
    assert len(edge.elements("src_dst4")) == 1


def test_blocklist_feed_files(tmp_path: object, sqlite_store: Store, demo_mandate: Mandate) -> None:
    import json

    directory = Path(str(tmp_path)) / "feed"
    enforcer = BlocklistEnforcer(directory)
    action = Action(
        3,
        "blocklist",
        VICTIM,
        {
            "entries": [
                {"value": ATTACKER, "type": "ipv4-addr", "party": "borduria"},
                {"value": "2001:db8:b000::7", "type": "ipv6-addr", "party": "borduria"},
            ],
            "tlp": "TLP:GREEN",
        },
        datetime.now(UTC) + timedelta(hours=1),
    )
    enforcer.apply(action)
    enforcer.apply(action)
    text = (directory / "blocklist.txt").read_text().splitlines()
    assert text[1:] == ["198.19.77.1", "2001:db8:b000::7"]
    assert (directory / "blocklist.csv").read_text().count("\n") == 3
    bundle = json.loads((directory / "blocklist.stix.json").read_text())
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert {i["pattern"] for i in indicators} == {
        "[ipv4-addr:value = '198.19.77.1']",
        "[ipv6-addr:value = '2001:db8:b000::7']",
    }
    assert all(
        i["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
        for i in indicators
    )
    enforcer.remove(action)
    assert (directory / "blocklist.txt").read_text().splitlines()[1:] == []
