"""`rhi chat --jsonl`: each journey driven from stdin, in English and Welsh, by number and by words.

Each input line is one inbound message and gives exactly one JSON line; afterwards the database holds
what the journey should leave there.
"""

import io
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from bot import cli
from bot.studio.transcripts import conversation_outcome
from models import Contact

# The terminal chat; the journeys' writes run on PostgreSQL in tests/bot/conversation.
pytestmark = pytest.mark.one_database

LEARN = {"referral_status": "declined", "decline_reason": "no_need"}
SELF_REFERRAL = {
    "referral_status": "booking_requested",
    "referred_by": "self",
    "hidden": True,
    "booking_requested": True,
}
PARENT_HIDDEN = {"referred_by": "parent_carer", "hidden": True, "police_informed": "no", "age_band": "age_13_15"}

JOURNEYS = {
    "learn-en-numbers": (["hi", "1", "1", "1", "2", "3", "4", "6", "1", "5"], LEARN),
    "learn-en-words": (
        [
            "hello",
            "young person",
            "find out more",
            "who will I talk to?",
            "will I get in trouble?",
            "no thanks",
            "no need to talk",
            "no thanks",
        ],
        LEARN,
    ),
    "learn-cy-numbers": (["shwmae", "1", "1", "1", "2", "3", "4", "6", "1", "5"], {**LEARN, "language": "cy"}),
    "learn-cy-words": (
        [
            "helo",
            "person ifanc",
            "dysgu mwy",
            "pwy",
            "fydda i mewn trwbl?",
            "dim diolch",
            "dim angen siarad",
            "dim diolch",
        ],
        {**LEARN, "language": "cy"},
    ),
    "self-referral-en-numbers": (
        ["hi", "1", "2", "2", "2", "2", "1", "1", "1", "3", "5", "1", "2", "1"],
        {**SELF_REFERRAL, "slot_chosen": True, "place_kind": "cafe"},
    ),
    "self-referral-en-words": (
        [
            "hi",
            "young person",
            "ask for a chat",
            "15",
            "yesterday",
            "no",
            "at home",
            "cardiff",
            "yes",
            "cafe",
            "a welsh speaker",
            "none of these",
            "none of these",
            "tomorrow morning",
            "yes",
            "none of these",
            "no",
            "yes send it",
        ],
        {**SELF_REFERRAL, "slot_chosen": False, "worker_preference": "welsh_speaker"},
    ),
    "self-referral-cy-numbers": (
        ["helo", "1", "2", "2", "2", "2", "1", "2", "1", "3", "5", "1", "2", "1"],
        {**SELF_REFERRAL, "language": "cy", "slot_chosen": True},
    ),
    "self-referral-cy-words": (
        [
            "helo",
            "person ifanc",
            "gofyn am sgwrs",
            "15",
            "ddoe",
            "nac oedden",
            "gartref",
            "casnewydd",
            "ydy",
            "caffi",
            "siaradwr cymraeg",
            "dim un o'r rhain",
            "dim un o'r rhain",
            "bore fory",
            "ydy",
            "dim un o'r rhain",
            "na",
            "ie, anfon",
        ],
        {**SELF_REFERRAL, "language": "cy", "place_kind": "cafe"},
    ),
    "parent-en-numbers": (
        ["hi", "2", "1", "3", "2", "2", "2", "1", "4", "3", "1"],
        {**PARENT_HIDDEN, "child_agrees": "not_sure"},
    ),
    "parent-en-words": (
        [
            "hi",
            "parent",
            "yes",
            "2 or 3 days ago",
            "yesterday",
            "no",
            "14",
            "at home with me",
            "vale of glamorgan",
            "not sure",
            "yes please",
        ],
        PARENT_HIDDEN,
    ),
    "parent-cy-numbers": (
        ["helo", "2", "1", "3", "2", "2", "2", "1", "2", "3", "1"],
        {**PARENT_HIDDEN, "language": "cy"},
    ),
    "parent-cy-words": (
        [
            "helo",
            "rhiant",
            "ydy",
            "2 neu 3 diwrnod yn ôl",
            "ddoe",
            "naddo",
            "14",
            "gartref gyda fi",
            "ddim yn siŵr",
            "ddim yn siŵr",
            "hoffwn",
        ],
        {**PARENT_HIDDEN, "language": "cy"},
    ),
    "decline-en-numbers": (
        ["hi", "1", "3", "11", "my mum would find out", "5"],
        {"decline_reason": "other", "decline_text": "my mum would find out"},
    ),
    "decline-en-words": (
        ["hi", "young person", "I don't want one", "worried what gets shared", "no thanks"],
        {"decline_reason": "fear_sharing"},
    ),
    "decline-cy-numbers": (
        ["helo", "1", "3", "11", "byddai mam yn gwybod", "5"],
        {"decline_reason": "other", "decline_text": "byddai mam yn gwybod", "language": "cy"},
    ),
    "decline-cy-words": (
        ["helo", "person ifanc", "dw i ddim eisiau un", "poeni beth gaiff ei rannu", "dim diolch"],
        {"decline_reason": "fear_sharing", "language": "cy"},
    ),
}


@pytest.fixture
def chat_env(runtime, database_url, data_key, tmp_path, monkeypatch):
    environ = {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key, "RHI_INSTANCE_PATH": str(tmp_path)}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ


def run_chat(monkeypatch, lines: list[str], *args: str) -> list[dict]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    monkeypatch.setattr(sys, "stdout", out)
    assert cli.main(["chat", "--jsonl", *args]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def latest_outcome(runtime) -> dict:
    with runtime.session() as session:
        contact_id = session.scalar(sa.select(sa.func.max(Contact.id)))
        values = conversation_outcome(session, contact_id)
    return {key: getattr(value, "value", value) for key, value in values.items()}


@pytest.mark.parametrize("journey", JOURNEYS)
def test_each_journey_completes_from_stdin_and_leaves_its_records(journey, runtime, chat_env, monkeypatch):
    messages, expected = JOURNEYS[journey]
    records = run_chat(monkeypatch, messages)
    assert [record["in"] for record in records] == messages  # exactly one JSON line per message
    assert all(record["out"] for record in records), "every message gets an answer"
    assert records[-1]["options"] == [] or journey.startswith("learn")
    outcome = latest_outcome(runtime)
    for key, value in expected.items():
        assert outcome[key] == value, key


def test_options_are_the_choices_of_the_last_reply_and_empty_for_free_text(runtime, chat_env, monkeypatch):
    records = run_chat(monkeypatch, ["hi", "1", "3", "11"])
    assert records[0]["options"] == ["I'm a young person", "A parent or carer", "Someone else"]
    assert records[3]["options"] == []  # "tell us in your own words"


def test_a_journey_carries_on_after_the_program_is_stopped_and_started(runtime, chat_env, monkeypatch):
    run_chat(monkeypatch, ["hi", "1", "2"], "--contact", "sam")
    records = run_chat(monkeypatch, ["14"], "--contact", "sam")
    assert records[0]["out"][-1].startswith("When did you get back?")


def test_the_real_command_reads_stdin_and_writes_json_lines(runtime, chat_env):
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--jsonl", "--channel", "sms"],
        input="hi\n1\n",
        capture_output=True,
        text=True,
        env={**os.environ, **chat_env},
        timeout=120,
        check=True,
    )
    records = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [record["in"] for record in records] == ["hi", "1"]
    assert "What would you like to do?" in records[1]["out"][-1]
