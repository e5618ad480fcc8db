"""The case fixture: an incident in the store, the CLI pointed at the same store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cyberpeace.investigate.case_file import Locker
from cyberpeace.store import SYSTEM, IncidentDraft, Store, create_incident
from tests.store.factories import HOSPITAL, T0


@dataclass(frozen=True)
class Case:
    data_dir: Path
    incident: int
    store: Store
    locker: Locker


@pytest.fixture
def case(store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    """An incident in the store, and the CLI pointed at the same store and data directory."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CYBERPEACE_DATABASE_URL", store_url)
    draft = IncidentDraft(
        "Reflection flood on the hospital", "arcadia", "high", T0, T0, "TLP:AMBER", HOSPITAL
    )
    with store.session() as session:
        incident = create_incident(session, SYSTEM, draft).id
    return Case(data_dir, incident, store, Locker(data_dir / "evidence"))
