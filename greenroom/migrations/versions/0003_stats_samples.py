"""Stats API samples

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import greenroom.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("broadcaster", sa.String(length=64), nullable=False),
        sa.Column("slot", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sampled_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("num_viewers", sa.BigInteger(), nullable=True),
        sa.Column("num_registered_viewers", sa.BigInteger(), nullable=True),
        sa.Column("num_tokened_viewers", sa.BigInteger(), nullable=True),
        sa.Column("num_followers", sa.BigInteger(), nullable=True),
        sa.Column("token_balance", sa.BigInteger(), nullable=True),
        sa.Column("tips_in_last_hour", sa.BigInteger(), nullable=True),
        sa.Column("votes_up", sa.BigInteger(), nullable=True),
        sa.Column("votes_down", sa.BigInteger(), nullable=True),
        sa.Column("satisfaction_score", sa.Float(), nullable=True),
        sa.Column("time_online_minutes", sa.Integer(), nullable=True),
        sa.Column("last_broadcast", greenroom.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("raw", greenroom.db.types.RawJSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_samples")),
        sa.UniqueConstraint("broadcaster", "slot", name=op.f("uq_stats_samples_broadcaster_slot")),
    )
    with op.batch_alter_table("stats_samples", schema=None) as batch_op:
        batch_op.create_index("ix_stats_samples_feed_time", ["feed_id", "sampled_at"], unique=False)
        batch_op.create_index("ix_stats_samples_time", ["sampled_at"], unique=False)

    op.create_table(
        "stats_sources",
        sa.Column("broadcaster", sa.String(length=64), nullable=False),
        sa.Column("url_masked", sa.String(length=300), nullable=False),
        sa.Column("last_attempt_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("broadcaster", name=op.f("pk_stats_sources")),
    )


def downgrade() -> None:
    op.drop_table("stats_sources")
    with op.batch_alter_table("stats_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_samples_time")
        batch_op.drop_index("ix_stats_samples_feed_time")
    op.drop_table("stats_samples")
