"""Who may read and write which TAXII collection, and which objects each reader is served.

The collections (TAXII 2.1 section 5.2) follow the mandate: one for the mission, the intake of
``cyberpeace stix import``, and one per party. Their ids are UUIDv5 names in the mission's own
namespace (RFC 4122 section 4.3), so they stay the same on every start and every node.

- Mission staff read and write every collection and are served every object.
- A party reads and writes its own collection and is served all of it: the party is that
  collection's named audience, so even TLP:RED there reaches no one else.
- Every party reads the mission collection; only staff write it. There a party is served the
  objects marked TLP:CLEAR or TLP:GREEN (``open_levels``; unmarked objects count as the data
  policy's default TLP), and an AMBER, AMBER+STRICT or RED object only when the object names
  the party: its STIX identity is the ``created_by_ref`` or in another ``_ref``/``_refs``
  property. That audience is worked out once, when the object is stored.
- Another party's collection is forbidden.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cyberpeace.share.stix_ids import MissionIds
from cyberpeace.share.stix_import import INTAKE
from cyberpeace.store.access import Viewer
from cyberpeace.store.taxii_objects import Sight


@dataclass(frozen=True)
class Collection:
    id: str  # the TAXII collection id
    key: str  # the collection id in the stix_objects table
    title: str
    description: str
    owner: str | None  # the party whose collection it is; None for the mission's


def collection_id(mission_id: str, key: str) -> str:
    return str(uuid.uuid5(MissionIds(mission_id).namespace, f"taxii/collection/{key}"))


def collections_of(
    mission_id: str, mission_name: str, parties: Iterable[tuple[str, str]]
) -> list[Collection]:
    """The mission collection, then one per party (``parties`` as ``(id, name)`` pairs)."""
    found = [
        Collection(
            collection_id(mission_id, INTAKE),
            INTAKE,
            f"{mission_name}: shared with the parties",
            "Read by every party as its TLP allows; written by mission staff.",
            None,
        )
    ]
    for party_id, name in parties:
        key = f"party/{party_id}"
        found.append(
            Collection(
                collection_id(mission_id, key),
                key,
                f"{name}: exchanged with the mission",
                f"Read and written by {name} and the mission staff only.",
                party_id,
            )
        )
    return found


def can_read(viewer: Viewer, collection: Collection) -> bool:
    return viewer.is_staff or collection.owner is None or collection.owner == viewer.party_id


def can_write(viewer: Viewer, collection: Collection) -> bool:
    return viewer.is_staff or (collection.owner is not None and collection.owner == viewer.party_id)


def sight_for(
    viewer: Viewer, collection: Collection, default_tlp: str, open_levels: tuple[str, ...]
) -> Sight:
    """What ``viewer`` is served from a collection it may read."""
    if viewer.is_staff or (collection.owner is not None and collection.owner == viewer.party_id):
        return Sight(everything=True)
    return Sight(open_levels=open_levels, default_tlp=default_tlp, party=viewer.party_id)


def party_identities(mission_id: str, party_ids: Iterable[str]) -> dict[str, str]:
    """The STIX identity id of each party, as the STIX export names it -> the party id."""
    ids = MissionIds(mission_id)
    return {ids.of("identity", "party", party): party for party in party_ids}


def audience_of(
    obj: Mapping[str, Any], identities: Mapping[str, str], owner: str | None
) -> str | None:
    """The parties an object names, as ``,a,b,`` (None when it names none)."""
    named = {owner} if owner else set()
    for name, value in obj.items():
        if name.endswith("_ref") and isinstance(value, str):
            values: list[Any] = [value]
        elif name.endswith("_refs") and isinstance(value, list):
            values = value
        else:
            continue
        named.update(
            identities[ref] for ref in values if isinstance(ref, str) and ref in identities
        )
    named.discard(None)
    return "," + ",".join(sorted(p for p in named if p)) + "," if named else None
