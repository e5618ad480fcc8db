"""Which block-list entries a reader of the feed is served, from the actions in the store.

An entry is in the feed while its ``blocklist`` action is applied (in force) and unexpired: a
revoked or expired action leaves the feed at once, before the sweeper has even removed it from
the enforcer's files. Mission staff read every entry. A party reads the TLP:CLEAR and TLP:GREEN
entries (the TAXII server's ``open_levels``, ``share/data/taxii.yaml``) and an AMBER,
AMBER+STRICT or RED one only when the entry concerns it: the source lies in its territory or
the action protects it (FIRST TLP 2.0: AMBER is for the recipient's organisation, RED for the
named recipients only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.respond.blocklist_feed import Entry
from cyberpeace.share.taxii_config import taxii_config
from cyberpeace.store.access import Viewer
from cyberpeace.store.tables import ActionRow


@dataclass(frozen=True)
class Feed:
    entries: list[Entry]
    last_modified: datetime | None  # when what this reader is served last changed


def read_feed(session: Session, viewer: Viewer, now: datetime) -> Feed:
    rows = session.scalars(select(ActionRow).where(ActionRow.kind == "blocklist")).all()
    entries: list[Entry] = []
    changed: list[datetime] = []
    for row in rows:
        mine = [e for e in _entries(row) if _may_read(viewer, e, row.party_id)]
        if not mine:
            continue
        assert row.expires_at is not None
        changed.append(_aware(row.updated_at or row.proposed_at))
        if row.expires_at <= now:
            changed.append(_aware(row.expires_at))  # it left the feed then
        elif row.status == "applied" and row.in_force:
            entries.extend(mine)
    return Feed(sorted(entries, key=_order), max(changed, default=None))


def digest(entries: list[Entry]) -> str:
    """A fingerprint of what the feed holds (for the ETag and the bundle id)."""
    text = "\n".join(
        f"{e.action_id}|{e.value}|{e.type}|{e.party}|{e.tlp}|{e.listed_at}|{e.expires_at}"
        for e in entries
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entries(row: ActionRow) -> list[Entry]:
    assert row.expires_at is not None
    listed = _aware(row.updated_at or row.proposed_at)
    tlp = str(row.parameters.get("tlp") or "TLP:AMBER")
    return [
        Entry(
            value=str(e["value"]),
            type=str(e["type"]),
            party=e.get("party"),
            action_id=row.id,
            reason=f"action {row.id} against {row.target}",
            tlp=tlp,
            listed_at=listed,
            expires_at=_aware(row.expires_at),
        )
        for e in row.parameters.get("entries") or []
    ]


def _may_read(viewer: Viewer, entry: Entry, protected: str | None) -> bool:
    if viewer.is_staff or entry.tlp in taxii_config().open_levels:
        return True
    return viewer.party_id is not None and viewer.party_id in (entry.party, protected)


def _order(entry: Entry) -> tuple[str, int]:
    return entry.value, entry.action_id


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
