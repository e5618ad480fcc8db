"""Actions keep their lifecycle: target and party, dedup key, approvals, enforcement state.

Revision: 0004, after 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("target", sa.String(length=64), nullable=True),
    sa.Column("party_id", sa.String(length=64), nullable=True),
    sa.Column("dedup_key", sa.String(length=300), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("approvals_needed", sa.Integer(), nullable=True),
    sa.Column("approvals", sa.JSON(), nullable=True),
    sa.Column("status_reason", sa.Text(), nullable=True),
    sa.Column("in_force", sa.Boolean(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("enforcement", sa.JSON(), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        for column in _COLUMNS:
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_actions_party_id"), ["party_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_actions_dedup_key"), ["dedup_key"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_actions_party_id_parties"), "parties", ["party_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_actions_party_id_parties"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_actions_dedup_key"))
        batch_op.drop_index(batch_op.f("ix_actions_party_id"))
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column.name)
