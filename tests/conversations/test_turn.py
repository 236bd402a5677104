"""One conversation turn (conversations/turn.py): the effects a script asks for, done one after another, by
whoever runs the turn: the dispatcher, a worker's message, and the studio's simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import conversations.turn as turn_module
from bot.studio.simulator import pretend_effect
from conversations.interpreter import Effect, Reply, Turn, UserText, new_state
from conversations.loading import load_catalog
from conversations.turn import MAX_EFFECTS_PER_TURN, carry_on, take_turn
from conversations.vocabulary import EFFECTS

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_the_simulator_can_pretend_every_effect_a_script_may_name(name):
    """A new effect in the vocabulary cannot be forgotten in the studio: pretending it must not fail."""
    assert isinstance(pretend_effect(name, {}, NOW, LONDON), dict)


def test_an_effect_the_vocabulary_does_not_know_is_refused_by_the_simulator():
    with pytest.raises(KeyError, match="nothing to pretend"):
        pretend_effect("send_a_pigeon", {}, NOW, LONDON)


def test_a_turn_stops_before_an_effect_the_runner_leaves_for_later_and_carries_on_from_there():
    catalog = load_catalog()
    hello = take_turn(catalog, new_state("en", {}), UserText("hi", NOW), lambda effect: {})
    # "1", a young person: the script asks to remember who is writing, and this runner leaves it for later
    stopped = take_turn(catalog, hello.turn.state, UserText("1", NOW), lambda effect: None)
    assert stopped.turn.effect is not None and stopped.turn.effect.name == "remember_role"
    done: list[str] = []
    later = carry_on(catalog, stopped.turn, lambda effect: done.append(effect.name) or {})
    assert done[0] == "remember_role" and later.turn.effect is None
    assert later.replies and all(isinstance(reply, Reply) for reply in later.replies)  # the script went on


def test_a_script_that_asks_for_effects_without_end_is_stopped_and_says_so(monkeypatch):
    catalog = load_catalog()
    state = new_state("en", {})
    # Every effect done leads to another: what a looping script would do.
    monkeypatch.setattr(turn_module, "advance", lambda catalog, state, event: Turn(state, (), Effect("opt_in", {})))
    done: list[Effect] = []
    ran = carry_on(catalog, Turn(state, (), Effect("opt_in", {})), lambda effect: done.append(effect) or {})
    assert ran.looping and len(done) == MAX_EFFECTS_PER_TURN


def test_the_real_scripts_do_not_loop():
    ran = take_turn(load_catalog(), new_state("en", {}), UserText("hi", NOW), lambda effect: {})
    assert not ran.looping
