"""token-history imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import greenroom.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = greenroom.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "token_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_present", sa.Integer(), nullable=False),
        sa.Column("first_at", UTC, nullable=True),
        sa.Column("last_at", UTC, nullable=True),
        sa.Column("summary", greenroom.db.types.JSONDoc(), nullable=True),
        sa.Column("errors", greenroom.db.types.JSONDoc(), nullable=True),
        sa.Column("staged", greenroom.db.types.JSONDoc(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_token_imports_feed_id_feeds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_imports")),
    )
    with op.batch_alter_table("token_imports", schema=None) as batch_op:
        batch_op.create_index("ix_token_imports_feed_created", ["feed_id", "created_at"], unique=False)

    op.create_table(
        "token_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("type_label", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_token_transactions_feed_id_feeds"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["token_imports.id"],
                                name=op.f("fk_token_transactions_import_id_token_imports"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_transactions")),
        sa.UniqueConstraint("feed_id", "fingerprint", "occurrence",
                            name=op.f("uq_token_transactions_feed_id_fingerprint_occurrence")),
    )
    with op.batch_alter_table("token_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_token_transactions_feed_time", ["feed_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_token_transactions_feed_username", ["feed_id", "username", "occurred_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("token_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_token_transactions_feed_username")
        batch_op.drop_index("ix_token_transactions_feed_time")
    op.drop_table("token_transactions")
    with op.batch_alter_table("token_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_token_imports_feed_created")
    op.drop_table("token_imports")
