"""Areas as data, one provider per area; webhook secrets rotated with a grace period; staff who must choose
their own password.

``areas`` replaces ``providers.areas`` (a JSON list per provider, which let two providers claim one area): each
area has one row, naming it in English and Welsh and the provider covering it, if any. The existing lists are
copied over, named from the shipped list of Welsh councils where it has them; the first provider to claim an
area keeps it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:20:00
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED_NAMES = Path(__file__).resolve().parents[3] / "bot" / "data" / "areas.yaml"


def upgrade() -> None:
    areas = op.create_table(
        "areas",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("name_cy", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_areas_provider_id_providers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_areas")),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_areas_provider_id"), ["provider_id"], unique=False)
    connection = op.get_bind()
    names = yaml.safe_load(SHIPPED_NAMES.read_text(encoding="utf-8")) if SHIPPED_NAMES.exists() else {}
    rows: dict[str, dict[str, object]] = {}
    for provider_id, keys in connection.execute(sa.text("SELECT id, areas FROM providers ORDER BY id")):
        for key in (keys if isinstance(keys, list) else yaml.safe_load(keys or "[]")) or []:
            fallback = key.replace("_", " ").title()
            named = (names or {}).get(key) or {"en": fallback, "cy": fallback}
            rows.setdefault(
                key, {"key": key, "name_en": named["en"], "name_cy": named["cy"], "provider_id": provider_id}
            )
    if rows:
        op.bulk_insert(areas, list(rows.values()))
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("areas")
        batch_op.add_column(sa.Column("previous_webhook_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("previous_webhook_secret_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("previous_webhook_secret_until")
        batch_op.drop_column("previous_webhook_secret")
        batch_op.add_column(sa.Column("areas", sa.JSON(), nullable=True))
    connection = op.get_bind()
    providers = sa.table("providers", sa.column("id", sa.Integer()), sa.column("areas", sa.JSON()))
    covered: dict[int, list[str]] = {}
    for key, provider_id in connection.execute(sa.text("SELECT key, provider_id FROM areas ORDER BY key")):
        if provider_id is not None:
            covered.setdefault(provider_id, []).append(key)
    for provider_id, keys in covered.items():
        connection.execute(sa.update(providers).where(providers.c.id == provider_id).values(areas=keys))
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_provider_id"))
    op.drop_table("areas")
