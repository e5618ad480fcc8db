"""The notify enforcer: the due-diligence request as a Message to the party, in the store.

The message's dedup key is the action's, so a request is sent once per action however often
the action is re-applied; removal leaves the message (a sent message stays sent).
"""

from __future__ import annotations

from sqlalchemy import select

from cyberpeace.respond.action import Action, Applied
from cyberpeace.respond.registry import EnforcerConfig, register
from cyberpeace.store import Store, open_store
from cyberpeace.store.tables import MessageRow


@register
class NotifyEnforcer:
    name = "notify"
    kinds = frozenset({"notify"})

    def __init__(self, store: Store | None) -> None:
        self.store = store

    @classmethod
    def from_config(cls, config: EnforcerConfig) -> NotifyEnforcer:
        return cls(open_store(config.database_url) if config.database_url else None)

    def apply(self, action: Action) -> Applied:
        if self.store is None:
            raise RuntimeError("the notify enforcer has no case store configured")
        p = action.parameters
        key = f"action:{action.id}"
        with self.store.session() as session:
            row = session.scalars(select(MessageRow).where(MessageRow.dedup_key == key)).first()
            if row is None:
                row = MessageRow(
                    kind=p["message_kind"],
                    severity="high",
                    to_party_id=p["party"],
                    incident_id=action.incident_id,
                    subject=p["subject"][:300],
                    body=p["body"],
                    dedup_key=key,
                )
                session.add(row)
                session.flush()
            message_id = row.id
        return Applied(self.name, {"message": message_id, "to": p["party"]})

    def remove(self, action: Action) -> None:
        return None  # a sent message stays sent (see the reversibility safeguard)
