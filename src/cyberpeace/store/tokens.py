"""API tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.store import audit
from cyberpeace.store.access import Viewer
from cyberpeace.store.tables import PartyRow, TokenRow

PREFIX = "cp_"


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, party_id: str | None, label: str = "", by: str = "cli"
) -> str:
    """Create a token for a party (or for mission staff when ``party_id`` is None)."""
    if party_id is not None and session.get(PartyRow, party_id) is None:
        raise LookupError(f"no party {party_id!r} in the store; load the mandate first")
    token = PREFIX + secrets.token_urlsafe(32)
    role = "party" if party_id else "staff"
    row = TokenRow(token_hash=_digest(token), role=role, party_id=party_id, label=label)
    session.add(row)
    session.flush()
    audit.append(session, by, "token.create", f"token:{row.id}", {"role": role, "party": party_id})
    return token


def viewer_for(session: Session, token: str) -> Viewer | None:
    """The viewer a presented token stands for, or None if it is unknown or revoked."""
    row = session.scalars(select(TokenRow).where(TokenRow.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.role == "staff":
        return Viewer("staff", name=f"staff:{row.id}" + (f":{row.label}" if row.label else ""))
    return Viewer("party", party_id=row.party_id, name=f"party:{row.party_id}")
