"""studio feeds: rooms added in Admin (encrypted URL, paused, removed) and ingest processes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import greenroom.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), server_default="env", nullable=False))
        batch_op.add_column(sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(
            sa.Column("removed_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("updated_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    # The demo room existed before rooms had a source.
    op.execute("UPDATE feeds SET source = 'demo' WHERE is_demo")
    op.create_table(
        "ingest_processes",
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("max_feeds", sa.Integer(), nullable=True),
        sa.Column("feeds_held", sa.Integer(), nullable=False),
        sa.Column("started_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", greenroom.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_ingest_processes")),
    )


def downgrade() -> None:
    op.drop_table("ingest_processes")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("enabled")
        batch_op.drop_column("source")
        batch_op.drop_column("url_encrypted")
