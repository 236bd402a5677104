"""The duty worker's console: who did what on a case, who holds an alert and a referral, the English of Welsh
bot messages, and the provider's opening hours and alert checklists.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("by_name", sa.String(length=100), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_action_records_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_action_records_escalation_id_escalations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"],
                                name=op.f("fk_action_records_provider_id_providers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_action_records_referral_id_referrals"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_records")),
    )  # fmt: skip
    with op.batch_alter_table("action_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_records_contact_id_at"), ["contact_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_records_provider_id_at"), ["provider_id", "at"], unique=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("english_text", sa.Text(), nullable=True))
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_escalations_assigned_staff_id_staff_users"), "staff_users",
                                    ["assigned_staff_id"], ["id"], ondelete="SET NULL")  # fmt: skip
    # Alerts acknowledged before this version are not "in progress": their handling is already history.
    op.execute("UPDATE escalations SET done_at = acknowledged_at WHERE acknowledged_at IS NOT NULL")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("staff_read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_referrals_assigned_staff_id_staff_users"), "staff_users",
                                    ["assigned_staff_id"], ["id"], ondelete="SET NULL")  # fmt: skip
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opens_at", sa.Time(), server_default="09:00:00", nullable=False))
        batch_op.add_column(sa.Column("closes_at", sa.Time(), server_default="20:00:00", nullable=False))
        batch_op.add_column(sa.Column("alert_checklists", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("alert_checklists")
        batch_op.drop_column("closes_at")
        batch_op.drop_column("opens_at")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_referrals_assigned_staff_id_staff_users"), type_="foreignkey")
        batch_op.drop_column("staff_read_at")
        batch_op.drop_column("assigned_staff_id")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_escalations_assigned_staff_id_staff_users"), type_="foreignkey")
        batch_op.drop_column("done_at")
        batch_op.drop_column("assigned_staff_id")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("english_text")
    with op.batch_alter_table("action_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_records_provider_id_at"))
        batch_op.drop_index(batch_op.f("ix_action_records_contact_id_at"))
    op.drop_table("action_records")
