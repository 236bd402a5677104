"""One conversation turn: a message (or news) through the scripts, and the effects the scripts ask for.

This is the one place a turn runs. The dispatcher runs it for a person's message, a worker's message to a
young person runs it from the provider script's entry, and the studio's simulator runs it with pretend
effects. Each gives ``do_effect``, which carries out an effect and returns the values the script needs
next, or None to stop before it (the dispatcher does the effects that only read while it decides, and the
rest inside its write transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conversations.catalog import Catalog
from conversations.interpreter import Effect, EffectDone, Reply, Turn, UserText, advance

# Effects one turn may cause; a script that asks for more is looping.
MAX_EFFECTS_PER_TURN = 20

DoEffect = Callable[[Effect], dict[str, Any] | None]


@dataclass(frozen=True)
class Ran:
    turn: Turn  # where the scripts got to; ``turn.effect`` is set when ``do_effect`` stopped before it
    replies: tuple[Reply, ...]  # everything said on the way, in order
    steps: tuple[Turn, ...]  # each stop on the way (the simulator shows the path)
    looping: bool = False  # stopped after MAX_EFFECTS_PER_TURN effects with more asked for


def take_turn(catalog: Catalog, state: dict[str, Any], event: UserText | EffectDone, do_effect: DoEffect) -> Ran:
    """``event`` through the scripts from ``state``, then the effects they ask for, one after another."""
    first = advance(catalog, state, event)
    rest = carry_on(catalog, first, do_effect)
    return Ran(rest.turn, (*first.replies, *rest.replies), (first, *rest.steps), rest.looping)


def carry_on(catalog: Catalog, turn: Turn, do_effect: DoEffect) -> Ran:
    """The effects ``turn`` asks for, and what the scripts say after each (not what ``turn`` said itself)."""
    replies: list[Reply] = []
    steps: list[Turn] = []
    for _ in range(MAX_EFFECTS_PER_TURN):
        if turn.effect is None:
            break
        values = do_effect(turn.effect)
        if values is None:
            break
        turn = advance(catalog, turn.state, EffectDone(values))
        replies.extend(turn.replies)
        steps.append(turn)
    else:
        return Ran(turn, tuple(replies), tuple(steps), looping=turn.effect is not None)
    return Ran(turn, tuple(replies), tuple(steps))
