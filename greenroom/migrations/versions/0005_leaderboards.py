"""leaderboards: running all-time totals and each room's mark

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import greenroom.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_totals",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("anon", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("reached_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed_id", "metric", "username", "anon"),
    )
    op.create_table(
        "leaderboard_marks",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("event_pk", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed_id"),
    )


def downgrade() -> None:
    op.drop_table("leaderboard_marks")
    op.drop_table("leaderboard_totals")
