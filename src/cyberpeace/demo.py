"""The demo mission: three fictional states, a ten-minute scenario, detections and incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from cyberpeace.config import Settings
from cyberpeace.detect import detect
from cyberpeace.detect.watch import Watch
from cyberpeace.mission import load_mandate
from cyberpeace.store import (
    SYSTEM,
    add_detection,
    assess_incident,
    audit,
    create_token,
    file_detection,
    list_incidents,
    open_store,
    sync_mandate,
)
from cyberpeace.store.early_warning import warn_of
from cyberpeace.telemetry.scenario import demo_scenario

DEMO_DB = "cyberpeace.db"


@dataclass(frozen=True)
class DemoResult:
    settings: Settings
    flows: int
    detections: int
    incidents: list[tuple[int, str, str, str]]  # id, title, severity, status
    staff_token: str


def demo_mandate_path() -> Path:
    return Path(str(resources.files("cyberpeace.mission").joinpath("examples/demo.yaml")))


class NotADemoStoreError(RuntimeError):
    """The data directory holds a case store the demo did not make; the demo will not wipe it."""


def demo_settings(base: Settings) -> Settings:
    """The demo uses the SQLite store of the data directory, made anew on each run."""
    url = f"sqlite:///{(base.data_dir / DEMO_DB).resolve()}"
    return base.model_copy(update={"database_url": url, "mandate": demo_mandate_path()})


def run_demo(base: Settings, *, now: datetime | None = None) -> DemoResult:
    """Build the demo mission in a fresh store and run its scenario into incidents."""
    settings = demo_settings(base)
    _refuse_foreign_store(settings.data_dir / DEMO_DB)
    for suffix in ("", "-wal", "-shm"):
        (settings.data_dir / (DEMO_DB + suffix)).unlink(missing_ok=True)
    mandate = load_mandate(demo_mandate_path())
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    scenario = demo_scenario(end - timedelta(minutes=10))
    watch = Watch.of(mandate)
    detections = detect(
        scenario.flows,
        watch.borders,
        allow_list=watch.allow_list,
        criticality=watch.criticality,
    )
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            sync_mandate(session, mandate, by="demo")
            for detection in detections:
                row = add_detection(session, detection, sensor=None)
                incident = file_detection(session, row, tlp=mandate.data_policy.default_tlp)
                warn_of(session, row, incident)
            token = create_token(session, party_id=None, label="demo", by="demo")
        with store.session() as session:
            # Each incident assessed as its detections show it; analysts add what traffic cannot.
            for incident in list_incidents(session, SYSTEM):
                assess_incident(session, SYSTEM, incident.id, mandate=mandate)
        with store.session() as session:
            incidents = [
                (i.id, i.title, i.severity, i.status) for i in list_incidents(session, SYSTEM)
            ]
    finally:
        store.close()
    return DemoResult(settings, len(scenario.flows), len(detections), incidents, token)


def _refuse_foreign_store(path: Path) -> None:
    if not path.exists():
        return
    store = open_store(f"sqlite:///{path.resolve()}", migrate_schema=False)
    try:
        with store.session() as session:
            first = audit.entries(session, limit=1)
    except SQLAlchemyError:
        first = []
    finally:
        store.close()
    if not first or first[0].actor != "demo":
        raise NotADemoStoreError(
            f"{path} holds a case store the demo did not create; "
            "run the demo with --data-dir pointing at another directory"
        )
