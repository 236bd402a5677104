"""`rhi safeguarding check`: one message per input line, one JSON line per message (ARCHITECTURE.md).

    {"text": "...", "escalate": true, "severity": "immediate", "categories": [...], "matches": [...]}

Also runnable on its own: `python -m bot.safeguarding.cli < messages.txt`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.safeguarding.detector import assess
from bot.safeguarding.lexicon import load_lexicon


def check_stream(lines: Iterable[str], out: TextIO) -> int:
    """Assess each line (its line ending removed) and write its JSON line, flushed. Returns the exit code."""
    lexicon = load_lexicon()
    for line in lines:
        text = line.rstrip("\r\n")
        out.write(json.dumps(assess(text, lexicon).to_json(text), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def main() -> int:
    return check_stream(sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
