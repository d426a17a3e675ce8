"""signin failures: the sign-in rate limit, shared by every server process of one database

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 04:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signin_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_failures_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_signin_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_failures_at"))
        batch_op.drop_index(batch_op.f("ix_signin_failures_key"))
    op.drop_table("signin_failures")
