"""Responding as detections arrive (the sensor's ``--respond``), against a real edge.

A live episode reported twelve times as it grows (new sources joining) becomes one edge filter
in force in the router namespace, widened as sources joined, with real packets from the seen
sources dropped and the legitimate client's passing; the human-gated actions wait, one each.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.cli import app as cli
from cyberpeace.config import Settings
from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.mission import Mandate
from cyberpeace.respond import NftablesEnforcer
from cyberpeace.respond.auto import AutoResponder
from cyberpeace.respond.sweeper import Sweeper
from cyberpeace.store import DetectionRecorder, Store
from cyberpeace.store.tables import ActionRow, DetectionRow

from .conftest import EXAMPLES, flood
from .netns import ATTACKER, ATTACKER_2, LEGIT, Network

COUNT = 100


def test_a_growing_live_episode_becomes_one_edge_filter_in_force(
    network: Network, sqlite_store: Store, settings: Settings, demo_mandate: Mandate
) -> None:
    edge = NftablesEnforcer(netns=network.ns("router"))
    sweeper = Sweeper(sqlite_store, settings, 60, enforcers={"nftables": edge})
    responder = AutoResponder(DetectionRecorder(sqlite_store), sqlite_store, demo_mandate, sweeper)
    for update in range(12):
        sources = [(ATTACKER, "borduria")]
        sources += [(f"198.19.78.{n + 1}", "borduria") for n in range(update)]
        if update == 11:
            sources.append((ATTACKER_2, "borduria"))  # joins late: the filter widens
        detection = flood(sources, end=datetime.now(UTC))
        responder([DetectionUpdate(episode=7, detection=detection, new=update == 0)])

    with sqlite_store.session() as session:
        assert len(session.scalars(select(DetectionRow)).all()) == 1
        actions = session.scalars(select(ActionRow)).all()
    kinds = sorted(a.kind for a in actions)
    assert kinds == sorted(set(kinds)), f"one action per kind, not a flood: {kinds}"
    edge_filter = next(a for a in actions if a.kind == "edge-filter")
    assert edge_filter.status == "applied"
    assert edge_filter.in_force
    matched = [ipaddress.ip_network(s) for s in edge_filter.parameters["sources"]]
    seen = [ATTACKER, ATTACKER_2, *(f"198.19.78.{n + 1}" for n in range(11))]
    assert all(any(ipaddress.ip_address(a) in net for net in matched) for a in seen)
    assert sum(net.num_addresses for net in matched) == len(seen)  # nothing unseen
    assert len(edge.elements("src_dst4")) == len(matched)
    flowspec = next(a for a in actions if a.kind == "flowspec")
    assert flowspec.status == "proposed"  # upstream: waits for a human, grown meanwhile
    assert sum(ipaddress.ip_network(s).num_addresses for s in flowspec.parameters["sources"]) == 13
    assert len(responder.outcomes) == 12
    assert sum(len(o.created) for o in responder.outcomes) == len(actions)

    network.send_udp("attacker", COUNT, sport=4444)
    network.send_udp("attacker", COUNT, sport=4444, source=ATTACKER_2)
    network.send_udp("legit", COUNT, sport=5555)
    got = network.received()
    assert got[ATTACKER] == 0
    assert got[ATTACKER_2] == 0
    assert got[LEGIT] == COUNT


def test_sensor_respond_needs_the_mandate(tmp_path: Path) -> None:
    listen = ["--listen", "udp://127.0.0.1:0", "--data-dir", str(tmp_path)]
    refused = CliRunner().invoke(cli, ["sensor", *listen, "--respond"])
    assert refused.exit_code == 2
    assert "--respond needs --detect and the mandate" in refused.output
    mandate = str(EXAMPLES / "demo.yaml")
    blind = CliRunner().invoke(
        cli, ["sensor", *listen, "--mandate", mandate, "--no-detect", "--respond"]
    )
    assert blind.exit_code == 2
