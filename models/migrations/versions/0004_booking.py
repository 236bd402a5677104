"""Booking: weekly availability and exceptions, booking settings, cancellations and reminders sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:55:22.270858
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "availability_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=True),
        sa.Column("ends", sa.Time(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_availability_exceptions_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_availability_exceptions_worker_id_workers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exceptions")),
    )
    with op.batch_alter_table("availability_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_exceptions_provider_id_day"), ["provider_id", "day"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_availability_exceptions_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "weekly_availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("starts < ends", name=op.f("ck_weekly_availability_starts_before_ends")),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_weekly_availability_weekday_range")),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_weekly_availability_place_id_places"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_weekly_availability_worker_id_workers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_availability")),
    )
    with op.batch_alter_table("weekly_availability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weekly_availability_worker_id"), ["worker_id"], unique=False)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminders_sent", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_index(batch_op.f("ix_bookings_status_starts_at"), ["status", "starts_at"], unique=False)

    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slot_minutes", sa.Integer(), server_default="60", nullable=False))
        batch_op.add_column(sa.Column("buffer_minutes", sa.Integer(), server_default="15", nullable=False))
        batch_op.add_column(sa.Column("minimum_notice_minutes", sa.Integer(), server_default="120", nullable=False))
        batch_op.add_column(sa.Column("booking_horizon_days", sa.Integer(), server_default="21", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("booking_horizon_days")
        batch_op.drop_column("minimum_notice_minutes")
        batch_op.drop_column("buffer_minutes")
        batch_op.drop_column("slot_minutes")

    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_column("active")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_status_starts_at"))
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancel_reason")

    with op.batch_alter_table("weekly_availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_availability_worker_id"))

    op.drop_table("weekly_availability")
    with op.batch_alter_table("availability_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_exceptions_worker_id"))
        batch_op.drop_index(batch_op.f("ix_availability_exceptions_provider_id_day"))

    op.drop_table("availability_exceptions")
