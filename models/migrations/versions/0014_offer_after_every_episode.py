"""The offer after every episode: episodes a provider reports (with its own reference, once each), the bot's
offers by text to the young person's and a parent's number, and on each referral when it was first offered and how.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


REPORTED_BY = ("young_person", "parent_carer")
REFERRED_BY = ("self", "parent_carer")
OFFER_METHOD = ("bot_sms", "worker_phone", "in_conversation")
OFFER_STATUS = ("scheduled", "sent", "reoffered", "answered", "no_response", "wrong_number", "stopped")


def upgrade() -> None:
    # A provider reports episodes and refers too: their CHECK constraints take the new value.
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.alter_column(
            "reported_by",
            existing_type=_enum("reported_by", *REPORTED_BY),
            type_=_enum("reported_by", *REPORTED_BY, "provider"),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("provider_reference", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_episodes_provider_id_providers"), "providers", ["provider_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_episodes_provider_id_provider_reference"), ["provider_id", "provider_reference"]
        )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.alter_column(
            "referred_by",
            existing_type=_enum("referred_by", *REFERRED_BY),
            type_=_enum("referred_by", *REFERRED_BY, "provider"),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("offer_method", _enum("offer_method", *OFFER_METHOD), nullable=True))
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("to_parent", sa.Boolean(), nullable=False),
        sa.Column("status", _enum("offer_status", *OFFER_STATUS), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reoffered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_offers_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_offers_referral_id_referrals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("referral_id", "contact_id", name=op.f("uq_offers_referral_id_contact_id")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_status_due_at"), ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("offers")
    op.execute("DELETE FROM referrals WHERE referred_by = 'provider'")
    op.execute("DELETE FROM episodes WHERE reported_by = 'provider'")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_referrals_offer_method"), type_="check")
        batch_op.drop_column("offer_method")
        batch_op.drop_column("offered_at")
        batch_op.alter_column(
            "referred_by",
            existing_type=_enum("referred_by", *REFERRED_BY, "provider"),
            type_=_enum("referred_by", *REFERRED_BY),
            existing_nullable=False,
        )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_episodes_provider_id_provider_reference"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_episodes_provider_id_providers"), type_="foreignkey")
        batch_op.drop_column("provider_reference")
        batch_op.drop_column("provider_id")
        batch_op.alter_column(
            "reported_by",
            existing_type=_enum("reported_by", *REPORTED_BY, "provider"),
            type_=_enum("reported_by", *REPORTED_BY),
            existing_nullable=False,
        )
