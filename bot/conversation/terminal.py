"""Talking to the bot in a terminal: a person typing, or a program sending one message per line."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from typing import TextIO

from bot.conversation.dispatcher import Dispatcher, Inbound, Outcome
from bot.conversation.render import as_button_text, as_numbered_text
from models import Channel


class TerminalChat:
    """One contact talking through the terminal; ``channel`` chooses how replies are rendered."""

    def __init__(self, dispatcher: Dispatcher, channel: Channel = Channel.TERMINAL, contact: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.channel = channel
        # a new contact each time unless one is named, so a journey can be resumed after a restart
        self.address = contact or f"terminal-{secrets.token_hex(8)}"

    def send(self, text: str) -> Outcome:
        return self.dispatcher.handle(Inbound(self.channel, self.address, f"terminal-{uuid.uuid4()}", text))

    def render(self, outcome: Outcome) -> str:
        show = as_button_text if self.channel == Channel.TELEGRAM else as_numbered_text
        return "\n\n".join(show(reply) for reply in outcome.replies)

    def run_jsonl(self, lines: Iterable[str], out: TextIO) -> None:
        """One JSON line out for every line in: {"in": ..., "out": [...], "options": [...]}."""
        for line in lines:
            text = line.rstrip("\r\n")
            outcome = self.send(text)
            options = list(outcome.replies[-1].options) if outcome.replies else []
            record = {"in": text, "out": [reply.text for reply in outcome.replies], "options": options}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

    def run_interactive(self, out: TextIO) -> None:
        out.write("Type a message and press Enter (Ctrl-D to leave). Try: hi\n\n")
        while True:
            try:
                text = input("you> ")
            except (EOFError, KeyboardInterrupt):
                out.write("\n")
                return
            out.write(self.render(self.send(text)) + "\n\n")
