"""Running transcript tests through the real dispatcher, on a throwaway SQLite database with demo data."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation.dispatcher import Dispatcher, Inbound
from bot.conversation.render import as_button_text, as_numbered_text
from bot.demo import load_demo_data
from bot.runtime import Runtime
from bot.settings import load_settings
from conversations.catalog import Catalog
from conversations.loading import load_catalog
from conversations.script import BUILTIN_SCRIPTS_DIR
from conversations.transcripts import Transcript, TranscriptError, check_step, load_transcript, transcript_files
from models import Channel, Contact, Episode, Escalation, Language, Referral
from models.crypto import generate_key
from models.migrate import upgrade

BUILTIN_TRANSCRIPTS_DIR = Path(__file__).resolve().parents[2] / "conversations" / "transcripts"
TRANSCRIPT_TIME = time(10, 0)


@dataclass(frozen=True)
class Failure:
    transcript: Transcript
    line: int
    message: str
    received: list[str]

    def __str__(self) -> str:
        received = (
            "\n".join(f"    | {line}" for reply in self.received for line in reply.splitlines()) or "    | (nothing)"
        )
        return f"{self.transcript.path}:{self.line}: {self.message}\n  received:\n{received}"


def transcript_moment(now: datetime) -> datetime:
    """When transcripts happen: the coming Monday at 10:00 local time (in UTC)."""
    monday = now.date() + timedelta(days=7 - now.weekday())
    local = datetime.combine(monday, TRANSCRIPT_TIME, tzinfo=now.tzinfo)
    return local.astimezone(UTC)


class TranscriptRunner:
    """A private database for a batch of transcripts; each transcript is a new contact."""

    def __init__(self, catalog: Catalog, workdir: Path) -> None:
        url = f"sqlite:///{workdir / 'transcripts.sqlite3'}"
        environ = {"RHI_DATABASE_URL": url, "RHI_DATA_KEY": generate_key(), "RHI_INSTANCE_PATH": str(workdir)}
        self.runtime = Runtime(load_settings(environ), catalog=catalog)
        # Every transcript runs at the same moment of the week, so "on saturday" and the times offered
        # read the same whatever day and hour the tests run.
        moment = transcript_moment(datetime.now(self.runtime.timezone))
        self.runtime.clock = lambda: moment
        upgrade(url)
        with self.runtime.session() as session, session.begin():
            load_demo_data(session, moment, self.runtime.timezone)
        self.dispatcher = Dispatcher(self.runtime)

    def run(self, transcript: Transcript) -> list[Failure]:
        channel = Channel(transcript.channel)
        address = f"transcript-{secrets.token_hex(8)}"
        if transcript.language == "cy":
            with self.runtime.session() as session, session.begin():
                session.add(Contact.for_address(channel, address, language=Language.CY, language_chosen=True))
        show = as_button_text if channel == Channel.TELEGRAM else as_numbered_text
        failures: list[Failure] = []
        replies: list[str] = []
        contact_id = 0
        for step in transcript.steps:
            if step.kind == "user":
                outcome = self.dispatcher.handle(Inbound(channel, address, f"t-{secrets.token_hex(8)}", step.text))
                replies = [show(reply) for reply in outcome.replies]
                contact_id = outcome.contact_id
            elif problem := check_step(step, replies):
                failures.append(Failure(transcript, step.line, problem, replies))
        outcome_values = self.outcome(contact_id)
        for key, expected in transcript.expect.items():
            actual = outcome_values.get(key)
            if _normal(actual) != _normal(expected):
                failures.append(
                    Failure(
                        transcript, transcript.expect_line, f"expected {key}: {expected!r}, but it is {actual!r}", []
                    )
                )
        return failures

    def outcome(self, contact_id: int) -> dict[str, Any]:
        with self.runtime.session() as session:
            return conversation_outcome(session, contact_id)

    def close(self) -> None:
        self.runtime.close()


def conversation_outcome(session: Session, contact_id: int) -> dict[str, Any]:
    """What the conversation left in the database, under the names transcript ``expect:`` uses."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return {}
    referrals = session.scalars(
        sa.select(Referral).where(Referral.contact_id == contact_id).order_by(Referral.id)
    ).all()
    episodes = session.scalars(sa.select(Episode).where(Episode.contact_id == contact_id).order_by(Episode.id)).all()
    escalations = session.scalars(
        sa.select(Escalation.category).where(Escalation.contact_id == contact_id).order_by(Escalation.id)
    ).all()
    referral = referrals[-1] if referrals else None
    episode = episodes[-1] if episodes else None
    booking = referral.bookings[-1] if referral and referral.bookings else None
    state = contact.state.variables if contact.state else {}
    return {
        "role": contact.role,
        "language": contact.language,
        "opted_out": contact.opted_out,
        "finished": state.get("waiting") == "finished",
        "referrals": len(referrals),
        "referral_status": referral.status if referral else None,
        "referred_by": referral.referred_by if referral else None,
        "child_agrees": referral.child_agrees if referral else None,
        "decline_reason": referral.decline_reason if referral else None,
        "decline_text": referral.decline_text if referral else None,
        "episodes": len(episodes),
        "police_informed": episode.police_informed if episode else None,
        "hidden": episode.hidden if episode else None,
        "setting": episode.setting if episode else None,
        "age_band": episode.age_band if episode else None,
        "still_missing": episode.still_missing if episode else None,
        "booking_requested": booking is not None,
        "slot_chosen": bool(booking and booking.slot_id),
        "place_kind": booking.place_kind if booking else None,
        "worker_preference": booking.worker_preference if booking else None,
        "trusted_adult": booking.trusted_adult if booking else None,
        "escalations": list(escalations),
    }


def _normal(value: Any) -> Any:
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return getattr(value, "value", value)


def transcripts_command(paths: Sequence[str], out: TextIO, scripts_dir: str | None = None) -> int:
    """``rhi scripts test``: run transcripts; print each failure with expected and received; exit 1 on any."""
    files = transcript_files([Path(path) for path in paths] or [BUILTIN_TRANSCRIPTS_DIR])
    try:
        transcripts = [load_transcript(path) for path in files]
    except TranscriptError as exc:
        out.write(f"{exc}\n")
        return 1
    catalog = load_catalog(Path(scripts_dir) if scripts_dir else BUILTIN_SCRIPTS_DIR)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="rhi-transcripts-") as workdir:
        runner = TranscriptRunner(catalog, Path(workdir))
        try:
            for transcript in transcripts:
                failures = runner.run(transcript)
                failed += bool(failures)
                out.write(f"{'FAIL' if failures else 'ok  '} {transcript.path.name}: {transcript.name}\n")
                for failure in failures:
                    out.write(f"{failure}\n")
        finally:
            runner.close()
    out.write(f"{len(transcripts) - failed} passed, {failed} failed\n")
    return 1 if failed else 0
