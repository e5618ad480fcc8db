"""Assessments keep which facts changed and by whom, and the rest of the assessment.

``changes``: the facts this version changed, each with its old and new value, source and
confidence, and who changed it. ``details``: the threshold questions, the response options, the
contradictions and the missing facts (``findings`` keeps the findings).

Revision: 0002, after 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added as nullable, filled, then made NOT NULL: SQLite cannot add a NOT NULL column
    # without a default, and the models declare none.
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    op.execute("UPDATE assessments SET changes = '[]', details = '{}'")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("changes", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("details", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("changes")
