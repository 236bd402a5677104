"""Understanding a time in a young person's own words (conversations/timephrases.py): pure, no clock."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from conversations.timephrases import WantedTime, understand

LONDON = ZoneInfo("Europe/London")
# Tuesday 1 December 2026, mid-morning.
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=LONDON)
FRIDAY_MORNING = datetime(2026, 12, 4, 9, 0, tzinfo=LONDON)
FRIDAY_NIGHT = datetime(2026, 12, 4, 21, 30, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("reply", "day", "at", "part"),
    [
        ("tomorrow after school", date(2026, 12, 2), None, "after_school"),
        ("sat 2pm", date(2026, 12, 5), time(14), None),
        ("Saturday 2 PM", date(2026, 12, 5), time(14), None),
        ("monday morning", date(2026, 12, 7), None, "morning"),
        ("next friday", date(2026, 12, 4), None, None),
        ("dydd Llun ar ôl ysgol", date(2026, 12, 7), None, "after_school"),
        ("dydd llun ar ol ysgol", date(2026, 12, 7), None, "after_school"),
        ("bore fory", date(2026, 12, 2), None, "morning"),
        ("dydd Sadwrn 2yp", date(2026, 12, 5), time(14), None),
        ("nos Wener", date(2026, 12, 4), None, "evening"),
        ("dydd Mawrth nesaf", date(2026, 12, 8), None, None),
        ("dydd mawrth 5", date(2026, 12, 1), time(17), None),  # Tuesday at 5, not the 5th of March
        ("5 Mawrth", date(2027, 3, 5), None, None),
        ("tmrw 4:30", date(2026, 12, 2), time(16, 30), None),
        ("wednesday 01:00", date(2026, 12, 2), time(1), None),  # the 24-hour clock, as written
        ("wednesday 00:00", date(2026, 12, 2), time(0), None),
        ("wednesday 07:30", date(2026, 12, 2), time(7, 30), None),
        ("wednesday 14:30", date(2026, 12, 2), time(14, 30), None),
        ("half 4 tomorrow", date(2026, 12, 2), time(16, 30), None),
        ("friday at 7", date(2026, 12, 4), time(19), None),
        ("thursday 10", date(2026, 12, 3), time(10), None),
        ("5/12 at 2pm", date(2026, 12, 5), time(14), None),
        ("the 24th of december", date(2026, 12, 24), None, None),
        ("5 Ionawr", date(2027, 1, 5), None, None),
        ("in 3 days", date(2026, 12, 4), None, None),
        ("tonight", date(2026, 12, 1), None, "evening"),
        ("2pm", date(2026, 12, 1), time(14), None),  # a time on its own: today, while it is still ahead
        ("9am", date(2026, 12, 2), time(9), None),  # ...and tomorrow once it has gone by
        ("Tuesday after school!!", date(2026, 12, 1), None, "after_school"),
        ("after school on wednesday please", date(2026, 12, 2), None, "after_school"),
        ("2moro after skool", date(2026, 12, 2), None, "after_school"),
        ("this weekend", date(2026, 12, 5), None, None),
        ("penwythnos yma yn y prynhawn", date(2026, 12, 5), None, "afternoon"),
    ],
)
def test_a_plain_answer_becomes_a_day_and_a_time_or_part_of_day(reply, day, at, part):
    understood = understand(reply, TUESDAY_MORNING)
    assert understood.status == "ok", reply
    assert understood.wanted == WantedTime(day, at, part)


def test_next_friday_said_on_a_friday_is_in_seven_days():
    assert understand("next friday", FRIDAY_MORNING).wanted.day == date(2026, 12, 11)
    assert understand("dydd Gwener nesaf", FRIDAY_MORNING).wanted.day == date(2026, 12, 11)


def test_friday_said_on_a_friday_is_today_while_there_is_still_time_else_next_week():
    assert understand("friday", FRIDAY_MORNING).wanted.day == date(2026, 12, 4)
    assert understand("friday after school", FRIDAY_MORNING).wanted.day == date(2026, 12, 4)
    assert understand("friday", FRIDAY_NIGHT).wanted.day == date(2026, 12, 11)
    assert understand("friday 8am", FRIDAY_MORNING).wanted.day == date(2026, 12, 11)


@pytest.mark.parametrize("reply", ["yesterday", "ddoe", "last monday", "dydd Llun diwethaf", "20/11", "today 9am"])
def test_a_day_in_the_past_is_recognised_as_past_so_the_bot_can_refuse_it_kindly(reply):
    assert understand(reply, TUESDAY_MORNING).status == "past"


@pytest.mark.parametrize("reply", ["asdfgh", "whenever", "dunno", "", "???", "😀", "next week"])
def test_something_with_no_day_or_time_in_it_is_unclear(reply):
    assert understand(reply, TUESDAY_MORNING).status == "unclear"


def test_what_was_understood_is_read_back_in_both_languages():
    sat = understand("sat 2pm", TUESDAY_MORNING).wanted
    assert sat.describe("en") == "Saturday 5 December, about 2pm"
    assert sat.describe("cy") == "Dydd Sadwrn 5 Rhagfyr, tua 2yp"
    monday = understand("dydd Llun ar ôl ysgol", TUESDAY_MORNING).wanted
    assert monday.describe("en") == "Monday 7 December, after school"
    assert monday.describe("cy") == "Dydd Llun 7 Rhagfyr, ar ôl ysgol"
    assert understand("next friday", TUESDAY_MORNING).wanted.describe("en") == "Friday 4 December"


def test_the_moment_to_look_near_is_the_exact_time_or_the_middle_of_the_part_of_day():
    assert understand("sat 2pm", TUESDAY_MORNING).wanted.target == time(14)
    assert understand("monday morning", TUESDAY_MORNING).wanted.target == time(10)
    after_school = understand("tomorrow after school", TUESDAY_MORNING).wanted
    assert after_school.starts <= after_school.target <= after_school.ends
