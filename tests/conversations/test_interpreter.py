"""The interpreter on its own: no database, no clock, just scripts, state and a message."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.interpreter import EffectDone, Turn, UserText, advance, new_state
from conversations.loading import load_catalog

CATALOG = load_catalog()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))
VARIABLES = {
    "service_name": "Demo Service",
    "helplines": "Childline 0800 1111",
    "helpline_childline": "Childline 0800 1111",
    "helpline_runaway": "Runaway Helpline 116 000",
    "helpline_nspcc": "NSPCC 0808 800 5000",
}
SLOTS = [{"value": n, "label": {"en": f"Mon 24 Nov, {n}pm", "cy": f"Llun 24 Tach, {n}yp"}} for n in (1, 2, 3)]


class Chat:
    """Plays the runtime's part: carries out effects with canned results and records them."""

    def __init__(self, language: str = "en") -> None:
        self.state = new_state(language, VARIABLES)
        self.effects: list[str] = []
        self.turn: Turn | None = None

    def __call__(self, text: str) -> list[str]:
        turn = advance(CATALOG, self.state, UserText(text, NOW))
        replies = list(turn.replies)
        while turn.effect:
            self.effects.append(turn.effect.name)
            turn = advance(CATALOG, turn.state, EffectDone(self._result(turn.effect.name, turn.effect.variables)))
            replies.extend(turn.replies)
        self.state, self.turn = turn.state, turn
        self.replies = replies
        return [reply.text for reply in replies]

    @property
    def options(self) -> list[str]:
        return list(self.replies[-1].options) if self.replies else []

    def _result(self, name: str, variables: dict) -> dict:
        if name == "find_slots":
            first = variables.get("slot_page", 0) == 0
            return {"slots": SLOTS if first else [], "slots_found": "yes" if first else "no", "slot_page": 1}
        if name == "find_request":
            return {"request_open": "yes" if variables.get("referral_id") else "no"}
        if name == "create_referral":
            return {"referral_id": 7, "deadline": {"en": "Wednesday 25 November", "cy": "Dydd Mercher 25 Tachwedd"}}
        return {}

    def says(self, *texts: str) -> None:
        for text in texts:
            self(text)


def joined(replies: list[str]) -> str:
    return "\n".join(replies)


def test_the_first_message_offers_welsh_says_what_stays_private_and_how_to_stop():
    chat = Chat()
    text = joined(chat("hi"))
    assert "CYMRAEG" in text
    assert "private" in text
    assert "STOP" in text
    assert chat.options == ["I'm a young person", "A parent or carer", "Someone else"]


def test_a_first_message_in_welsh_is_answered_in_welsh():
    chat = Chat()
    text = joined(chat("Shwmae, dw i angen help"))
    assert "Pwy ydych chi?" in text
    assert "ENGLISH" in text
    assert chat.state["language"] == "cy"


@pytest.mark.parametrize("reply", ["1", "1.", "one", "I'm a young person", "young person", "me", "YOUNG PERSON!!"])
def test_an_option_is_chosen_by_number_or_by_its_words(reply):
    chat = Chat()
    chat("hi")
    chat(reply)
    assert chat.state["vars"]["role"] == "young_person"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("yeah", True), ("ok", True), ("Yes, that's OK", True), ("nah", False), ("no", False), ("👍", True)],
)
def test_yes_and_no_are_understood_in_everyday_words(reply, expected):
    chat = Chat()
    chat.says("hi", "1", "2", "2", "today", "no", "home")
    chat(reply)
    assert chat.state["vars"]["consent_given"] is expected


@pytest.mark.parametrize(("reply", "expected"), [("ydy", True), ("iawn", True), ("na", False), ("nage", False)])
def test_welsh_yes_and_no_are_understood(reply, expected):
    chat = Chat("cy")
    chat.says("helo", "1", "2", "2", "ddoe", "na", "gartref")
    chat(reply)
    assert chat.state["vars"]["consent_given"] is expected


def test_not_sure_is_not_mistaken_for_yes_because_it_contains_sure():
    chat = Chat()
    chat.says("hi", "1", "2", "2", "today")
    chat("I'm not sure")
    assert chat.state["vars"]["police_informed"] == "not_sure"


def test_a_number_out_of_range_is_re_asked_kindly_with_the_options():
    chat = Chat()
    chat.says("hi", "1", "2")
    replies = chat("57")
    assert "Sorry, I didn't get that" in replies[0]
    assert chat.options[0] == "12 or under"
    assert chat.state["step"] == "age"


def test_after_three_misunderstandings_the_bot_offers_a_person():
    chat = Chat()
    chat.says("hi", "1", "2", "purple", "banana")
    text = joined(chat("??"))
    assert "What would help?" in text
    assert "Talk to a person" in chat.options
    chat("talk to a person")
    assert "request_human" in chat.effects
    assert chat.state["step"] == "age"  # and they are back where they were


def test_help_explains_the_commands_then_asks_the_same_question_again():
    chat = Chat()
    chat.says("hi", "1", "2")
    text = joined(chat("help"))
    assert "MENU" in text and "STOP" in text and "999" in text
    assert text.endswith("How old are you?")


def test_cymraeg_switches_language_mid_journey_and_asks_the_same_question_in_welsh():
    chat = Chat()
    chat.says("hi", "1", "2")
    text = joined(chat("cymraeg"))
    assert "Faint yw dy oed di?" in text
    assert "set_language" in chat.effects
    assert chat.state["language"] == "cy"
    assert "How old" in joined(chat("english"))


def test_stop_silences_the_bot_until_start():
    chat = Chat()
    chat.says("hi", "1")
    assert "START" in joined(chat("stop"))
    assert "opt_out" in chat.effects
    assert chat("hello?") == []
    assert chat("I want to carry on") == []
    text = joined(chat("start"))
    assert "opt_in" in chat.effects
    assert "Who are you?" in text


def test_cancel_stops_except_as_an_answer_where_there_is_no_carrier():
    at_the_role_question = Chat()
    at_the_role_question("hi")
    turn = advance(CATALOG, at_the_role_question.state, UserText("cancel", NOW, carrier_opt_out=False))
    assert turn.state["stopped"], "not an answer to this question: it stops, on any channel"
    in_the_change_menu = Chat()
    in_the_change_menu.says("hi", "1")
    in_the_change_menu.state.update(script="manage_booking", step="show", waiting="input")
    over_sms = advance(CATALOG, in_the_change_menu.state, UserText("cancel", NOW))
    assert over_sms.state["stopped"], "on SMS the carrier unsubscribes them whatever the bot does: so does the bot"
    over_telegram = advance(CATALOG, in_the_change_menu.state, UserText("cancel", NOW, carrier_opt_out=False))
    assert not over_telegram.state["stopped"] and over_telegram.state["step"] == "cancel_sure"
    stop = advance(CATALOG, in_the_change_menu.state, UserText("STOP", NOW, carrier_opt_out=False))
    assert stop.state["stopped"], "STOP itself always stops"


def test_delete_my_data_asks_first_and_no_keeps_the_conversation():
    chat = Chat()
    chat.says("hi", "1", "2")
    assert "can't be undone" in joined(chat("delete my data"))
    assert joined(chat("no")).endswith("How old are you?")
    assert "delete_my_data" not in chat.effects
    chat("delete my data")
    assert "have been deleted" in joined(chat("yes"))
    assert "delete_my_data" in chat.effects


def test_menu_starts_again_from_the_young_persons_menu():
    chat = Chat()
    chat.says("hi", "1", "2", "2")
    assert "What would you like to do?" in joined(chat("menu"))


def test_a_typed_day_is_understood_and_kept_with_the_band():
    chat = Chat()
    chat.says("hi", "1", "2", "2")
    chat("on saturday")  # NOW is Monday 23 November 2026
    assert chat.state["vars"]["returned_band"] == "days_2_3"
    assert chat.state["vars"]["returned_band_date"] == "2026-11-21"


def test_the_booking_summary_reads_back_every_choice():
    chat = Chat()
    chat.says("hi", "1", "2", "2", "today", "no", "home", "yes")
    chat.says("cafe", "a welsh speaker", "2")
    text = joined(chat("yes"))
    assert "When: Mon 24 Nov, 2pm" in text
    assert "Where: A cafe" in text
    assert "Who: A Welsh speaker" in text
    assert "Adult with you: Yes" in text


def test_a_parent_whose_child_is_still_away_hears_999_and_101_before_any_question():
    chat = Chat()
    chat.says("hi", "parent")
    replies = chat("no, still away")
    assert "999" in replies[0] and "101" in replies[0] and "24 hours" in replies[0]


def test_a_parents_unreported_episode_gets_encouragement_to_report_next_time():
    chat = Chat()
    chat.says("hi", "2", "yes", "2", "1")
    text = joined(chat("no"))
    assert "don't have to wait 24 hours" in text
    assert "Philomena" in text


UNEXPECTED = [
    "",
    "   ",
    "x" * 2000,
    "😀😀😀",
    "🔪",
    "ie yes na no",
    "Dw i'n not sure",
    "-1",
    "0",
    "99999999999",
    "\u200b",
    "1 2 3",
    "NULL",
    "{service_name}",
    "%s",
    "\x00",
]


@pytest.mark.parametrize("text", UNEXPECTED)
def test_unexpected_input_at_every_kind_of_step_never_crashes(text):
    for path in ([], ["1"], ["1", "2"], ["1", "2", "2"], ["2"], ["1", "3"], ["1", "1"]):
        chat = Chat()
        chat.says("hi", *path)
        replies = chat(text)
        assert all(isinstance(reply, str) for reply in replies)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["1", "2", "3", "yes", "no", "help", "menu", "cymraeg", "english", "stop", "start"]),
        ),
        max_size=12,
    )
)
def test_any_sequence_of_messages_keeps_the_conversation_on_its_feet(messages):
    chat = Chat()
    chat("hi")
    for message in messages:
        chat(message)
        assert chat.state["waiting"] in ("input", "finished")
        assert chat.state["stopped"] or chat.state["waiting"] == "finished" or chat.replies
