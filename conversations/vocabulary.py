"""The words a script may use that the runtime gives meaning to: effects, answer types, variables.

One home for these, so the validator, the interpreter and the runtime cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EffectSpec:
    description: str
    sets: tuple[str, ...] = ()  # variables the effect puts back into the conversation


EFFECTS: dict[str, EffectSpec] = {
    "remember_role": EffectSpec("store who the person is (young person, parent or carer, someone else)"),
    "list_areas": EffectSpec(
        "look up the areas this deployment's providers cover, to offer as options", sets=("areas", "areas_found")
    ),
    "remember_area": EffectSpec("store the area the young person lives in (it decides which provider is told)"),
    "alert_missing_now": EffectSpec(
        "a young person says they are not back yet: the duty worker is alerted at once that a child missing now "
        "is talking to us (not safe right now), the same way the safeguarding check alerts",
        sets=("still_missing", "helped_already"),
    ),
    "record_episode": EffectSpec(
        "record a missing episode from the answers so far (when they left and came back, police, setting, age)",
        sets=("episode_id",),
    ),
    "create_referral": EffectSpec(
        "create a referral for a Return Home Interview covering the episodes recorded in this conversation",
        sets=("referral_id", "deadline"),
    ),
    "find_request": EffectSpec(
        "whether this conversation has a request open to book on (request_open yes or no): the booking's way "
        "in, so a route without one makes it first, the same way as every other",
        sets=("request_open",),
    ),
    "find_slots": EffectSpec(
        "look up interview times that fit the place and worker chosen; the first call gives times inside the "
        "72-hour window, the next later ones; met_before_found is no when nobody they met before has times",
        sets=("slots", "slots_found", "met_before_found"),
    ),
    "check_slot": EffectSpec(
        "check the time chosen from a list is still free; slot_gone is yes when someone else has it now",
        sets=("slot_gone", "preferred_time_text", "preferred_time_text_label"),
    ),
    "understand_time": EffectSpec(
        "read a day and time from their own words (time_words); time_understood is ok, past, unclear, or "
        "given_up after two unclear answers; time_wanted_label reads it back",
        sets=(
            "time_understood",
            "time_wanted",
            "time_wanted_from",
            "time_wanted_until",
            "time_wanted_label",
            "preferred_time_text",
            "preferred_time_text_label",
        ),
    ),
    "find_slots_near": EffectSpec(
        "look up free times nearest to the time they named (time_wanted); slot_fits is yes, with that time as "
        "slot, when one is inside what they named (time_wanted_from to time_wanted_until)",
        sets=("slots", "slots_found", "slot_fits", "slot", "slot_label"),
    ),
    "request_booking": EffectSpec(
        "record the chosen time, place, worker and trusted adult as a booking on the referral and hold the "
        "time; booking_made is no when the time has just gone to someone else; booking_status is confirmed "
        "when the service confirms at once",
        sets=("booking_id", "booking_made", "booking_status", "booking_when", "booking_where", "worker_name"),
    ),
    "find_my_booking": EffectSpec(
        "look up the young person's booking that stands: has_booking, and my_booking_when, my_booking_where, "
        "my_booking_who; can_book is yes when they can book a new one",
        sets=("has_booking", "can_book", "my_booking_when", "my_booking_where", "my_booking_who"),
    ),
    "cancel_my_booking": EffectSpec(
        "cancel the young person's booking: the time is freed and the service told; the offer stays open",
        sets=("booking_cancelled",),
    ),
    "record_decline": EffectSpec(
        "record that the young person said no, with the reason code and their own words", sets=("referral_id",)
    ),
    "request_human": EffectSpec("ask a worker at the service to message this person"),
    "wrong_number": EffectSpec(
        "whoever has this number says the bot's offer was not for them: the offer is marked wrong number for the "
        "worker, and nothing more about it is sent here"
    ),
    "provider_news": EffectSpec(
        "what a worker at the service just did (the bot fills this in when they act from the queue or the API): "
        "provider_news is confirmed, proposed, message, cancelled, moved or none",
        sets=(
            "provider_news",
            "booking_when",
            "booking_where",
            "worker_name",
            "proposed_when",
            "worker_message",
            "was_mid_question",
        ),
    ),
    "offer_news": EffectSpec(
        "the bot's own offer after a service reported an episode (the bot fills this in when it sends the offer): "
        "offer_kind is first, again, parent or none; episode_known is yes, as the service already has the request",
        sets=("offer_kind", "episode_known", "referral_id", "deadline", "role"),
    ),
    "accept_proposed_time": EffectSpec(
        "book the new time a worker suggested; proposal_taken is no when that time has gone",
        sets=("proposal_taken",),
    ),
    "opt_out": EffectSpec("stop sending messages to this person until they say START"),
    "opt_in": EffectSpec("this person said START: messages may be sent again"),
    "set_language": EffectSpec("remember the language this person chose"),
    "delete_my_data": EffectSpec("delete this person's messages and details (after they confirmed)"),
}

# Questions a sentence can answer, by the name they save their answer under: a script that uses these names
# gets "he went friday, came back this morning" read into them (conversations/understanding).
ANSWERS_FROM_SENTENCES = {
    "role": "who is writing: young_person or parent_carer",
    "child_safe": "a parent's child is home (yes) or still away (away)",
    "left_band": "the day they went, as today / yesterday / days_2_3 / longer",
    "returned_band": "the day they came back, the same way, or not_back",
    "police_informed": "whether the police knew: yes, no or not_sure",
    "age_band": "an age, as its band",
    "setting": "where the young person lives: home, care or care_out_of_area",
}

ANSWER_TYPES = ("age", "age_band", "day", "day_band", "time", "yes_no", "text")

# Variables the runtime fills in before a conversation starts, so any script may use them.
RUNTIME_VARIABLES = frozenset(
    {
        "service_name",
        "helplines",  # the general list for young people, from the helplines data file
        "helpline_childline",
        "helpline_runaway",
        "helpline_nspcc",
    }
)

COMMANDS = ("help", "stop", "start", "menu", "welsh", "english", "delete")
# Commands that open a script from wherever the person is, and bring them back after. An option of the
# question they are at that is written the same way wins ("change" in a booking summary). Optional in
# system.yaml: scripts published before a command existed simply do not have its words.
COMMAND_SCRIPTS = {"booking": "manage_booking"}

# Named texts the interpreter itself sends; the system script must define each one.
SYSTEM_TEXTS = (
    "reask_choice",
    "reask_empty",
    "reask_too_long",
    "reask_age",
    "reask_day",
    "reask_time",
    "reask_yes_no",
    "reask_text",
    "read_soon",  # instead of a re-ask, when the safeguarding check flagged what could not be placed
    "language_switched",
    "stopped",
)

# The welcome script's step for someone who already knows the service ("menu", or a finished journey).
MENU_STEP = "menu"

# Steps in the system script the interpreter jumps to.
SYSTEM_STEPS = ("help", "delete_confirm", "stuck")

# How many misunderstandings in a row before the bot offers help and a person.
MAX_MISUNDERSTANDINGS = 3
# Steps the interpreter runs for one message before it decides a script loops without asking anything.
MAX_STEPS_PER_TURN = 60
# The longest free-text answer kept (a young person may paste a lot; the provider needs a summary).
MAX_TEXT_ANSWER = 500
