"""Alembic migrations: from empty to head, idempotent, matching the ORM models, reversible."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from cyberpeace.store import Store, open_store
from cyberpeace.store.database import _alembic_config, downgrade, migrate
from cyberpeace.store.tables import AuditRow, Base, PartyRow, SafeAreaRow

MODEL_TABLES = set(Base.metadata.tables)


def _head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _schema_diff(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _audit_triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
            )
        return set(connection.execute(text(query)).scalars())


def _expected_triggers(engine: Engine) -> set[str]:
    if engine.dialect.name == "sqlite":
        return {"audit_log_no_update", "audit_log_no_delete"}
    return {"audit_log_append_only"}


def test_open_store_migrates_an_empty_database_to_head(store_url: str) -> None:
    # store_url (not store) because this one must start from a database with nothing in it.
    opened = open_store(store_url)
    try:
        assert _current(opened.engine) == _head() == "warn_0001"
        assert _tables(opened.engine) == MODEL_TABLES | {"alembic_version"}
        assert _audit_triggers(opened.engine) == _expected_triggers(opened.engine)
    finally:
        opened.close()


def test_open_store_without_migrating_leaves_the_database_empty(store_url: str) -> None:
    opened = open_store(store_url, migrate_schema=False)
    try:
        assert _tables(opened.engine) == set()
        assert _current(opened.engine) is None
    finally:
        opened.close()


def test_migrating_twice_is_a_no_op(store: Store, store_url: str) -> None:
    with store.session() as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditRow))
    assert audit_before == 1  # the fixture's mandate load

    again = open_store(store_url)
    try:
        migrate(again.engine)
        assert _current(again.engine) == _head()
        assert _tables(again.engine) == MODEL_TABLES | {"alembic_version"}
        with again.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v for (v,) in versions] == [_head()]
        with again.session() as session:
            assert session.scalar(select(func.count()).select_from(PartyRow)) == 3
            assert session.scalar(select(func.count()).select_from(SafeAreaRow)) == 3
            assert session.scalar(select(func.count()).select_from(AuditRow)) == audit_before
    finally:
        again.close()


def test_migrated_schema_matches_the_models_exactly(store: Store) -> None:
    assert _schema_diff(store.engine) == []


def test_compare_detects_drift(store: Store) -> None:
    """The comparison above would see a difference, so an empty diff means something."""
    with store.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_detections_start"))
    diff = _schema_diff(store.engine)
    assert len(diff) == 1
    assert diff[0][0] == "add_index"
    assert diff[0][1].name == "ix_detections_start"


def test_downgrade_to_base_and_upgrade_again(store: Store) -> None:
    downgrade(store.engine, "base")
    assert _current(store.engine) is None
    assert _tables(store.engine) <= {"alembic_version"}
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            functions = connection.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_append_only'")
            ).scalar_one()
        assert functions == 0

    migrate(store.engine)
    assert _current(store.engine) == _head()
    assert _tables(store.engine) == MODEL_TABLES | {"alembic_version"}
    assert _schema_diff(store.engine) == []
    assert _audit_triggers(store.engine) == _expected_triggers(store.engine)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(PartyRow)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 0
    # The re-created triggers still guard the audit log.
    with store.session() as session:
        session.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)"
                " VALUES (1, 'now', 'a', 'b', 'c', '{}', 'p', 'h')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.execute(text("DELETE FROM audit_log"))
