"""Correlation: incidents' indicators, sightings of intelligence, indicators' STIX objects.

Revision: correlate_0001, after 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "correlate_0001"
down_revision = "misp_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("net_high", sa.BigInteger(), nullable=True),
        sa.Column("net_low", sa.BigInteger(), nullable=True),
        sa.Column("prefix_len", sa.SmallInteger(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("observed_by", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_indicators_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_indicators")),
    )
    op.create_index(
        op.f("ix_incident_indicators_incident_id"), "incident_indicators", ["incident_id"]
    )
    op.create_index("ix_incident_indicators_key", "incident_indicators", ["key"])
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("detection_id", sa.Integer(), nullable=True),
        sa.Column("observed_by", sa.String(length=16), nullable=False),
        sa.Column("where_sighted", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicators.id"], name=op.f("fk_sightings_indicator_id_indicators")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_sightings_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["detection_id"], ["detections.id"], name=op.f("fk_sightings_detection_id_detections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sightings")),
    )
    op.create_index(op.f("ix_sightings_indicator_id"), "sightings", ["indicator_id"])
    op.create_index(op.f("ix_sightings_incident_id"), "sightings", ["incident_id"])
    op.create_table(
        "indicator_stix",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_stix_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("indicator_id", "stix_id", name=op.f("pk_indicator_stix")),
    )


def downgrade() -> None:
    op.drop_table("indicator_stix")
    op.drop_index(op.f("ix_sightings_incident_id"), table_name="sightings")
    op.drop_index(op.f("ix_sightings_indicator_id"), table_name="sightings")
    op.drop_table("sightings")
    op.drop_index("ix_incident_indicators_key", table_name="incident_indicators")
    op.drop_index(op.f("ix_incident_indicators_incident_id"), table_name="incident_indicators")
    op.drop_table("incident_indicators")
