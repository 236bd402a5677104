"""The studio: what English each Welsh text was written against, so a Welsh text left behind by a change to
its English is marked "needs checking".

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "welsh_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("text_key", sa.String(length=200), nullable=False),
        sa.Column("english_hash", sa.String(length=16), nullable=False),
        sa.Column("welsh_hash", sa.String(length=16), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["staff_users.id"], name=op.f("fk_welsh_bases_by_id_staff_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welsh_bases")),
        sa.UniqueConstraint("name", "text_key", name=op.f("uq_welsh_bases_name_text_key")),
    )


def downgrade() -> None:
    op.drop_table("welsh_bases")
