"""The case file (victims, notes, tasks, links) and the evidence locker's columns.

Revision: cases_0001, after 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0001"
down_revision = "correlate_0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_victims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("safe_area_id", sa.String(length=64), nullable=True),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_victims_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_incident_victims_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["safe_area_id"],
            ["safe_areas.id"],
            name=op.f("fk_incident_victims_safe_area_id_safe_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_victims")),
        sa.UniqueConstraint(
            "incident_id",
            "party_id",
            "safe_area_id",
            name=op.f("uq_incident_victims_incident_id"),
        ),
    )
    op.create_index(
        op.f("ix_incident_victims_incident_id"), "incident_victims", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_notes_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notes")),
    )
    op.create_index(
        op.f("ix_incident_notes_incident_id"), "incident_notes", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("completed_by", sa.String(length=100), nullable=True),
        sa.Column("completed_at", _TZ, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_tasks_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_tasks")),
    )
    op.create_index(
        op.f("ix_incident_tasks_incident_id"), "incident_tasks", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_links_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["incidents.id"], name=op.f("fk_incident_links_other_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_links")),
        sa.UniqueConstraint(
            "incident_id", "other_id", "kind", name=op.f("uq_incident_links_incident_id")
        ),
    )
    op.create_index(
        op.f("ix_incident_links_incident_id"), "incident_links", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_incident_links_other_id"), "incident_links", ["other_id"], unique=False
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_type", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("filename", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("stored_at", _TZ, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("stored_at")
        batch_op.drop_column("filename")
        batch_op.drop_column("media_type")
    for table in ("incident_links", "incident_tasks", "incident_notes", "incident_victims"):
        op.drop_table(table)
