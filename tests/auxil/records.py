"""What tests read back from the outbox and write straight to the database, shared by the tests of several
packages."""

from __future__ import annotations

import sqlalchemy as sa
from jsonschema import Draft202012Validator

from bot.outbox.events import data_schema, envelope_schema
from bot.studio import store
from models import OutboxEvent, OutboxKind, Provider, ScriptRelease, utcnow


def assert_matches_its_schema(event: dict) -> None:
    """A provider event as the documented envelope and data schemas say."""
    Draft202012Validator(envelope_schema()).validate(event)
    Draft202012Validator(data_schema(event["type"])).validate(event["data"])


def staff_messages(runtime) -> list[dict]:
    """The messages to duty workers waiting in the outbox, oldest first."""
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE, OutboxEvent.type == "message.staff")
            .order_by(OutboxEvent.created_at)
        ).all()
        return [event.payload for event in events]


def with_rota(runtime) -> None:
    """The demo provider with a duty rota of two: one on SMS, one on Telegram."""
    with runtime.session() as session, session.begin():
        provider = session.scalars(sa.select(Provider)).one()
        provider.duty_contacts = [
            {"channel": "sms", "address": "+447700900001"},
            {"channel": "telegram", "address": "555000111"},
        ]


def publish_directly(runtime, kind: str, files: dict[str, str], message: str = "test") -> ScriptRelease:
    """A release made live without the studio's pages."""
    with runtime.session() as session, session.begin():
        release = store.publish(session, kind, files, store.Author(None, "tests", utcnow()), message)
    runtime.forget_live_releases()  # as the studio's publish page does
    return release


def everything_stored(runtime) -> dict[str, list[tuple]]:
    """Every row of every table, as stored (encrypted columns as their ciphertext): to show that a refused
    request stored nothing and changed nothing, anywhere."""
    from models.base import Base

    with runtime.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(sa.select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }
