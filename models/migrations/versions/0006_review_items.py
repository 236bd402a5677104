"""The "To read" list: messages a person at the provider should read though they raised no alert (not
understood by the script, free text, a safeguarding concern), and how long a provider lets one wait unread.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:17:51.362622
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("inbound_event_id", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "not_understood",
                "free_text",
                "concern",
                name="review_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column(
            "language",
            sa.Enum("en", "cy", name="language", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "sms", "telegram", "terminal", name="channel", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=128), nullable=True),
        sa.Column("notified_count", sa.Integer(), nullable=False),
        sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_review_items_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inbound_event_id"],
            ["inbound_events.id"],
            name=op.f("fk_review_items_inbound_event_id_inbound_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_review_items_provider_id_providers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_review_items_referral_id_referrals"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_items_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_items_provider_id_read_at_received_at"),
            ["provider_id", "read_at", "received_at"],
            unique=False,
        )

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_within_minutes", sa.Integer(), server_default="60", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("review_within_minutes")

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_items_provider_id_read_at_received_at"))
        batch_op.drop_index(batch_op.f("ix_review_items_contact_id"))

    op.drop_table("review_items")
