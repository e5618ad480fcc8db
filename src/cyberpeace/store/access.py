"""Who is asking: mission staff see everything, a party sees its own data and what is shared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["staff", "party"]


class Forbidden(PermissionError):
    """The viewer may not see or change this object."""


@dataclass(frozen=True)
class Viewer:
    role: Role
    party_id: str | None = None
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def actor(self) -> str:
        """How the viewer appears in the audit log."""
        return self.name or (f"party:{self.party_id}" if self.party_id else "staff")

    def may_see_party(self, party_id: str | None) -> bool:
        return self.is_staff or (party_id is not None and party_id == self.party_id)

    def require_staff(self) -> None:
        if not self.is_staff:
            raise Forbidden("this needs a mission staff token")


SYSTEM = Viewer("staff", name="system")


class NotFound(LookupError):
    """No such object in the store."""
