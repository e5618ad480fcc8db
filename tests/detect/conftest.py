from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cyberpeace.detect import criticality_of
from cyberpeace.mission import Borders, Mandate
from cyberpeace.telemetry import Scenario, demo_scenario

DEMO_START = datetime(2026, 9, 15, 11, 55, tzinfo=UTC)


@pytest.fixture(scope="session")
def borders(demo_mandate: Mandate) -> Borders:
    return Borders.from_mandate(demo_mandate)


@pytest.fixture(scope="session")
def allow_list(demo_mandate: Mandate) -> list[str]:
    return [entry.prefix for entry in demo_mandate.allow_list]


@pytest.fixture(scope="session")
def criticality(demo_mandate: Mandate) -> dict[str, str]:
    return criticality_of(demo_mandate)


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return demo_scenario(DEMO_START)
