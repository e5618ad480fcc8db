"""TAXII 2.1 server and client: object audience and version key, status resources, cursors.

Revision: taxii_0001, after 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "taxii_0001"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stix_objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("version_key", sa.String(length=30), nullable=True))
    # Objects stored before: their version as it is (exact for the fixed-width ones we write).
    op.execute("UPDATE stix_objects SET version_key = version WHERE version_key IS NULL")
    op.create_index(
        "ix_stix_objects_collection_object_version",
        "stix_objects",
        ["collection_id", "object_id", "version_key"],
    )
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    op.create_table(
        "taxii_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remote", sa.String(length=500), nullable=False),
        sa.Column("collection", sa.String(length=100), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("added_after", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_cursors")),
        sa.UniqueConstraint(
            "remote", "collection", "direction", name=op.f("uq_taxii_cursors_remote")
        ),
    )


def downgrade() -> None:
    op.drop_table("taxii_cursors")
    op.drop_table("taxii_status")
    op.drop_index("ix_stix_objects_collection_object_version", table_name="stix_objects")
    with op.batch_alter_table("stix_objects", schema=None) as batch_op:
        batch_op.drop_column("version_key")
        batch_op.drop_column("audience")
