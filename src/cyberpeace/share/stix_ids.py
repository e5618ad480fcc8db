"""Deterministic STIX identifiers (STIX 2.1 section 2.9): exporting again gives the same ids.

SDOs and SROs take the SHA-1 name-based UUID (RFC 4122 section 4.3) over the mission's own
namespace and a key naming the record (``incident/7``, ``detection/12``), with its version bits
set to 4: section 2.9 says SDO and SRO ids SHOULD be UUIDv4, which the official validator enforces
in strict mode, and the digest keeps the 122 random-looking bits a v4 has. SCOs take the UUIDv5
that section 2.9 prescribes: the STIX namespace ``00abedb4-aa42-466c-9c01-fed23315a9b7`` over
the canonical JSON (RFC 8785) of the type's id-contributing properties, so that any producer
names the same address alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# The namespace of the mission namespaces.
_MISSIONS = uuid.UUID("8f0b7bd4-56a1-4c5e-9a43-3b4b0c6e2d10")


class MissionIds:
    """Identifiers for one mission's objects."""

    def __init__(self, mission_id: str) -> None:
        self.namespace = uuid.uuid5(_MISSIONS, mission_id)

    def of(self, stix_type: str, *key: object) -> str:
        name = "/".join([stix_type, *(str(part) for part in key)])
        return f"{stix_type}--{self.uuid(name)}"

    def uuid(self, name: str) -> uuid.UUID:
        """A UUID in version-4 form, derived from ``name`` alone."""
        return uuid.UUID(bytes=uuid.uuid5(self.namespace, name).bytes, version=4)


def sco_id(stix_type: str, contributing: Mapping[str, Any]) -> str:
    """The id of an SCO from its id-contributing properties (section 2.9)."""
    canonical = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{stix_type}--{uuid.uuid5(SCO_NAMESPACE, canonical)}"
