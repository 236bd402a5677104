"""The data model as people would notice it: private data unreadable at rest, nothing booked twice."""

import base64
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Booking,
    BookingStatus,
    Channel,
    Contact,
    ConversationState,
    Direction,
    Episode,
    Escalation,
    InboundEvent,
    Message,
    PoliceInformed,
    Provider,
    Referral,
    ReferredBy,
    ReportedBy,
    Setting,
    Severity,
    Slot,
    Worker,
    crypto,
    default_database_url,
    make_engine,
    make_session_factory,
    migrate,
    normalise_url,
)
from models.rotation import reencrypt_all

PHONE = "+447700900123"
TEXT = "I stayed at Jay's flat on Heol y Frenhines"


def _open_with(key: str, token: str) -> str:
    """A stored value opened as the README says it is sealed, without the application's code: AES-256-GCM
    under HKDF-SHA256 of the key, base64 of nonce + ciphertext after ``aes:``."""
    assert token.startswith("aes:")
    raw = base64.b64decode(token[4:])
    derived = HKDF(hashes.SHA256(), 32, None, b"rhi sealing key aes-256-gcm").derive(base64.urlsafe_b64decode(key))
    return AESGCM(derived).decrypt(raw[:12], raw[12:], None).decode()


def _contact(session: Session, address: str = PHONE, channel: Channel = Channel.SMS) -> Contact:
    contact = Contact.for_address(channel, address, display_name="Sam")
    session.add(contact)
    session.flush()
    return contact


def _referral(session: Session) -> Referral:
    referral = Referral(contact=_contact(session), referred_by=ReferredBy.SELF, channel=Channel.SMS)
    session.add(referral)
    session.flush()
    return referral


def _slot(session: Session) -> Slot:
    provider = Provider(slug="south-wales", name="South Wales RHI Service", areas=["cardiff"])
    worker = Worker(provider=provider, display_name="Ceri", languages=["en", "cy"])
    slot = Slot(worker=worker, starts_at=datetime(2030, 1, 7, 16, tzinfo=UTC))
    slot.ends_at = slot.starts_at + timedelta(hours=1)
    session.add(slot)
    session.flush()
    return slot


def test_phone_numbers_and_what_people_say_are_unreadable_in_the_database(db: Session, data_key: str) -> None:
    contact = _contact(db)
    db.add(Message(contact=contact, direction=Direction.INBOUND, channel=Channel.SMS, text=TEXT))
    db.add(Escalation(contact=contact, category="unsafe_now", severity=Severity.URGENT, excerpt=TEXT, matches=[TEXT]))
    db.add(
        ConversationState(
            contact=contact, script="self_referral", script_version="1", step="start", variables={"where": TEXT}
        )
    )
    db.commit()

    stored = db.execute(
        sa.text(
            "SELECT address, display_name, text, excerpt, matches, variables FROM contacts "
            "JOIN messages ON messages.contact_id = contacts.id "
            "JOIN escalations ON escalations.contact_id = contacts.id "
            "JOIN conversation_states ON conversation_states.contact_id = contacts.id"
        )
    ).one()
    for value in stored:
        assert "7700900123" not in value
        assert "Heol y Frenhines" not in value  # spaces: never part of a (base64) token by chance
    assert _open_with(data_key, stored.text) == TEXT


def test_the_sqlite_file_holds_no_phone_number_or_message_text(tmp_path: Path, data_key: str) -> None:
    crypto.configure_keys([data_key])
    url = f"sqlite:///{tmp_path / 'rhi.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.add(Message(contact=_contact(session), direction=Direction.INBOUND, channel=Channel.SMS, text=TEXT))
        session.commit()
    engine.dispose()

    # Read the main file and the write-ahead log, where fresh writes sit until a checkpoint.
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("rhi.sqlite3*"))
    assert b"7700900123" not in raw
    assert b"Heol y Frenhines" not in raw


def test_a_contact_is_found_by_address_however_the_number_was_written(db: Session) -> None:
    contact = _contact(db, address="0044 7700 900-123")
    db.commit()

    assert contact.address == PHONE
    assert Contact.find(db, Channel.SMS, PHONE) is contact
    assert Contact.find(db, Channel.SMS, "+44 7700 900123") is contact
    assert Contact.find(db, Channel.TELEGRAM, PHONE) is None
    assert Contact.find(db, Channel.SMS, "+447700900124") is None


def test_one_address_is_one_contact_per_channel(db: Session) -> None:
    _contact(db)
    _contact(db, channel=Channel.TELEGRAM)
    db.commit()

    with pytest.raises(IntegrityError), db.begin_nested():
        _contact(db, address="+44 7700 900123")


def test_after_a_key_rotation_old_rows_stay_readable_and_findable(
    session_factory: sessionmaker[Session], data_key: str
) -> None:
    with session_factory() as session:
        contact = _contact(session)
        session.add(Message(contact=contact, direction=Direction.INBOUND, channel=Channel.SMS, text=TEXT))
        session.commit()

    new_key = crypto.generate_key()
    crypto.configure_keys(crypto.keys_from_setting(f"{new_key}, {data_key}"))
    with session_factory() as session:
        contact = Contact.find(session, Channel.SMS, PHONE)
        assert contact is not None
        assert contact.display_name == "Sam"
        assert session.scalars(contact.messages.select()).one().text == TEXT

        assert reencrypt_all(session) == 3
        session.commit()

        raw_text = session.execute(sa.text("SELECT text FROM messages")).scalar_one()
        assert _open_with(new_key, raw_text) == TEXT
        assert Contact.find(session, Channel.SMS, PHONE) is not None


def test_values_stored_as_fernet_tokens_by_earlier_versions_open_and_are_rewritten(
    session_factory: sessionmaker[Session], data_key: str
) -> None:
    with session_factory() as session:
        contact = _contact(session)
        session.add(Message(contact=contact, direction=Direction.INBOUND, channel=Channel.SMS, text="x"))
        session.commit()
        earlier = Fernet(data_key).encrypt(TEXT.encode()).decode()
        session.execute(sa.text("UPDATE messages SET text = :token"), {"token": earlier})
        session.commit()

    with session_factory() as session:
        assert session.scalars(sa.select(Message)).one().text == TEXT
        assert reencrypt_all(session) == 3
        session.commit()
        raw_text = session.execute(sa.text("SELECT text FROM messages")).scalar_one()
        assert _open_with(data_key, raw_text) == TEXT


@pytest.mark.parametrize("damage", ["a changed byte", "cut short", "not base64"])
def test_a_stored_value_that_was_tampered_with_does_not_open(data_key: str, damage: str) -> None:
    crypto.configure_keys([data_key])
    token = crypto.encrypt(TEXT.encode())
    raw = bytearray(base64.b64decode(token[4:]))
    raw[20] ^= 1
    damaged = {
        "a changed byte": "aes:" + base64.b64encode(bytes(raw)).decode(),
        "cut short": token[:12],
        "not base64": "aes:%%%%",
    }[damage]
    with pytest.raises(crypto.DecryptionError, match="RHI_DATA_KEY"):
        crypto.decrypt(damaged)


def test_data_written_under_a_key_that_is_gone_fails_with_a_clear_error(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        _contact(session)
        session.commit()

    crypto.configure_keys([crypto.generate_key()])
    with session_factory() as session, pytest.raises(crypto.DecryptionError, match="RHI_DATA_KEY"):
        session.scalars(sa.select(Contact)).one()


def test_without_keys_nothing_is_encrypted_or_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_key_ring", None)
    with pytest.raises(RuntimeError, match="RHI_DATA_KEY"):
        crypto.address_hash("sms", PHONE)
    with pytest.raises(RuntimeError, match="RHI_DATA_KEY"):
        crypto.EncryptedText().process_bind_param(TEXT, sa.create_engine("sqlite://").dialect)


def test_a_malformed_key_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError, match="key 2 of 2 is not a Fernet key") as refused:
        crypto.configure_keys([crypto.generate_key(), "not-a-key-secret"])
    assert "not-a-key-secret" not in str(refused.value)


@pytest.mark.parametrize("setting", ["", " , "])
def test_an_empty_data_key_setting_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="RHI_DATA_KEY is empty"):
        crypto.keys_from_setting(setting)


def test_the_demo_key_file_is_private_and_stable(tmp_path: Path) -> None:
    key_file = tmp_path / "instance" / "data.key"
    key = crypto.load_or_create_key_file(key_file)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert crypto.load_or_create_key_file(key_file) == key
    Fernet(key)


def test_a_redelivered_channel_event_is_rejected_by_the_database(db: Session) -> None:
    db.add(InboundEvent(channel=Channel.TELEGRAM, external_id="726341980", response={"text": "Hi"}))
    db.commit()

    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(InboundEvent(channel=Channel.TELEGRAM, external_id="726341980"))
    db.add(InboundEvent(channel=Channel.SMS, external_id="726341980"))
    db.commit()

    first = db.scalars(sa.select(InboundEvent).where(InboundEvent.channel == Channel.TELEGRAM)).one()
    assert first.response == {"text": "Hi"}


def test_two_writers_of_one_conversation_state_cannot_both_win(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    db.add(ConversationState(contact=_contact(db), script="self_referral", script_version="1", step="start"))
    db.commit()

    with session_factory() as first, session_factory() as second:
        first_state = first.scalars(sa.select(ConversationState)).one()
        second_state = second.scalars(sa.select(ConversationState)).one()
        first.commit()
        second.commit()

        first_state.step = "ask_returned"
        first.commit()
        second_state.step = "ask_police"
        with pytest.raises(StaleDataError):
            second.commit()

    db.expire_all()
    assert db.scalars(sa.select(ConversationState.step)).one() == "ask_returned"


def test_conversation_variables_round_trip(db: Session) -> None:
    variables = {"name": "Siân", "answers": [1, "cy", None], "consent": True}
    db.add(
        ConversationState(
            contact=_contact(db), script="parent", script_version="2", step="consent", variables=variables
        )
    )
    db.commit()
    db.expire_all()

    assert db.scalars(sa.select(ConversationState)).one().variables == variables


def test_two_live_bookings_cannot_hold_one_slot(db: Session) -> None:
    slot = _slot(db)
    first = Booking(referral=_referral(db), slot=slot)
    db.add(first)
    db.commit()

    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(Booking(referral=first.referral, slot=slot, status=BookingStatus.CONFIRMED))

    first.status = BookingStatus.CANCELLED
    db.add(Booking(referral=first.referral, slot=slot))
    db.commit()
    live = db.scalars(sa.select(Booking.status).where(Booking.slot_id == slot.id).order_by(Booking.id))
    assert live.all() == ["cancelled", "requested"]


@pytest.mark.parametrize(
    ("police_informed", "hidden"),
    [(PoliceInformed.NO, True), (PoliceInformed.YES, False), (PoliceInformed.NOT_SURE, False)],
)
def test_an_episode_the_police_were_never_told_about_is_hidden(police_informed: PoliceInformed, hidden: bool) -> None:
    episode = Episode(reported_by=ReportedBy.YOUNG_PERSON, police_informed=police_informed, setting=Setting.HOME)
    assert episode.hidden is hidden
    assert "hidden" not in Episode.__table__.columns


def test_one_referral_can_cover_several_episodes(db: Session) -> None:
    referral = _referral(db)
    for police_informed in (PoliceInformed.YES, PoliceInformed.NO):
        referral.episodes.append(
            Episode(
                contact=referral.contact,
                reported_by=ReportedBy.YOUNG_PERSON,
                police_informed=police_informed,
                setting=Setting.CARE,
            )
        )
    db.commit()
    db.expire_all()

    assert sorted(episode.hidden for episode in db.get(Referral, referral.id).episodes) == [False, True]


def test_times_come_back_timezone_aware_in_utc(db: Session) -> None:
    cardiff_summer = timezone(timedelta(hours=1))
    slot = _slot(db)
    slot.starts_at = datetime(2030, 7, 1, 17, 30, tzinfo=cardiff_summer)
    db.commit()
    db.expire_all()

    assert db.get(Slot, slot.id).starts_at == datetime(2030, 7, 1, 16, 30, tzinfo=UTC)
    assert db.get(Slot, slot.id).starts_at.tzinfo is UTC
    found = db.scalars(sa.select(Slot).where(Slot.starts_at > datetime(2030, 7, 1, 17, tzinfo=cardiff_summer)))
    assert found.one().id == slot.id


def test_a_time_without_a_zone_is_refused(db: Session) -> None:
    slot = _slot(db)
    slot.starts_at = datetime(2030, 7, 1, 17, 30)
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()


def test_values_are_stored_as_lowercase_words_and_unknown_ones_refused(db: Session) -> None:
    _contact(db)
    db.commit()

    assert db.execute(sa.text("SELECT channel, language FROM contacts")).one() == ("sms", "en")
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.text("UPDATE contacts SET channel = 'fax'"))


def test_deleting_a_contact_deletes_what_they_said(db: Session) -> None:
    contact = _contact(db)
    event = InboundEvent(channel=Channel.SMS, external_id="SM1", contact=contact)
    db.add(Message(contact=contact, direction=Direction.INBOUND, channel=Channel.SMS, text=TEXT, inbound_event=event))
    db.add(ConversationState(contact=contact, script="self_referral", script_version="1", step="start"))
    referral = Referral(contact=contact, referred_by=ReferredBy.SELF, channel=Channel.SMS)
    db.add(Booking(referral=referral, preferred_time_text="after school on Tuesday"))
    db.commit()

    db.execute(sa.delete(Contact).where(Contact.id == contact.id))
    db.commit()

    for model in (Message, ConversationState, Referral, Booking):
        assert db.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    assert db.scalars(sa.select(InboundEvent.contact_id)).one() is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://rhi@db/rhi", "postgresql+psycopg://rhi@db/rhi"),
        ("postgresql://rhi@db/rhi", "postgresql+psycopg://rhi@db/rhi"),
        ("postgresql+psycopg://rhi@db/rhi", "postgresql+psycopg://rhi@db/rhi"),
        ("sqlite:///instance/rhi.sqlite3", "sqlite:///instance/rhi.sqlite3"),
    ],
)
def test_database_urls_are_pointed_at_psycopg(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_the_default_database_is_a_file_in_the_instance_folder(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/rhi.sqlite3"


def test_a_booking_keeps_its_private_text_encrypted_on_disk(db: Session) -> None:
    referral = _referral(db)
    now = datetime.now(UTC)
    booking = Booking(
        referral=referral,
        preferred_time_text=TEXT,
        status=BookingStatus.REQUESTED,
        outside_window=True,
        reminders_sent=[],
        created_at=now,
        updated_at=now,
    )
    db.add(booking)
    db.flush()
    stored = db.execute(sa.text("SELECT preferred_time_text, outside_window FROM bookings")).one()
    assert TEXT not in stored[0] and stored[1] in (True, 1)
    db.expire_all()
    assert db.get(Booking, booking.id).preferred_time_text == TEXT
