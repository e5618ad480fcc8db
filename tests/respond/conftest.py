"""Fixtures for the response path: a real SQLite store with the demo mandate, attacks in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cyberpeace.config import Settings
from cyberpeace.detect.detection import Detection, Source
from cyberpeace.mission import Mandate
from cyberpeace.respond import Attack, PlanContext
from cyberpeace.store import Store, add_detection, open_store, sync_mandate

from .netns import Network, need_tools

NOW = datetime.now(UTC).replace(microsecond=0)
VICTIM = "198.18.10.5"  # Arcadia Central Hospital (safe area)
NO_NAMESPACE = "cp-test-no-such-ns"
EXAMPLES = Path(__file__).parent.parent.parent / "src" / "cyberpeace" / "mission" / "examples"


@pytest.fixture
def network() -> Iterator[Network]:
    """Attacker, victim, legitimate client and router namespaces, torn down after the test."""
    need_tools()
    net = Network(uuid.uuid4().hex[:5])
    try:
        net.build()
        yield net
    finally:
        net.destroy()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app's settings here: nft in a namespace that does not exist, so that the edge
    filters the planner makes fail on the record instead of touching this machine's firewall,
    and no sweeper thread: each test drives enforcement itself (or starts one on purpose)."""
    return Settings(
        data_dir=tmp_path / "data",
        mandate=EXAMPLES / "demo.yaml",
        nft_netns=NO_NAMESPACE,
        action_sweep_seconds=0,
    )


@pytest.fixture
def sqlite_store(tmp_path: Path, demo_mandate: Mandate) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with opened.session() as session:
        sync_mandate(session, demo_mandate)
    yield opened
    opened.close()


def flood(
    sources: list[tuple[str, str | None]],
    *,
    kind: str = "volumetric-flood",
    target: str = VICTIM,
    end: datetime = NOW,
    peak_bps: float = 2e9,
    details: dict[str, Any] | None = None,
) -> Detection:
    share = 1 / max(1, len(sources))
    return Detection(
        detector=kind,
        kind=kind,
        target=target,
        party="arcadia",
        safe_area="arcadia-central-hospital",
        start=end - timedelta(minutes=2),
        end=end,
        severity="critical",
        confidence=0.9,
        magnitude={"peak_pps": 200_000.0, "peak_bps": peak_bps, "packets": 1e6, "bytes": 1.2e9},
        sources=[
            Source(address=a, share=share, packets=100, bytes=150_000, party=p) for a, p in sources
        ],
        explanation={
            "rules": [{"metric": "pps", "threshold": 10_000, "peak": 200_000, "required": False}],
            "details": details or {},
        },
    )


def stored(store: Store, detection: Detection) -> Attack:
    with store.session() as session:
        row = add_detection(session, detection)
        return Attack.from_detection(row)


def context(mandate: Mandate, now: datetime = NOW) -> PlanContext:
    return PlanContext.of(mandate, now)


# The API tests' token fixtures, shared with the actions API tests (app and client are global).
from tests.api.conftest import arcadia, borduria, staff, tokens  # noqa: E402, F401
