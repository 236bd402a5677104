"""A staff role for commissioners (a council or regional board): the partnership's report, counts only.

Only the CHECK constraint on ``staff_users.role`` changes (roles are VARCHAR, never a native enum).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("duty_worker", "provider_admin", "coordinator", "admin")


def _role(*roles: str) -> sa.Enum:
    return sa.Enum(*roles, name="staff_role", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=_role(*ROLES), type_=_role(*ROLES, "commissioner"), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM staff_users WHERE role = 'commissioner'")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=_role(*ROLES, "commissioner"), type_=_role(*ROLES), existing_nullable=False
        )
