"""STIX 2.1 objects per TAXII collection (store/stix_objects.py).

Revision: 0003, after 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stix_objects",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("added", sa.String(length=30), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=True),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_stix_objects")),
        sa.UniqueConstraint(
            "collection_id", "object_id", "version", name=op.f("uq_stix_objects_collection_id")
        ),
    )
    op.create_index("ix_stix_objects_collection_added", "stix_objects", ["collection_id", "added"])
    op.create_index(op.f("ix_stix_objects_object_id"), "stix_objects", ["object_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_stix_objects_object_id"), table_name="stix_objects")
    op.drop_index("ix_stix_objects_collection_added", table_name="stix_objects")
    op.drop_table("stix_objects")
