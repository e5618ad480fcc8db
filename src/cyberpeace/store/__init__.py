"""The case store: SQLAlchemy tables, Alembic migrations, and functions named by operation."""

from cyberpeace.store import case_tables as case_tables
from cyberpeace.store import correlation_tables as correlation_tables
from cyberpeace.store.access import SYSTEM, Forbidden, NotFound, Viewer
from cyberpeace.store.assessments import (
    assess_incident,
    assessment_of,
    get_assessment,
    list_assessments,
    set_facts,
)
from cyberpeace.store.attribution_tables import AttributionRow
from cyberpeace.store.attributions import (
    add_attribution,
    derive_technical,
    facts_from_attributions,
    get_attribution,
    list_attributions,
    revise_attribution,
)
from cyberpeace.store.audit import Verification, verify
from cyberpeace.store.database import Store, migrate, open_store
from cyberpeace.store.detections import (
    add_detection,
    get_detection,
    list_detections,
    update_detection,
)
from cyberpeace.store.incidents import (
    SEVERITIES,
    STATUSES,
    IncidentDraft,
    InvalidTransition,
    change_status,
    create_incident,
    file_detection,
    get_incident,
    list_incidents,
    share_incident,
)
from cyberpeace.store.misp_events import MispEventRow
from cyberpeace.store.parties import (
    get_party,
    get_safe_area,
    list_parties,
    list_safe_areas,
    sync_mandate,
)
from cyberpeace.store.recorder import DetectionRecorder
from cyberpeace.store.taxii_tables import TaxiiCursorRow, TaxiiStatusRow
from cyberpeace.store.tokens import create_token, viewer_for

__all__ = [
    "SEVERITIES",
    "STATUSES",
    "SYSTEM",
    "AttributionRow",
    "DetectionRecorder",
    "Forbidden",
    "IncidentDraft",
    "InvalidTransition",
    "MispEventRow",
    "NotFound",
    "Store",
    "TaxiiCursorRow",
    "TaxiiStatusRow",
    "Verification",
    "Viewer",
    "add_attribution",
    "add_detection",
    "assess_incident",
    "assessment_of",
    "change_status",
    "create_incident",
    "create_token",
    "derive_technical",
    "facts_from_attributions",
    "file_detection",
    "get_assessment",
    "get_attribution",
    "get_detection",
    "get_incident",
    "get_party",
    "get_safe_area",
    "list_assessments",
    "list_attributions",
    "list_detections",
    "list_incidents",
    "list_parties",
    "list_safe_areas",
    "migrate",
    "open_store",
    "revise_attribution",
    "set_facts",
    "share_incident",
    "sync_mandate",
    "update_detection",
    "verify",
    "viewer_for",
]
