"""A conversation the bot takes up itself, rather than in answer to a message: a worker's news (a time confirmed,
a message) or the offer after an episode a service reported.

The scripts run from an entry step on the person's conversation, with the news filled in, in the caller's
transaction: where they got to is saved, and what they said is logged and written to the outbox for the person's
channel, in their language. The person's reply then carries on from there like any other message (safeguarding
first, as always).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation.effects import EffectContext, apply_effect
from bot.conversation.records import log_messages, resumed_state, said_by_the_bot, save_state, scripts_for
from bot.outbox.delivery import enqueue_channel_message
from bot.runtime import with_given
from conversations.interpreter import Effect, EffectDone, Reply, restart
from conversations.script import ENTRY_SCRIPT
from conversations.turn import take_turn
from models import Contact, ConversationState

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spoken:
    replies: tuple[Reply, ...]
    was_mid_question: bool  # the person was at a question when the bot spoke


def speak_first(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    entry: str,
    news: dict[str, Any],
    now: datetime,
    *,
    kind_of_message: str,
    fresh: bool = False,
    back_after: bool = False,
) -> Spoken:
    """Run the scripts from ``entry`` ("script.step") with ``news`` on ``contact``'s conversation and send what they
    say. ``fresh``: a new conversation (only the language kept), as for an offer; ``back_after``: the question the
    person was at is where the script's ``return`` goes afterwards, as for a worker's news (``was_mid_question`` is
    in the news then)."""
    # Locked as a person's message locks it (bot.conversation.dispatcher): the two are carried out in turn.
    row = session.execute(
        sa.select(ConversationState.version, ConversationState.variables, ConversationState.expires_at)
        .where(ConversationState.contact_id == contact.id)
        .with_for_update()
    ).one_or_none()
    # The helplines published in the studio, as the dispatcher gives them (not the packaged ones).
    releases = runtime.live_releases(session)
    given = runtime.variables_for(releases.get("helplines"))
    if row is None:
        state = resumed_state(None, None, str(contact.language), given, now)
        state["waiting"] = "finished"
    else:
        state = resumed_state(row.variables, row.expires_at, str(contact.language), given, now)
    if fresh:
        state = with_given(restart(state, keep=()), given)
    mid_question = state.get("waiting") == "input"
    # The menu they were left at (the first script's first question) is not asked again after a worker's news (a
    # confirmed time, say): it stays open, unsaid, so an answer to it still works.
    at_menu = back_after and mid_question and state.get("script") == ENTRY_SCRIPT
    left_at = (state.get("script"), state.get("step"))
    mid_question = mid_question and not at_menu
    catalog = scripts_for(runtime, state, releases.get("scripts"))
    if entry.partition(".")[0] not in catalog.scripts:
        # A release published before this script existed: the conversation carries on with the scripts shipped
        # with the application.
        catalog = runtime.catalog
        state["release"] = None
    state["return_to"] = f"{state['script']}.{state['step']}" if back_after and mid_question else None
    state["resume"] = entry
    if back_after:
        news = {**news, "was_mid_question": "yes" if mid_question else "no"}
    effects = EffectContext(session, contact, {}, now, runtime.timezone)

    def do(effect: Effect) -> dict[str, Any]:  # only if a coordinator made the script record something
        effects.variables = dict(effect.variables)
        return apply_effect(effect.name, effects)

    ran = take_turn(catalog, state, EffectDone(news), do)
    if at_menu and ran.turn.finished:
        ran.turn.state.update(script=left_at[0], step=left_at[1], waiting="input")
    save_state(session, contact.id, None if row is None else row.version, ran.turn.state, given, now)
    if ran.replies:
        enqueue_channel_message(session, contact, ran.replies, kind_of_message=kind_of_message)
        log_messages(session, contact.id, contact.channel, said_by_the_bot(ran.replies), now)
    else:
        log.warning("the scripts said nothing from %s", entry)
    return Spoken(ran.replies, mid_question)
