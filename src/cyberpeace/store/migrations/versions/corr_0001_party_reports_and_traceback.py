"""Parties' STIX incidents and the incidents they were filed as; detections' traceback.

Revision: corr_0001, after cases_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "corr_0001"
down_revision = "cases_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stix_incidents",
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_stix_incidents_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_stix_incidents_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("stix_id", name=op.f("pk_stix_incidents")),
    )
    with op.batch_alter_table("stix_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stix_incidents_incident_id"), ["incident_id"], unique=False
        )
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceback", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_column("traceback")
    with op.batch_alter_table("stix_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stix_incidents_incident_id"))
    op.drop_table("stix_incidents")
