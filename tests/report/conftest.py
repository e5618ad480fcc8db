"""Fixtures for the report tests: the case file seeded on each backend, a CLI data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.store import Store, open_store
from tests.api.conftest import TestClient
from tests.report.cases import Case, seed_reports


@pytest.fixture
def case(store: Store, demo_mandate: Mandate) -> Case:
    """The case file in the parametrised store (SQLite, then the real PostgreSQL)."""
    return seed_reports(store, demo_mandate)


@pytest.fixture
def client(app: FastAPI, case: Case) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def cli_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_mandate: Mandate
) -> Iterator[Case]:
    """The case file in the SQLite store of a data directory the CLI is pointed at."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("CYBERPEACE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CYBERPEACE_MANDATE", raising=False)
    store = open_store(Settings(data_dir=data_dir).database_url)
    try:
        yield seed_reports(store, demo_mandate)
    finally:
        store.close()
