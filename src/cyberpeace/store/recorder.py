"""Recording a live detector's updates in the case store, one transaction per call.

A new episode becomes a detection (``add_detection``) filed into an incident
(``file_detection``: the open incident on the same target, or a new one); a grown episode
updates its detection (``update_detection``) and widens the incident that holds it. The
detection's sources and target become the incident's indicators (``correlation``), and a new
detection that is a precursor warns the party concerned (``early_warning``). Every change
goes through those functions, so each leaves its audit entry in the same transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cyberpeace.detect.detection import Detection
from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.mission import Mandate
from cyberpeace.store.database import Store
from cyberpeace.store.detections import add_detection, update_detection
from cyberpeace.store.early_warning import warn_of
from cyberpeace.store.incidents import file_detection
from cyberpeace.store.parties import sync_mandate
from cyberpeace.store.tables import DetectionRow, IncidentRow, MessageRow

if TYPE_CHECKING:  # the correlation package is built on the store: no import at run time
    from cyberpeace.correlation.correlator import Correlator

REMEMBERED = 10_000  # episodes whose detection id is kept; an older one is recorded anew


class DetectionRecorder:
    """A live detector's ``report``: stores its updates and files them into incidents."""

    def __init__(self, store: Store, *, tlp: str = "TLP:AMBER", sensor: str | None = None) -> None:
        self.store = store
        self.tlp = tlp
        self.sensor = sensor
        self._rows: OrderedDict[int, int] = OrderedDict()  # episode -> detection id
        self._correlator: Correlator | None = None  # the intelligence index, made on first use

    def __call__(self, updates: Sequence[DetectionUpdate]) -> None:
        stored: dict[int, int] = {}
        with self.store.session() as session:
            for update in updates:
                known = self._rows.get(update.episode)
                if known is None:
                    row = add_detection(session, update.detection, sensor=self.sensor)
                else:
                    row = update_detection(session, known, update.detection)
                incident = file_detection(session, row, tlp=self.tlp)
                if incident is not None:
                    self._observe(session, row, incident)
                if known is None:  # an episode warns once; its growth is the same cause
                    warn_of(session, row, incident)
                stored[update.episode] = row.id
        for episode, row_id in stored.items():  # only once the transaction committed
            self._rows[episode] = row_id
            self._rows.move_to_end(episode)
        while len(self._rows) > REMEMBERED:
            self._rows.popitem(last=False)

    def detection_id(self, episode: int) -> int | None:
        """The stored detection of a live episode, once an update of it was recorded."""
        return self._rows.get(episode)

    def _observe(self, session: Session, detection: DetectionRow, incident: IncidentRow) -> None:
        """The detection's sources and target become the incident's indicators, with sightings."""
        # Imported here: the correlation package is built on the store.
        from cyberpeace.correlation.correlator import Correlator
        from cyberpeace.correlation.observations import observe_detection

        if self._correlator is None:
            self._correlator = Correlator()
        observe_detection(session, detection, incident, self._correlator.intelligence(session))


@dataclass(frozen=True)
class Filed:
    """What filing a batch of detections added to the store."""

    incidents: int  # incidents opened (a detection may join an open one instead)
    warnings: int  # early-warning messages opened


def file_batch(
    store: Store, detections: Sequence[Detection], mandate: Mandate | None, *, by: str
) -> Filed:
    """File the detections of one offline analysis (``cyberpeace detect --store``) as a sensor's
    recorder would: each a new detection, into incidents, with correlation and early warnings.
    The mandate's parties and safe areas are loaded first, as incidents name them."""
    with store.session() as session:
        if mandate is not None:
            sync_mandate(session, mandate, by=by)
        before = _counts(session)
    recorder = DetectionRecorder(
        store, tlp=mandate.data_policy.default_tlp if mandate else "TLP:AMBER"
    )
    recorder([DetectionUpdate(i, d, new=True) for i, d in enumerate(detections)])
    with store.session() as session:
        after = _counts(session)
    return Filed(after[0] - before[0], after[1] - before[1])


def _counts(session: Session) -> tuple[int, int]:
    incidents = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
    messages = session.scalar(select(func.count()).select_from(MessageRow)) or 0
    return incidents, messages
