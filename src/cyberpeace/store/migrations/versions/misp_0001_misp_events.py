"""MISP events as received (store/misp_events.py).

Revision: misp_0001, after 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "misp_0001"
down_revision = "patterns_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "misp_events",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("galaxies", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_misp_events_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_misp_events")),
    )
    op.create_index(op.f("ix_misp_events_incident_id"), "misp_events", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_misp_events_incident_id"), table_name="misp_events")
    op.drop_table("misp_events")
