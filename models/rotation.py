"""Re-encrypt every stored value under the newest key, the second half of a key rotation."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import crypto
from models.base import Base


def reencrypt_all(session: Session) -> int:
    """Re-encrypt every encrypted column under the first key in RHI_DATA_KEY; returns the values changed.

    Works on the stored tokens, so nothing is decrypted into Python objects and ``updated_at`` and
    conversation versions are left as they were. The caller commits.
    """
    changed = 0
    for table in Base.metadata.sorted_tables:
        encrypted = [
            column for column in table.columns if isinstance(column.type, crypto.EncryptedText | crypto.EncryptedJSON)
        ]
        if not encrypted:
            continue
        primary_key = list(table.primary_key.columns)
        # type_coerce to Text reads and writes the raw token instead of going through the decorator.
        tokens = [sa.type_coerce(column, sa.Text).label(column.name) for column in encrypted]
        unchanged = {column.name: column for column in table.columns if column.onupdate is not None}
        for row in session.execute(sa.select(*primary_key, *tokens)).mappings().all():
            values = {
                name: sa.type_coerce(crypto.rotate_token(row[name]), sa.Text)
                for name in (column.name for column in encrypted)
                if row[name] is not None
            }
            if not values:
                continue
            session.execute(
                sa.update(table)
                .where(*(column == row[column.name] for column in primary_key))
                .values({**unchanged, **values})
            )
            changed += len(values)
    return changed
