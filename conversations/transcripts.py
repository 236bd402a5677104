"""Transcript tests: a conversation written down with what the bot should (and should not) say.

This module reads and checks the files and compares replies; running them against a database is the
runtime's job (``bot/transcripts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conversations.yamlsource import SourceError, load_located

CHANNELS = ("sms", "telegram", "terminal")
EXPECT_KEYS = {
    "role": "who the contact said they are (young_person, parent_carer, other)",
    "language": "the contact's language at the end (en, cy)",
    "opted_out": "true when the contact said STOP",
    "finished": "true when the conversation reached an end step",
    "referrals": "how many referrals the contact has",
    "referral_status": "status of the latest referral (open, booking_requested, booked, declined, closed)",
    "referred_by": "self or parent_carer",
    "child_agrees": "for a parent's referral: yes, no or not_sure",
    "decline_reason": "the decline reason code",
    "decline_text": "the young person's own words for 'other' (exact)",
    "episodes": "how many episodes the contact reported",
    "police_informed": "latest episode: yes, no or not_sure",
    "hidden": "latest episode: true when police were not told",
    "setting": "latest episode: home, care, care_out_of_area or not_sure",
    "age_band": "latest episode: under_13, age_13_15, age_16_17, age_18_plus or not_sure",
    "still_missing": "latest episode: true when the young person was not back yet",
    "booking_requested": "true when the latest referral has a booking request",
    "slot_chosen": "true when the booking request holds one of the offered times",
    "place_kind": "the booking's place (school, youth_centre, cafe, walk, home, phone, video)",
    "worker_preference": "the booking's worker choice (any, met_before, woman, man, welsh_speaker)",
    "trusted_adult": "true when a trusted adult should come",
    "escalations": "the safeguarding categories recorded, in order",
}


@dataclass(frozen=True)
class TranscriptStep:
    kind: str  # user, bot or bot_not
    text: str
    line: int


@dataclass(frozen=True)
class Transcript:
    path: Path
    name: str
    channel: str
    language: str
    steps: tuple[TranscriptStep, ...]
    expect: dict[str, Any] = field(default_factory=dict)
    expect_line: int = 0


class TranscriptError(Exception):
    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


def load_transcript(path: Path) -> Transcript:
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except SourceError as exc:
        raise TranscriptError(path, exc.line, exc.message) from None
    data = located.data
    if not isinstance(data, dict):
        raise TranscriptError(path, 1, "a transcript needs name, channel, language and steps")
    unknown = set(data) - {"name", "channel", "language", "steps", "expect"}
    if unknown:
        key = sorted(unknown)[0]
        raise TranscriptError(path, located.line_of((key,)), f'"{key}" is not a transcript key')
    channel = data.get("channel", "sms")
    if channel not in CHANNELS:
        raise TranscriptError(path, located.line_of(("channel",)), f"channel must be one of {', '.join(CHANNELS)}")
    language = data.get("language", "en")
    if language not in ("en", "cy"):
        raise TranscriptError(path, located.line_of(("language",)), "language must be en or cy")
    steps = []
    for index, raw in enumerate(data.get("steps") or []):
        line = located.line_of(("steps", index))
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("user", "bot", "bot_not"):
            raise TranscriptError(path, line, "each step is one of  user: ...,  bot: ...  or  bot_not: ...")
        kind, text = next(iter(raw.items()))
        steps.append(TranscriptStep(kind, "" if text is None else str(text), line))
    if not steps or steps[0].kind != "user":
        raise TranscriptError(path, located.line_of(("steps",)), "the first step must be a  user:  message")
    expect = data.get("expect") or {}
    for key in expect:
        if key not in EXPECT_KEYS:
            raise TranscriptError(
                path,
                located.line_of(("expect", key)),
                f'"{key}" is not an outcome check; known checks: {", ".join(EXPECT_KEYS)}',
            )
    return Transcript(
        path,
        str(data.get("name") or path.stem),
        channel,
        language,
        tuple(steps),
        dict(expect),
        located.line_of(("expect",)),
    )


def check_step(step: TranscriptStep, replies: list[str]) -> str | None:
    """None when a bot / bot_not step holds for this turn's replies; otherwise what went wrong."""
    wanted = step.text.casefold()
    found = [reply for reply in replies if wanted in reply.casefold()]
    if step.kind == "bot" and not found:
        return f'expected a reply containing "{step.text}"'
    if step.kind == "bot_not" and found:
        return f'expected no reply containing "{step.text}"'
    return None


def transcript_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files
