"""PostgreSQL: a conversation's row is kept whole on its page, not moved to the TOAST table.

Its variables are encrypted, so they never compress, and at about 2.4 kB a row crossed PostgreSQL's 2 kB
threshold: every message then tried to compress them and wrote them out to the TOAST table (two chunks and
their index entries) again. Rows up to a page's size now stay where they are. SQLite has no such setting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE conversation_states SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE conversation_states RESET (toast_tuple_target)")
