"""The coordinators' studio: published releases of the scripts, lexicon and helplines, which one is live,
shared drafts, and the log of changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:06:45.315827
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kind() -> sa.Enum:
    return sa.Enum(
        "scripts", "lexicon", "helplines", name="release_kind", native_enum=False, create_constraint=True, length=32
    )


def upgrade() -> None:
    op.create_table(
        "script_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff_users.id"],
            name=op.f("fk_script_drafts_updated_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_drafts")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_script_drafts_kind_name")),
    )
    op.create_table(
        "script_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_by", sa.String(length=100), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["staff_users.id"],
            name=op.f("fk_script_releases_published_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["restored_from_id"],
            ["script_releases.id"],
            name=op.f("fk_script_releases_restored_from_id_script_releases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_releases")),
        sa.UniqueConstraint("kind", "number", name=op.f("uq_script_releases_kind_number")),
    )
    op.create_table(
        "live_releases",
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["script_releases.id"],
            name=op.f("fk_live_releases_release_id_script_releases"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_live_releases")),
    )
    op.create_table(
        "studio_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(length=100), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["script_releases.id"],
            name=op.f("fk_studio_changes_release_id_script_releases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_studio_changes_staff_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_changes")),
    )
    with op.batch_alter_table("studio_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_changes_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("studio_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_changes_at"))
    op.drop_table("studio_changes")
    op.drop_table("live_releases")
    op.drop_table("script_releases")
    op.drop_table("script_drafts")
