"""Attribution records of incidents (store/attribution_tables.py).

Revision: patterns_0001, after 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "patterns_0001"
down_revision = "taxii_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("candidate", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=200), nullable=True),
        sa.Column("party", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.String(length=16), nullable=False),
        sa.Column("bases", sa.JSON(), nullable=False),
        sa.Column("raise_if", sa.Text(), nullable=False),
        sa.Column("lower_if", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_attributions_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributions")),
    )
    op.create_index(op.f("ix_attributions_incident_id"), "attributions", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attributions_incident_id"), table_name="attributions")
    op.drop_table("attributions")
