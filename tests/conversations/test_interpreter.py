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
        if name == "understand_time":
            label = {"en": "Tuesday 24 November, in the evening", "cy": "Dydd Mawrth 24 Tachwedd, gyda'r nos"}
            return {"time_understood": "ok", "time_wanted": "2026-11-24T18:30:00+00:00", "time_wanted_label": label}
        if name == "find_slots_near":  # nobody is free anywhere near
            return {"slots": [], "slots_found": "no", "slot_fits": "no"}
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


# --- sentences: the answer read out of what they wrote, and later questions not asked again ---------------


def test_a_parents_whole_story_is_said_back_once_and_the_questions_it_answered_are_skipped():
    chat = Chat()
    chat.says("hi", "parent")
    replies = chat("he went friday night, came back this morning, we didnt call the police")
    assert replies == ["Thanks, so he went on Friday, he came back today and the police don't know. Is that right?"]
    assert chat.options == ["Yes", "No, ask me"]
    text = joined(chat("yes"))
    assert "When did they go?" not in text and "Did you report it?" not in text
    assert "Lots of families don't report it" in text  # what the skipped answer leads to is still said
    assert chat.options[0] == "12 or under"  # the next question not yet answered: the child's age
    answers = chat.state["vars"]
    assert (answers["child_safe"], answers["left_band"], answers["returned_band"]) == ("yes", "days_2_3", "today")
    assert answers["left_band_date"] == "2026-11-20" and answers["police_informed"] == "no"


def test_no_to_what_was_said_back_asks_the_questions_one_by_one():
    chat = Chat()
    chat.says("hi", "parent", "my daughter ran off saturday and the police brought her back yesterday")
    replies = chat("no thats wrong")
    assert replies == ["First, is your child home and safe right now?"]
    assert "When did they go?" in joined(chat("yes"))
    assert "understood" not in chat.state


def test_something_else_at_the_check_answers_the_question_itself():
    chat = Chat()
    chat.says("hi", "parent", "she came back last night, police know")
    text = joined(chat("home but im worried now"))
    assert "call 999" in text  # "Home, but I'm worried now" chosen: what to do now comes first
    assert "police_informed" not in chat.state["vars"]


def test_a_sentence_that_answers_only_the_question_at_hand_is_taken_without_a_check():
    chat = Chat()
    chat.says("hi", "parent", "yes", "yesterday", "today", "yes")
    replies = chat("shes 14 i think")
    assert replies == ["Where does your child live?"]
    assert chat.state["vars"]["age_band"] == "age_13_15"


def test_a_young_person_hears_it_said_back_to_them_in_welsh_with_the_english_kept_for_a_worker():
    chat = Chat("cy")
    chat.says("shwmae", "person ifanc", "gofyn am sgwrs")
    chat("dw i'n 15, des i nôl ddoe a doedd yr heddlu ddim yn gwybod")
    said = chat.replies[-1]
    assert said.text.startswith("Diolch, felly dest ti'n ôl ddoe")
    assert "doedd yr heddlu ddim yn gwybod" in said.text and "rwyt ti'n 15 oed" in said.text
    assert said.options == ("Ydy", "Nac ydy, gofyn i fi")
    assert said.english is not None and said.english.text.startswith("Thanks, so you got back yesterday")
    chat("ydy")
    assert chat.replies[-1].text == "Ble rwyt ti'n byw?"


def test_a_day_and_part_of_day_at_the_list_of_times_with_nothing_near_says_so_and_what_they_can_do():
    chat = Chat()
    chat.says("hi", "1", "2", "2", "today", "no", "home", "yes", "cafe", "anyone")
    assert chat.options[:3] == ["Mon 24 Nov, 1pm", "Mon 24 Nov, 2pm", "Mon 24 Nov, 3pm"]
    text = joined(chat("tuesday evening"))
    assert chat.effects[-2:] == ["understand_time", "find_slots_near"]
    assert chat.state["vars"]["time_words"] == "tuesday evening"
    assert "Sorry, there's no free time near Tuesday 24 November, in the evening" in text
    assert chat.options == ["Ask a worker", "Try another time"]
    assert "What day and time suits you?" in joined(chat("try another time"))


def test_answers_read_for_one_journey_are_dropped_when_they_go_back_to_the_menu():
    chat = Chat()
    chat.says("hi", "im 15 and i got back last night, police didnt know", "yes")
    assert chat.state["understood"]
    chat("menu")
    assert "understood" not in chat.state
    chat("ask for a chat")
    assert chat.replies[-1].text == "How old are you?"
