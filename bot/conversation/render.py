"""How a reply looks on each channel. The scripts are the same everywhere; only this differs."""

from __future__ import annotations

from conversations.interpreter import Reply


def as_numbered_text(reply: Reply) -> str:
    """SMS and the terminal: the options as a numbered list under the text, one per line."""
    lines = [reply.text, *(f"{n}. {label}" for n, label in enumerate(reply.options, 1))]
    return "\n".join(line for line in lines if line)


def as_button_text(reply: Reply) -> str:
    """Telegram, shown in a terminal: the options as buttons under the text."""
    buttons = "  ".join(f"[ {label} ]" for label in reply.options)
    return "\n".join(part for part in (reply.text, buttons) if part)
