"""Early warnings: a message's cause, how often it was seen, when, and its acknowledgement.

Revision: warn_0001, after corr_0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "warn_0001"
down_revision = "corr_0001"
branch_labels = None
depends_on = None

_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("cause", sa.String(length=200), nullable=True),
    sa.Column("count", sa.Integer(), nullable=True),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("detection_id", sa.Integer(), nullable=True),
    sa.Column("details", sa.JSON(), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for column in _COLUMNS:
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_messages_cause"), ["cause"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_detection_id_detections"),
            "detections",
            ["detection_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_messages_detection_id_detections"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_messages_cause"))
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column.name)
