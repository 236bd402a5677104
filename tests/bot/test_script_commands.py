"""The coordinator's commands: `rhi scripts validate` and `rhi scripts test`."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.studio.transcripts import BUILTIN_TRANSCRIPTS_DIR, transcripts_command
from conversations.script import BUILTIN_SCRIPTS_DIR


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "scripts", "validate", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scripts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "scripts"
    shutil.copytree(BUILTIN_SCRIPTS_DIR, target)
    return target


def test_the_built_in_scripts_are_valid():
    completed = validate()
    assert completed.returncode == 0, completed.stdout
    assert "no errors" in completed.stdout


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_step_that_leads_nowhere_is_reported_at_its_line(scripts_copy):
    booking = scripts_copy / "booking.yaml"
    booking.write_text(booking.read_text().replace("    else: worker\n  worker:", "    else: wokrer\n  worker:"))
    completed = validate(scripts_copy)
    assert completed.returncode == 1
    assert f"{booking}:{line_of(booking, 'else: wokrer')}:" in completed.stdout
    assert '"wokrer"' in completed.stdout


def test_a_missing_welsh_text_is_reported_at_its_line(scripts_copy):
    learn = scripts_copy / "learn.yaml"
    learn.write_text(learn.read_text().replace("      cy: Eisiau gwybod mwy? Dewisa un.\n", ""))
    completed = validate(learn)
    assert completed.returncode == 1
    assert f"{learn}:{line_of(learn, 'Want to know more?') - 1}:" in completed.stdout
    assert "Welsh" in completed.stdout or '"cy"' in completed.stdout


def test_invalid_yaml_is_reported_at_its_line_and_nothing_else_is_guessed(scripts_copy):
    decline = scripts_copy / "decline.yaml"
    lines = decline.read_text().splitlines()
    broken = line_of(decline, "own_words:")
    lines[broken - 1] = "  own_words: [unclosed"
    decline.write_text("\n".join(lines) + "\n")
    completed = validate(scripts_copy)
    assert completed.returncode == 1
    assert f"{decline}:" in completed.stdout and "not valid YAML" in completed.stdout


def test_the_built_in_transcripts_pass():
    out = io.StringIO()
    assert transcripts_command([], out) == 0, out.getvalue()
    assert f"{len(list(BUILTIN_TRANSCRIPTS_DIR.glob('*.yaml')))} passed, 0 failed" in out.getvalue()


def test_a_transcript_that_expects_the_wrong_words_fails_showing_what_was_received(tmp_path):
    transcript = tmp_path / "wrong.yaml"
    transcript.write_text(
        "name: expects the wrong greeting\nchannel: sms\nlanguage: en\nsteps:\n  - user: hi\n  - bot: Good morning\n"
        "expect:\n  role: parent_carer\n"
    )
    out = io.StringIO()
    assert transcripts_command([str(transcript)], out) == 1
    report = out.getvalue()
    assert f'{transcript}:6: expected a reply containing "Good morning"' in report
    assert "Who are you?" in report  # what the bot actually said
    assert "expected role: 'parent_carer'" in report


def test_a_transcript_with_an_unknown_outcome_check_names_the_line(tmp_path):
    transcript = tmp_path / "typo.yaml"
    transcript.write_text("name: typo\nsteps:\n  - user: hi\nexpect:\n  declined_reason: other\n")
    out = io.StringIO()
    assert transcripts_command([str(transcript)], out) == 1
    assert f"{transcript}:5:" in out.getvalue() and "declined_reason" in out.getvalue()


def test_transcripts_happen_on_the_coming_monday_at_ten_whatever_the_day_the_tests_run():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.studio.transcripts import transcript_moment

    london = ZoneInfo("Europe/London")
    for today in (datetime(2026, 12, 1, 8, 15, tzinfo=london), datetime(2026, 12, 6, 23, 59, tzinfo=london)):
        moment = transcript_moment(today).astimezone(london)
        assert (moment.date().isoformat(), moment.hour, moment.minute) == ("2026-12-07", 10, 0)
    summer = transcript_moment(datetime(2027, 7, 1, 9, 0, tzinfo=london))
    assert summer.astimezone(london).hour == 10 and summer.utcoffset().total_seconds() == 0  # 09:00 UTC in BST
