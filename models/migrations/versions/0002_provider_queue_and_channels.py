"""Provider queue and channels: staff logins, referral outcomes, duty-worker notifications, channel
message ids and delivery statuses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:52:40.628319
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "duty_worker",
                "provider_admin",
                "coordinator",
                "admin",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_staff_users_provider_id_providers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_provider_id"), ["provider_id"], unique=False)

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_messages_external_id"), ["external_id"], unique=False)

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_events_external_id"), ["external_id"], unique=False)

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duty_contacts", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("share_contact_address", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_worker_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("follow_up_needed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_provided", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_assigned_worker_id_workers"),
            "workers",
            ["assigned_worker_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_referrals_assigned_worker_id_workers"), type_="foreignkey")
        batch_op.drop_column("follow_up_provided")
        batch_op.drop_column("follow_up_needed")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("assigned_worker_id")

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("share_contact_address")
        batch_op.drop_column("duty_contacts")

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_external_id"))
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("external_id")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_external_id"))
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("external_id")

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("last_notified_at")
        batch_op.drop_column("notified_count")

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_provider_id"))

    op.drop_table("staff_users")
