"""The conversation interpreter: a pure function of (scripts, state, event) to (state, replies, effect).

It does no I/O and reads no clock: the caller passes the time of the message. When a script asks for
something to be recorded or looked up (a ``do:`` step), the interpreter stops and returns that effect;
the runtime carries it out and calls ``advance`` again with ``EffectDone`` and what the effect found.
The state is a plain JSON-able dict, so it can be stored between messages and survive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conversations import answers
from conversations.catalog import Catalog
from conversations.dates import both_languages, format_day
from conversations.matching import Choice, choose, fold, number_in_reply, phrases
from conversations.script import ENTRY_SCRIPT, PLACEHOLDER, SYSTEM_SCRIPT, Option, Step, Text
from conversations.understanding import core as understanding
from conversations.vocabulary import (
    COMMAND_SCRIPTS,
    MAX_MISUNDERSTANDINGS,
    MAX_STEPS_PER_TURN,
    MAX_TEXT_ANSWER,
    MENU_STEP,
)

# A reply of this many words may be a sentence that answers more than the question at hand.
SENTENCE_WORDS = 3
# The stop words that stop on every channel, even where another stop word ("cancel") may answer a question:
# STOP is what the first message tells everyone to send.
ALWAYS_STOPS = frozenset({"stop", "stopio"})
# Where to carry on after an effect that a command caused.
STAY = "@stay"  # keep waiting at the same question, say nothing more
REPROMPT = "@reprompt"  # ask the same question again (after a language switch)


@dataclass(frozen=True)
class UserText:
    text: str
    at: datetime  # when the message arrived, in the service's local time
    # The safeguarding check, which runs first, found something in it: a message the script cannot place is
    # then answered with a kind word that a person will read it, never with "Sorry, I didn't get that".
    flagged: bool = False
    # The channel has a phone carrier that acts on opt-out words itself (SMS: CANCEL, END, QUIT unsubscribe
    # whatever the bot does). Where there is none (Telegram, the terminal), such a word that is also an answer
    # to the question asked ("cancel" in the change menu) is that answer.
    carrier_opt_out: bool = True


@dataclass(frozen=True)
class EffectDone:
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[str, ...] = ()
    # The same reply in the script's own English, when it was said in another language: kept beside the message
    # for a worker who reads no Welsh. Not part of what was said, so two replies that read the same are equal.
    english: Reply | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Effect:
    name: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class _Answer:
    """An answer to the question at hand: what to keep, and the option it chose (if it chose one)."""

    value: Any
    label: Any
    exact_day: str | None = None
    option: Option | None = None


@dataclass(frozen=True)
class Turn:
    state: dict[str, Any]
    replies: tuple[Reply, ...]
    effect: Effect | None = None
    # What a person at the provider should read, if anything: "not_understood" (the script could not place
    # the message) or "free_text" (a typed answer kept in the person's own words).
    heard: str | None = None

    @property
    def finished(self) -> bool:
        return self.state["waiting"] == "finished"


def new_state(language: str = "en", variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state of someone the bot has not talked to yet."""
    return {
        "script": ENTRY_SCRIPT,
        "step": None,
        "language": language,
        "vars": dict(variables or {}),
        "waiting": "new",
        "misunderstandings": 0,
        "resume": None,
        "return_to": None,
        "stopped": False,
        "versions": {},
    }


def advance(catalog: Catalog, state: dict[str, Any], event: UserText | EffectDone) -> Turn:
    """Run one inbound message (or the result of an effect) through the scripts."""
    return _Run(catalog, _copy(state)).handle(event)


def offered_answer(catalog: Catalog, state: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is, word for word, one of the answers the question the conversation waits at offers (an
    option's label or one of its other words, in either language), as a button or a careful reader sends it."""
    if state.get("waiting") in ("new", "finished") or state.get("stopped"):
        return False
    run = _Run(catalog, state)  # read only: nothing here changes the state
    step = run._current_step()
    if step is None:
        return False
    folded = fold(text)
    return bool(folded) and any(folded in choice.phrases for choice, *_ in run._choices(step))


def _copy(value: Any) -> Any:
    """A deep copy of a state, which holds only what JSON can (it is saved as JSON): several times
    faster than ``copy.deepcopy``, which every message pays for. Most values are strings and numbers,
    kept as they are without a call each."""
    if type(value) is dict:
        return {key: _copy(item) if type(item) in _CONTAINERS else item for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) if type(item) in _CONTAINERS else item for item in value]
    return value


_CONTAINERS = (dict, list)


def restart(state: dict[str, Any], keep: tuple[str, ...] = ("role",)) -> dict[str, Any]:
    """A fresh conversation for someone known: language kept, old answers dropped except ``keep``."""
    fresh = new_state(state["language"], {k: v for k, v in state["vars"].items() if k in keep})
    fresh["stopped"] = state.get("stopped", False)
    fresh["waiting"] = "finished"
    return fresh


class _Run:
    def __init__(self, catalog: Catalog, state: dict[str, Any]) -> None:
        self.catalog = catalog
        self.state = state
        self.replies: list[Reply] = []
        self.heard: str | None = None
        self.flagged = False

    @property
    def language(self) -> str:
        return self.state["language"]

    # --- events -------------------------------------------------------------------------------

    def handle(self, event: UserText | EffectDone) -> Turn:
        if isinstance(event, EffectDone):
            self.state["vars"].update(event.values)
            target, self.state["resume"] = self.state["resume"], None
            return self._continue(target)
        self.now = event.at
        self.flagged = event.flagged
        self.carrier_opt_out = event.carrier_opt_out
        folded = fold(event.text)
        command = self.catalog.command_for(folded)
        if self.state["waiting"] == "new":
            return self._first_message(folded, command)
        if self.state["stopped"]:
            if command == "start":
                return self._start_again()
            return self._turn()  # a stopped person hears nothing unless they say START
        if command and not self._answers_the_question(command, folded):
            self.state.pop("checking", None)
            return self._command(command)
        if self.state["waiting"] == "finished":
            return self._run(ENTRY_SCRIPT, MENU_STEP)
        step = self._current_step()
        if step is None:  # the script changed under a live conversation: start from the menu
            return self._run(ENTRY_SCRIPT, MENU_STEP)
        if not folded and not event.text.strip():
            return self._misunderstood(step, "reask_empty")
        checking = self.state.pop("checking", None)
        if checking:
            return self._answer_check(step, checking, event.text, folded)
        return self._answer(step, event.text, folded)

    def _first_message(self, folded: str, command: str | None) -> Turn:
        if command == "welsh" or (command is None and self._looks_welsh(folded)):
            self.state["language"] = "cy"
        if command == "stop":
            return self._command("stop")
        return self._run(ENTRY_SCRIPT, self.catalog.entry.start)

    def _looks_welsh(self, folded: str) -> bool:
        return any(f" {marker} " in f" {folded} " for marker in self.catalog.welsh_markers)

    # --- commands that work anywhere ---------------------------------------------------------------

    def _command(self, command: str) -> Turn:
        self.state["misunderstandings"] = 0
        if command == "help":
            self._remember_return_point()
            return self._run(SYSTEM_SCRIPT, "help")
        if command == "stop":
            self.state["stopped"] = True
            self._say(self.catalog.system_text("stopped"))
            return self._effect("opt_out", STAY)
        if command == "start":
            return self._start_again()
        if command == "menu":
            self.state["return_to"] = None
            self.state.pop("understood", None)  # answers read for the journey they have just left
            return self._run(ENTRY_SCRIPT, MENU_STEP)
        if command == "delete":
            self._remember_return_point()
            return self._run(SYSTEM_SCRIPT, "delete_confirm")
        if command in COMMAND_SCRIPTS:
            self.state["vars"]["was_mid_question"] = "yes" if self.state["waiting"] == "input" else "no"
            self._remember_return_point()
            script = COMMAND_SCRIPTS[command]
            return self._run(script, self.catalog.scripts[script].start)
        language = "cy" if command == "welsh" else "en"
        self.state["language"] = language
        self._say(self.catalog.system_text("language_switched"))
        return self._effect("set_language", REPROMPT)

    def _answers_the_question(self, command: str, folded: str) -> bool:
        """A command that opens a script gives way to an option of the current question written the same; so
        does a stop word other than STOP itself where no carrier acts on it (``UserText.carrier_opt_out``)."""
        if command == "stop":
            if self.carrier_opt_out or folded in ALWAYS_STOPS:
                return False
        elif command not in COMMAND_SCRIPTS:
            return False
        elif COMMAND_SCRIPTS[command] not in self.catalog.scripts:
            return True  # scripts published before that journey existed: the words are an ordinary answer
        step = self._current_step() if self.state["waiting"] == "input" else None
        if step is None or step.kind != "choose":
            return False
        return any(folded in choice.phrases for choice, *_ in self._choices(step))

    def _start_again(self) -> Turn:
        was_stopped = self.state["stopped"]
        self.state.update(restart(self.state), stopped=False)
        target = f"{ENTRY_SCRIPT}.{self.catalog.entry.start}"
        return self._effect("opt_in", target) if was_stopped else self._continue(target)

    def _remember_return_point(self) -> None:
        if self.state["waiting"] == "input":
            self.state["return_to"] = f"{self.state['script']}.{self.state['step']}"

    # --- answers -----------------------------------------------------------------------------

    def _choices(self, step: Step) -> list[tuple[Choice, Any, Any, Any]]:
        """(how to recognise it, value, label, option) for every option offered at a choose step."""
        offered: list[tuple[Choice, Any, Any, Any]] = []
        for dynamic in self._dynamic_options(step):
            label = dynamic["label"]
            offered.append((Choice(phrases(label.values())), dynamic["value"], label, None))
        for option in step.options:
            label = {"en": option.label.en, "cy": option.label.cy}
            offered.append((self.catalog.option_choice(option), option.value, label, option))
        return offered

    def _dynamic_options(self, step: Step) -> list[dict[str, Any]]:
        if not step.options_from:
            return []
        found = self.state["vars"].get(step.options_from) or []
        return [item for item in found if isinstance(item, dict) and "value" in item and "label" in item]

    def _answer(self, step: Step, text: str, folded: str, confirmed: bool = False) -> Turn:
        """Their reply to the question at ``step``: an option, a typed answer, or facts read from a sentence.

        A sentence that also answers questions further on ("he went friday, came back this morning, we didn't
        call the police") is said back first; once they say it is right, those questions are not asked.
        """
        # Reading a sentence costs about a millisecond: a reply of a word or two ("2", "yes") is read only
        # when it is not one of the options or a typed answer already.
        sentence = len(text.split()) >= SENTENCE_WORDS
        facts = understanding.read(text, self.now.date(), self.language) if sentence else None
        if step.kind == "choose":
            answer = self._read_choice(step, text, folded, facts)
            if answer is None and facts is None:
                facts = understanding.read(text, self.now.date(), self.language)
                answer = self._read_choice(step, text, folded, facts)
            if answer is None and step.time_step and understanding.wanted_time(text, self.now).status != "unclear":
                # A day or time in words at a list of times: found among all the free times, not this page's.
                self.state["vars"].update(time_words=" ".join(text.split()), time_tries=0)
                return self._accepted(step.time_step)
            if answer is None:
                return self._misunderstood(step, "reask_choice")
        else:
            typed = self._typed_answer(step.answer_type or "text", text)
            if typed is None:
                return self._misunderstood(step, _REASK_FOR_TYPE.get(step.answer_type or "text", "reask_text"))
            if typed[0] == _TOO_LONG:
                return self._misunderstood(step, "reask_too_long")
            answer = _Answer(*typed)
            if (step.answer_type or "text") == "text":
                self.heard = "free_text"
        later = self._later_answers(step, facts) if facts else {}
        if later and not confirmed:
            return self._check_understood(step, text, facts, later)
        if later:
            self.state["understood"] = {save: list(found) for save, found in later.items()}
        return self._take(step, answer)

    def _read_choice(self, step: Step, text: str, folded: str, facts: understanding.Facts | None) -> _Answer | None:
        offered = self._choices(step)
        from_facts = understanding.answers_from(facts, self.now.date()).get(step.save or "") if facts else None
        if from_facts is not None:
            option = _option_with_value(step, from_facts[0])
            if option is not None:
                return _Answer(from_facts[0], from_facts[1] or _label(option), from_facts[2], option)
        index = choose(folded, [choice for choice, *_ in offered])
        if index is None and step.answer_type:
            typed = self._typed_answer(step.answer_type, text)
            if typed is not None:
                value, label, *exact = typed
                index = next((i for i, (_, v, _, _) in enumerate(offered) if v == value), None)
                if index is None and step.save:  # a typed answer that is not one of the options
                    return _Answer(value, label, *exact)
                if index is not None:
                    # The typed answer is one of the options; keep what they actually typed as its label
                    # ("Saturday 21 November" says more than "2 or 3 days ago").
                    _, value, _, option = offered[index]
                    return _Answer(value, label, *exact, option=option)
        if index is None and facts is not None and facts.yes is not None:
            meaning = "yes" if facts.yes else "no"
            index = next((i for i, (*_, option) in enumerate(offered) if option and option.means == meaning), None)
        if index is None:
            return None
        _, value, label, option = offered[index]
        return _Answer(value, label, None, option)

    def _take(self, step: Step, answer: _Answer) -> Turn:
        self._save(step, answer.value, answer.label, answer.exact_day)
        if answer.option is not None:
            self.state["vars"].update(answer.option.set)
            return self._accepted(answer.option.next or step.next)
        return self._accepted(step.next)

    # --- answers read from a sentence ------------------------------------------------------------

    def _later_answers(self, step: Step, facts: understanding.Facts) -> dict[str, tuple[Any, Any, str | None]]:
        """Answers the sentence gives to questions further on in the journey (not the one at hand)."""
        found = understanding.answers_from(facts, self.now.date())
        if not found:
            return {}
        later = self.catalog.later_saves(self.state["script"], step.id)
        return {
            save: answer
            for save, answer in found.items()
            if save in later and save != step.save and (later[save] is None or answer[0] in later[save])
        }

    def _check_understood(self, step: Step, text: str, facts: understanding.Facts, later: dict[str, Any]) -> Turn:
        """'Thanks, so he came back this morning and the police don't know. Is that right?'"""
        self.state["checking"] = {"text": text}
        self.state["misunderstandings"] = 0
        saves = set(later)
        if step.save in understanding.answers_from(facts, self.now.date()):
            saves.add(step.save)
        role = self.state["vars"].get("role") or facts.role
        person = "you" if role == "young_person" else facts.person
        said = {
            language: (
                understanding.say_understood(facts, saves, person, language, self.now.date()),
                understanding.check_options(language),
            )
            for language in ("en", "cy")
        }
        here = Reply(*said[self.language])
        self.replies.append(here if self.language == "en" else Reply(here.text, here.options, Reply(*said["en"])))
        return self._turn()

    def _answer_check(self, step: Step, checking: dict[str, Any], text: str, folded: str) -> Turn:
        """Their answer to "Is that right?": yes takes the sentence's answers, no asks one question at a time,
        and anything else is an answer to the question itself."""
        said = understanding.read_yes_no(text, self.language)
        if said is None:
            said = {1: True, 2: False}.get(number_in_reply(folded) or 0)
        if said is None:
            labels = [understanding.check_options(language) for language in ("en", "cy")]
            index = choose(folded, [Choice(phrases([pair[n] for pair in labels])) for n in (0, 1)])
            said = None if index is None else index == 0
        if said:
            return self._answer(step, checking["text"], fold(checking["text"]), confirmed=True)
        if said is False:
            self.state["misunderstandings"] = 0
            return self._run(self.state["script"], step.id)
        return self._answer(step, text, folded)

    def _answered_already(self, step: Step) -> tuple[str | None] | None:
        """(the next step,) when a sentence said earlier answers this question: the answer is kept and the
        question skipped. None when it must be asked."""
        understood = self.state.get("understood") or {}
        if not step.save or step.save not in understood:
            return None
        value, label, exact_day = understood.pop(step.save)
        option = _option_with_value(step, value) if step.kind == "choose" else None
        if step.kind == "choose" and option is None:
            return None
        self._save(step, value, label if label is not None else _label(option), exact_day)
        if option is not None:
            self.state["vars"].update(option.set)
            return (option.next or step.next,)
        return (step.next,)

    def _typed_answer(self, answer_type: str, text: str) -> tuple[Any, ...] | None:
        """(value, label[, exact day]) for a typed answer, or None when it cannot be understood."""
        today = self.now.date()
        if answer_type == "text":
            cleaned = " ".join(text.split())
            if not cleaned:
                return None
            return (_TOO_LONG, None) if len(cleaned) > MAX_TEXT_ANSWER else (cleaned, cleaned)
        if answer_type in ("age", "age_band"):
            age = answers.parse_age(text)
            if age is None:
                return None
            return (age, str(age)) if answer_type == "age" else (answers.age_band(age), str(age))
        if answer_type in ("day", "day_band"):
            day = answers.parse_past_day(text, today)
            if day is None:
                return None
            label = both_languages(format_day, day)
            if answer_type == "day":
                return day.isoformat(), label
            return answers.day_band(day, today), label, day.isoformat()
        if answer_type == "time":
            parsed = answers.parse_time(text)
            return None if parsed is None else (f"{parsed[0]:02d}:{parsed[1]:02d}", f"{parsed[0]:02d}:{parsed[1]:02d}")
        if answer_type == "yes_no":
            folded = fold(text)
            meaning = choose(folded, [Choice(self.catalog.synonyms("yes")), Choice(self.catalog.synonyms("no"))])
            return None if meaning is None else ((meaning == 0), None)
        return None

    def _save(self, step: Step, value: Any, label: Any, exact_day: str | None = None) -> None:
        """Keep an answer under the step's name, with its label and, for a typed day, the exact day."""
        if step.save:
            self.state["vars"][step.save] = value
            self.state["vars"][f"{step.save}_label"] = label
            if exact_day:
                self.state["vars"][f"{step.save}_date"] = exact_day
            else:
                self.state["vars"].pop(f"{step.save}_date", None)

    def _accepted(self, next_step: str | None) -> Turn:
        self.state["misunderstandings"] = 0
        return self._run(self.state["script"], next_step)

    def _misunderstood(self, step: Step, text_name: str) -> Turn:
        if text_name != "reask_empty":
            self.heard = "not_understood"
        if self.flagged:  # the safety reply (if any) came first; the question stays open
            self.replies.append(self._reply(self.catalog.system_text("read_soon"), step))
            return self._turn()
        self.state["misunderstandings"] += 1
        if self.state["misunderstandings"] >= MAX_MISUNDERSTANDINGS:
            self.state["misunderstandings"] = 0
            self._remember_return_point()
            return self._run(SYSTEM_SCRIPT, "stuck")
        hint = step.retry if (step.retry and text_name != "reask_empty") else self.catalog.system_text(text_name)
        self.replies.append(self._reply(hint, step))
        return self._turn()

    # --- running steps -------------------------------------------------------------------------

    def _current_step(self) -> Step | None:
        step = self.state["step"]
        return self.catalog.step(self.state["script"], step) if step else None

    def _continue(self, target: str | None) -> Turn:
        if target == STAY:
            return self._turn()
        if target == REPROMPT:
            if self.state["waiting"] != "input":
                return self._run(ENTRY_SCRIPT, MENU_STEP)
            return self._run(self.state["script"], self.state["step"])
        if not target:
            return self._turn()
        script, _, step = target.partition(".")
        return self._run(script, step)

    def _run(self, script_name: str, step_id: str | None) -> Turn:
        for _ in range(MAX_STEPS_PER_TURN):
            step = self.catalog.step(script_name, step_id) if step_id else None
            if step is None:
                return self._lost()
            self.state.update(script=script_name, step=step_id)
            self.state["versions"][script_name] = self.catalog.scripts[script_name].version
            self.state["vars"].update(step.set)
            if step.kind == "say":
                self._say(step.text)
                step_id = step.next
            elif step.kind in ("choose", "ask") and (skipped := self._answered_already(step)) is not None:
                (step_id,) = skipped
            elif step.kind in ("choose", "ask"):
                self.replies.append(self._reply(step.text, step))
                self.state["waiting"] = "input"
                return self._turn()
            elif step.kind == "do":
                return self._effect(step.effect, f"{script_name}.{step.next}")
            elif step.kind == "goto":
                script_name, _, target_step = step.target.partition(".")
                step_id = target_step or self.catalog.scripts[script_name].start
            elif step.kind == "branch":
                value = self.state["vars"].get(step.variable)
                step_id = step.cases.get(_case_key(value), step.default)
            elif step.kind == "return":
                target, self.state["return_to"] = self.state["return_to"], None
                script_name, _, step_id = (target or f"{ENTRY_SCRIPT}.{MENU_STEP}").partition(".")
            else:  # end
                if step.text is not None:
                    self._say(step.text)
                self.state["waiting"] = "finished"
                self.state.pop("understood", None)
                # A question left for a detour (a booking moved from "change") is not one to come back to.
                self.state["return_to"] = None
                return self._turn()
        return self._lost()

    def _lost(self) -> Turn:
        """A script that leads nowhere (the validator stops this before publishing): go to the menu."""
        if self.state["script"] == ENTRY_SCRIPT and self.state["step"] == MENU_STEP:
            self.state["waiting"] = "finished"
            return self._turn()
        self.state.update(script=ENTRY_SCRIPT, step=MENU_STEP)
        return self._run(ENTRY_SCRIPT, MENU_STEP)

    def _effect(self, name: str | None, resume: str) -> Turn:
        self.state["resume"] = resume
        if resume not in (STAY, REPROMPT):
            self.state["waiting"] = "effect"
        variables = dict(self.state["vars"], language=self.language)
        return Turn(self.state, tuple(self.replies), Effect(name or "", variables), heard=self.heard)

    def _turn(self) -> Turn:
        return Turn(self.state, tuple(self.replies), heard=self.heard)

    # --- rendering -----------------------------------------------------------------------------

    def _say(self, text: Text | None) -> None:
        if text is not None:
            self.replies.append(self._reply(text))

    def _reply(self, text: Text | None, step: Step | None = None) -> Reply:
        said = Reply(self._render(text, self.language), self._option_labels(step, self.language))
        if self.language == "en":
            return said
        return Reply(said.text, said.options, Reply(self._render(text, "en"), self._option_labels(step, "en")))

    def _option_labels(self, step: Step | None, language: str) -> tuple[str, ...]:
        if step is None or step.kind != "choose":
            return ()
        dynamic = [_in_language(item["label"], language) for item in self._dynamic_options(step)]
        return (*dynamic, *(option.label.in_language(language) for option in step.options))

    def _render(self, text: Text | None, language: str) -> str:
        if text is None:
            return ""
        variables = self.state["vars"]
        return PLACEHOLDER.sub(
            lambda m: _in_language(variables.get(m.group(1), ""), language), text.in_language(language)
        ).strip()


_TOO_LONG = "__too_long__"
_REASK_FOR_TYPE = {
    "age": "reask_age",
    "age_band": "reask_age",
    "day": "reask_day",
    "day_band": "reask_day",
    "time": "reask_time",
    "yes_no": "reask_yes_no",
    "text": "reask_text",
}


def _option_with_value(step: Step, value: Any) -> Option | None:
    return next((option for option in step.options if option.value == value), None)


def _label(option: Option | None) -> dict[str, str] | None:
    return None if option is None else {"en": option.label.en, "cy": option.label.cy}


def _case_key(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _in_language(value: Any, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    if isinstance(value, list):
        return "\n".join(_in_language(item, language) for item in value)
    if value is None:
        return ""
    return str(value)
