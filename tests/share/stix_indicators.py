"""STIX 2.1 indicators for the TAXII tests, each with a fresh id and an optional TLP marking."""

from __future__ import annotations

import uuid
from typing import Any

from cyberpeace.share.tlp import marking_id


def indicator(
    tlp: str | None, *, by: str | None = None, stamp: str = "2026-11-01T00:00:00.000Z"
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "pattern": "[ipv4-addr:value = '198.19.77.1']",
        "pattern_type": "stix",
        "valid_from": stamp,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    if by is not None:
        obj["created_by_ref"] = by
    return obj
