"""The studio's simulator: chat with a version of the scripts as a young person would, with no database.

It drives the pure interpreter like the runtime does, but answers effects with made-up values and saves
nothing. The made-up values are the demo's (its areas, its pattern of interview times, a deadline 72 hours
away), because a chat saved as a test is replayed on the demo data: the same answers then mean the same.
Safeguarding words get the safety message the live bot would send. The whole chat is a plain dict the
browser carries between requests, signed so it cannot be altered; "save as a test" makes it a transcript test.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.alerts.escalation import SAFETY_MESSAGE_QUIET_PERIOD, answered_with_safety
from bot.booking.offer import RETURN_INTERVIEW_WINDOW
from bot.channels.sms import sms_texts
from bot.conversation.effects import reading_of_time, with_the_fitting_slot
from bot.conversation.records import CONVERSATION_EXPIRY
from bot.demo import DEMO_AREAS, demo_times
from bot.routing import shipped_area_names
from bot.safeguarding import Helplines, Lexicon, assess_reply, safety_message
from conversations import sms
from conversations.catalog import Catalog
from conversations.dates import both_languages, format_day, format_slot
from conversations.interpreter import Effect, Reply, Turn, UserText, new_state, restart
from conversations.turn import take_turn

CHANNELS = ("sms", "telegram")
MAX_EVENTS = 400  # a simulated chat longer than this is restarted: the state travels in every request
FRAGMENT_CHARS = 60
MIN_FRAGMENT_CHARS = 8
SLOTS_OFFERED = 4


def start(channel: str, language: str, now: datetime, variables: dict[str, Any]) -> dict[str, Any]:
    """A new simulated chat: nobody has written yet."""
    return {
        "channel": channel if channel in CHANNELS else "sms",
        "language": language if language in ("en", "cy") else "en",
        "clock": now.isoformat(),
        "last_message_at": None,
        "state": new_state(language if language in ("en", "cy") else "en", variables),
        "events": [],
        "told": {},  # safeguarding category -> when its safety message was last sent
        "escalations": [],
        "effect_values": [],  # every value an effect made up: a saved test must not expect these
        "day_passed": False,
    }


def send(
    chat: dict[str, Any],
    text: str,
    catalog: Catalog,
    variables: dict[str, Any],
    lexicon: Lexicon,
    helplines: Helplines,
    timezone: ZoneInfo,
) -> dict[str, Any]:
    """The chat after the person sends ``text``: the bot's replies, the path taken, the variables."""
    chat = {**chat, "events": list(chat["events"])}
    if len(chat["events"]) > MAX_EVENTS:
        chat["events"] = [{"kind": "note", "text": "The chat got very long, so older messages were cleared."}]
    now = datetime.fromisoformat(chat["clock"])
    state = chat["state"]
    last = chat["last_message_at"]
    if last and now - datetime.fromisoformat(last) > CONVERSATION_EXPIRY and state["waiting"] != "new":
        state = restart(state)
        chat["events"].append({"kind": "note", "text": "The conversation had expired, so it starts again."})
    state["vars"] = {**state.get("vars", {}), **variables}
    chat["events"].append({"kind": "user", "text": text})
    safety_said: tuple[Reply, ...] = ()
    assessment = assess_reply(text, lexicon, catalog, state)
    if assessment.escalate:
        chat["escalations"] = [*chat["escalations"], *assessment.categories]
        told = dict(chat["told"])
        due = [
            category
            for category in assessment.categories
            if category not in told or now - datetime.fromisoformat(told[category]) >= SAFETY_MESSAGE_QUIET_PERIOD
        ]
        for category in assessment.categories:
            told[category] = now.isoformat()
        chat["told"] = told
        if due:
            safety_said = (Reply(safety_message(due, state.get("language", "en"), helplines=helplines)),)
        alert = f"Safeguarding alert ({', '.join(assessment.categories)}): a worker at the service would be told."
        chat["events"].append({"kind": "note", "text": alert})
    made_up: list[Any] = list(chat["effect_values"])

    def pretend(effect: Effect) -> dict[str, Any]:
        values = pretend_effect(effect.name, effect.variables, now, timezone)
        made_up.extend(values.values())
        return values

    ran = take_turn(catalog, state, UserText(text, now.astimezone(timezone), assessment.flagged), pretend)
    replies = answered_with_safety(safety_said, ran.replies, ran.steps[0].heard)
    safety = bool(safety_said)
    path: list[str] = []
    for n, step in enumerate(ran.steps):
        path.append(_position(step))
        if n + 1 < len(ran.steps) and step.effect is not None:
            path.append(f"does {step.effect.name}")
    turn = ran.turn
    chat["events"].extend(
        {"kind": "bot", "text": reply.text, "options": list(reply.options), "safety": safety and n == 0}
        for n, reply in enumerate(replies)
    )
    if chat["channel"] == "sms":  # what the phone receives: the real SMS channel's joining and splitting
        chat["events"].extend(
            {
                "kind": "sms",
                "text": message,
                "sms": sms.count(message).describe(),
                "safety": safety and n == 0,
            }
            for n, message in enumerate(sms_texts(replies))
        )
    chat["events"].append({"kind": "path", "steps": path})
    chat["state"] = turn.state
    chat["effect_values"] = made_up[-200:]
    chat["last_message_at"] = now.isoformat()
    return chat


def a_day_passes(chat: dict[str, Any], timezone: ZoneInfo) -> dict[str, Any]:
    now = datetime.fromisoformat(chat["clock"]) + timedelta(days=1)
    local = now.astimezone(timezone)
    note = f"A day passes with no reply. It is now {format_day(local.date(), 'en')}, {local:%H:%M}."
    last = chat["last_message_at"]
    if last and now - datetime.fromisoformat(last) > CONVERSATION_EXPIRY:
        note += " The conversation has expired: the next message starts again from the menu."
    else:
        note += " The bot sends nothing by itself; the next message carries on where they were."
    events = [*chat["events"], {"kind": "note", "text": note}]
    return {**chat, "clock": now.isoformat(), "events": events, "day_passed": True}


def pretend_effect(
    name: str,
    variables: dict[str, Any],
    now: datetime,
    timezone: ZoneInfo,
) -> dict[str, Any]:
    """Made-up results for an effect, shaped like the real ones; nothing is recorded anywhere."""
    if name == "create_referral":
        deadline = (now + RETURN_INTERVIEW_WINDOW).astimezone(timezone).date()
        return {"referral_id": 1, "deadline": both_languages(format_day, deadline)}
    if name == "find_slots":
        page = int(variables.get("slot_page") or 0)
        deadline = now + RETURN_INTERVIEW_WINDOW
        times = [moment for moment in _demo_times(now, timezone) if (moment > deadline) == (page > 0)]
        offered = [
            {"value": 1000 + n, "label": both_languages(format_slot, moment.astimezone(timezone))}
            for n, moment in enumerate(times[:SLOTS_OFFERED])
        ]
        return {"slots": offered, "slots_found": "yes" if offered else "no", "slot_page": page + 1}
    if name == "list_areas":
        offered = demo_areas()
        return {"areas": offered, "areas_found": "yes" if offered else "no"}
    if name == "find_request":  # a request made in this chat (or the offer's) gives its deadline; a decline none
        return {"request_open": "yes" if variables.get("deadline") else "no"}
    if name == "alert_missing_now":
        return {"still_missing": True, "helped_already": "no"}
    if name == "record_episode":
        return {"episode_id": 1, "episode_ids": [1]}
    if name == "record_decline":
        return {"referral_id": 1}
    if name == "check_slot":
        return {"slot_gone": "no", "preferred_time_text": None, "preferred_time_text_label": ""}
    if name == "understand_time":
        words = variables.get("time_words") or ""
        return reading_of_time(words, int(variables.get("time_tries") or 0), now, timezone)
    if name == "find_slots_near":
        wanted = variables.get("time_wanted")
        around = datetime.fromisoformat(wanted) if wanted else now
        times = sorted(sorted(_demo_times(now, timezone), key=lambda moment: abs(moment - around))[:SLOTS_OFFERED])
        offered = [
            {"value": 2000 + n, "label": both_languages(format_slot, moment.astimezone(timezone))}
            for n, moment in enumerate(times)
        ]
        return with_the_fitting_slot({"slots": offered, "slots_found": "yes" if offered else "no"}, times, variables)
    if name == "request_booking":
        return {"booking_id": 1, "booking_made": "yes", "booking_status": "requested"}
    if name == "find_my_booking":
        return {"has_booking": "no", "can_book": "yes"}
    if name == "cancel_my_booking":
        return {"booking_cancelled": "no"}
    if name == "provider_news":
        return {"provider_news": "none"}
    if name == "offer_news":
        return {"offer_kind": "none"}
    if name == "accept_proposed_time":
        return {"proposal_taken": "no"}
    if name in RECORDED_ONLY:
        return {}
    raise KeyError(f"the simulator has nothing to pretend for the effect {name!r}: add it to pretend_effect")


# Effects whose results no script reads: the simulator only notes that they were done.
RECORDED_ONLY = frozenset(
    {
        "opt_out",
        "opt_in",
        "remember_role",
        "remember_area",
        "set_language",
        "delete_my_data",
        "request_human",
        "wrong_number",
    }
)


def demo_areas() -> list[dict[str, Any]]:
    """The demo provider's areas as options, in the order the bot lists a deployment's areas."""
    areas = [{"value": key, "label": shipped_area_names(key)} for key in DEMO_AREAS]
    return sorted(areas, key=lambda area: area["label"]["en"])


def _demo_times(now: datetime, timezone: ZoneInfo) -> list[datetime]:
    return demo_times(now, timezone, days=7)  # the demo's weekly hours, as its slots are made


def _position(turn: Turn) -> str:
    state = turn.state
    where = f"{state['script']}.{state['step']}" if state.get("step") else state["script"]
    if state["waiting"] == "finished":
        return f"{where} (finished)"
    if state["waiting"] == "input":
        return f"{where} (waiting for an answer)"
    return where


def visible_variables(chat: dict[str, Any], runtime_names: set[str]) -> dict[str, Any]:
    """The remembered values, without the long texts every conversation has (helplines, service name)."""
    return {name: _shown(value) for name, value in sorted(chat["state"]["vars"].items()) if name not in runtime_names}


def _shown(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"en", "cy"}:
        return " / ".join(str(value[language]) for language in ("en", "cy") if language in value)
    if isinstance(value, list):
        return "; ".join(_shown(item.get("label", item)) if isinstance(item, dict) else _shown(item) for item in value)
    return str(value)


# --- saving as a transcript test -----------------------------------------------------------------------


def as_transcript(chat: dict[str, Any], name: str, author: str, when: datetime) -> str:
    """The chat as a transcript test (the format of ``conversations/transcripts``).

    Each line of each reply is checked by its start, cut before anything that changes from one run to the
    next (dates, times, the service's name, what the person typed).
    """
    changing = _changing_texts(chat)
    steps: list[dict[str, str]] = []
    turn_starts = 0
    for event in chat["events"]:
        if event["kind"] == "user":
            turn_starts = len(steps)
            steps.append({"user": event["text"]})
        elif event["kind"] == "bot" and steps:
            for line in event["text"].splitlines():
                fragment = _fragment(line, changing)
                if fragment and {"bot": fragment} not in steps[turn_starts:]:
                    steps.append({"bot": fragment})
    expect: dict[str, Any] = {"language": chat["state"]["language"]}
    role = chat["state"]["vars"].get("role")
    if role in ("young_person", "parent_carer", "other"):
        expect["role"] = role
    if chat["state"]["waiting"] == "finished":
        expect["finished"] = True
    if chat["escalations"]:
        expect["escalations"] = list(chat["escalations"])
    document = {
        "name": name,
        "channel": chat["channel"],
        "language": chat["language"],
        "steps": steps,
        "expect": expect,
    }
    header = f"# Saved from the studio's simulator by {author} on {when:%Y-%m-%d %H:%M}.\n"
    if chat.get("day_passed"):
        header += "# A day passed during the chat; tests have no clock, so here the messages follow each other.\n"
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)


def _changing_texts(chat: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if len(value.strip()) >= 4:
                found.append(value.strip())
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for name, value in chat["state"]["vars"].items():
        if name.endswith("_label") or name in ("service_name", "helplines") or name.startswith("helpline_"):
            collect(value)
    collect(chat["effect_values"])
    collect([event["text"] for event in chat["events"] if event["kind"] == "user"])
    return sorted(set(found), key=len, reverse=True)


def _fragment(line: str, changing: list[str]) -> str | None:
    first = line.strip()
    cut = len(first)
    folded = first.casefold()
    for value in changing:
        found = folded.find(value.casefold())
        if found >= 0:
            cut = min(cut, found)
    fragment = first[:cut].strip()
    if len(fragment) > FRAGMENT_CHARS:
        fragment = fragment[:FRAGMENT_CHARS].rsplit(" ", 1)[0]
    fragment = re.sub(r"[\s:,(\-–]+$", "", fragment)
    return fragment if len(fragment) >= MIN_FRAGMENT_CHARS else None
