"""API tokens: shown once, stored as a SHA-256 hash, resolved to a viewer, revocable."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update

from cyberpeace.store import Store, Viewer, audit, create_token, viewer_for
from cyberpeace.store.tables import TokenRow

TOKEN = re.compile(r"^cp_[A-Za-z0-9_-]{43}$")  # 32 random bytes, URL-safe base64


def test_staff_token(store: Store) -> None:
    with store.session() as session:
        token = create_token(session, party_id=None, label="duty-officer", by="tester")
    assert TOKEN.match(token)
    with store.session() as session:
        row = session.scalars(select(TokenRow)).one()
        assert (row.role, row.party_id, row.label, row.revoked_at) == (
            "staff",
            None,
            "duty-officer",
            None,
        )
        assert row.created_at.tzinfo is not None
        viewer = viewer_for(session, token)
        assert viewer == Viewer("staff", name=f"staff:{row.id}:duty-officer")
        assert viewer.is_staff
        assert viewer.actor == f"staff:{row.id}:duty-officer"


def test_staff_token_without_label(store: Store) -> None:
    with store.session() as session:
        token = create_token(session, party_id=None)
        viewer = viewer_for(session, token)
        row_id = session.scalars(select(TokenRow.id)).one()
    assert viewer == Viewer("staff", name=f"staff:{row_id}")


def test_party_token(store: Store) -> None:
    with store.session() as session:
        token = create_token(session, party_id="borduria", label="csirt")
    assert TOKEN.match(token)
    with store.session() as session:
        row = session.scalars(select(TokenRow)).one()
        assert (row.role, row.party_id) == ("party", "borduria")
        viewer = viewer_for(session, token)
    assert viewer == Viewer("party", party_id="borduria", name="party:borduria")
    assert viewer is not None
    assert not viewer.is_staff
    assert viewer.may_see_party("borduria")
    assert not viewer.may_see_party("arcadia")


def test_tokens_are_distinct(store: Store) -> None:
    with store.session() as session:
        tokens = {create_token(session, party_id="arcadia") for _ in range(5)}
        viewers = {viewer_for(session, t) for t in tokens}
    assert len(tokens) == 5
    assert viewers == {Viewer("party", party_id="arcadia", name="party:arcadia")}


def test_only_the_hash_is_stored(store: Store) -> None:
    with store.session() as session:
        tokens = [
            create_token(session, party_id=None, label="staff"),
            create_token(session, party_id="arcadia", label="cert"),
        ]
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM api_tokens ORDER BY id")).all()
        log = connection.execute(text("SELECT * FROM audit_log")).all()
    dump = json.dumps([[str(v) for v in row] for row in stored])
    log_dump = json.dumps([[str(v) for v in row] for row in log])
    for token in tokens:
        secret = token.removeprefix("cp_")
        assert token not in dump
        assert secret not in dump
        assert secret not in log_dump
    hashes = [row._mapping["token_hash"] for row in stored]
    assert hashes == [hashlib.sha256(t.encode()).hexdigest() for t in tokens]


def test_token_creation_is_audited_without_the_secret(store: Store) -> None:
    with store.session() as session:
        create_token(session, party_id="calvinia", by="cli:alice")
        row_id = session.scalars(select(TokenRow.id)).one()
        (entry,) = audit.entries(session, subject=f"token:{row_id}")
    assert (entry.actor, entry.action) == ("cli:alice", "token.create")
    assert json.loads(entry.detail) == {"role": "party", "party": "calvinia"}


@pytest.mark.parametrize(
    "presented",
    ["", "cp_", "cp_nonsense", "not-a-token", "x" * 500],
)
def test_unknown_token_is_nobody(store: Store, presented: str) -> None:
    with store.session() as session:
        create_token(session, party_id=None)
        assert viewer_for(session, presented) is None


def test_near_miss_of_a_real_token_is_nobody(store: Store) -> None:
    with store.session() as session:
        token = create_token(session, party_id=None)
        assert viewer_for(session, token) is not None
        assert viewer_for(session, token[:-1]) is None
        assert viewer_for(session, token + "A") is None
        assert viewer_for(session, token.upper()) is None
        assert viewer_for(session, " " + token) is None


def test_revoked_token_is_nobody(store: Store) -> None:
    with store.session() as session:
        revoked = create_token(session, party_id="arcadia", label="old")
        kept = create_token(session, party_id="arcadia", label="new")
    with store.session() as session:
        session.execute(
            update(TokenRow).where(TokenRow.label == "old").values(revoked_at=datetime.now(UTC))
        )
    with store.session() as session:
        assert viewer_for(session, revoked) is None
        assert viewer_for(session, kept) == Viewer(
            "party", party_id="arcadia", name="party:arcadia"
        )


def test_token_for_an_unknown_party_is_refused(store: Store) -> None:
    with pytest.raises(LookupError, match="atlantis"), store.session() as session:
        create_token(session, party_id="atlantis")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(TokenRow)) == 0
        assert audit.entries(session, subject="token:1") == []
