"""The mission's block list as a feed: plain text, CSV and a STIX 2.1 bundle of indicators.

STIX 2.1 (OASIS, 2021): an Indicator (section 4.7) per entry with a STIX pattern (section 9)
on ``ipv4-addr:value`` or ``ipv6-addr:value`` (a CIDR value is allowed, section 6.4/6.5),
``valid_from`` and ``valid_until``, marked with the TLP 2.0 marking definition of its level.
Ids are deterministic (``share/stix_ids.py``), so a feed read twice names the same objects.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cyberpeace.share.stix_ids import MissionIds

# The TLP 2.0 marking definitions published with the STIX 2.1 TLP extension
# (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d).
TLP_MARKINGS = {
    "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "TLP:AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "TLP:RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@dataclass(frozen=True)
class Entry:
    value: str
    type: str
    party: str | None
    action_id: int
    reason: str
    tlp: str
    listed_at: datetime
    expires_at: datetime


def as_text(entries: Iterable[Entry]) -> str:
    """One address or prefix a line, under a comment header (firewall and IntelMQ friendly)."""
    lines = ["# cyberpeace block list: sources seen attacking; each line expires, see the CSV"]
    lines += sorted({e.value for e in entries})
    return "\n".join(lines) + "\n"


def as_csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["value", "type", "party", "action", "reason", "tlp", "listed_at", "expires_at"]
    )
    for e in sorted(entries, key=lambda e: (e.value, e.action_id)):
        writer.writerow(
            [
                e.value,
                e.type,
                e.party or "",
                e.action_id,
                e.reason,
                e.tlp,
                e.listed_at.isoformat(),
                e.expires_at.isoformat(),
            ]
        )
    return out.getvalue()


def as_stix(
    entries: Iterable[Entry],
    now: datetime,
    mission: str = "cyberpeace",
    bundle_id: str | None = None,
) -> str:
    """A STIX 2.1 bundle: the mission's identity and one indicator per entry.

    ``bundle_id`` (a UUID) makes the bundle the same text each time it is asked for the same
    entries; by default every bundle gets a fresh id (STIX 2.1 section 8).
    """
    ids = MissionIds(mission)  # the ids the STIX export gives the mission and its objects
    identity = ids.of("identity", "mission")
    objects: list[dict[str, object]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": identity,
            "name": mission,
            "identity_class": "organization",
            "created": _ts(now),
            "modified": _ts(now),
        }
    ]
    for e in entries:
        value = e.value.replace("\\", "\\\\").replace("'", "\\'")
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": ids.of("indicator", "blocklist", e.action_id, e.value),
                "created": _ts(e.listed_at),
                "modified": _ts(e.listed_at),
                "created_by_ref": identity,
                "name": f"Source of an attack ({e.reason})"[:250],
                "description": (
                    f"{e.value} was seen attacking a safe area"
                    + (f"; it lies in the territory of {e.party}" if e.party else "")
                    + f". Listed until {_ts(e.expires_at)}."
                ),
                "indicator_types": ["malicious-activity"],
                "pattern": f"[{e.type}:value = '{value}']",
                "pattern_type": "stix",
                "valid_from": _ts(e.listed_at),
                "valid_until": _ts(e.expires_at),
                "object_marking_refs": [TLP_MARKINGS[e.tlp]],
            }
        )
    bundle = {"type": "bundle", "id": f"bundle--{bundle_id or uuid.uuid4()}", "objects": objects}
    return json.dumps(bundle, indent=2)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
