"""The case file and the evidence locker in one import: victims, notes, tasks, links, timeline,
the locker with its chain of custody, signed exports and their verification."""

from cyberpeace.investigate.evidence import (
    BadEvidence,
    EvidenceMeta,
    access_evidence,
    add_evidence,
    custodian_of,
    custody_log,
    get_evidence,
    list_evidence,
    media_type_for,
    sweep_orphans,
    transfer_evidence,
)
from cyberpeace.investigate.export import Exported, ExportError, export_case, remove_export
from cyberpeace.investigate.export_check import ExportCheck, verify_export
from cyberpeace.investigate.links import link_incidents, list_links
from cyberpeace.investigate.locker import Intake, Locker, Received, TooLarge
from cyberpeace.investigate.notes import add_note, list_notes
from cyberpeace.investigate.severity import change_severity
from cyberpeace.investigate.signing import fingerprint, mission_key
from cyberpeace.investigate.tasks import assign_task, complete_task, create_task, list_tasks
from cyberpeace.investigate.timeline import Event, timeline
from cyberpeace.investigate.victims import add_victim, list_victims

__all__ = [
    "BadEvidence",
    "Event",
    "EvidenceMeta",
    "ExportCheck",
    "ExportError",
    "Exported",
    "Intake",
    "Locker",
    "Received",
    "TooLarge",
    "access_evidence",
    "add_evidence",
    "add_note",
    "add_victim",
    "assign_task",
    "change_severity",
    "complete_task",
    "create_task",
    "custodian_of",
    "custody_log",
    "export_case",
    "fingerprint",
    "get_evidence",
    "link_incidents",
    "list_evidence",
    "list_links",
    "list_notes",
    "list_tasks",
    "list_victims",
    "media_type_for",
    "mission_key",
    "remove_export",
    "sweep_orphans",
    "timeline",
    "transfer_evidence",
    "verify_export",
]
