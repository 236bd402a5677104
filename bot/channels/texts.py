"""What the channels say by themselves (not the conversation scripts), from one bilingual file.

``bot/channels/texts.yaml`` holds every such text in English and Welsh, so a coordinator corrects it in one
place. Someone whose language is not known yet gets both, English first, as the scripts' first message does.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "texts.yaml"
LANGUAGES = ("en", "cy")


@functools.cache
def _texts() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    for name, text in data.items():
        missing = [language for language in LANGUAGES if not isinstance(text, dict) or not text.get(language)]
        if missing:
            raise ValueError(f"{TEXTS_FILE.name}: the text {name!r} has no {' or '.join(missing)} version")
    return data


def channel_text(name: str, language: str | None, **values: str) -> str:
    """The text ``name`` in ``language`` ("en" or "cy"); in both, one under the other, when it is None."""
    text = _texts()[name]
    if language in LANGUAGES:
        return text[language].format(**values)
    versions = dict.fromkeys(text[code].format(**values) for code in LANGUAGES)  # once when both are the same
    return "\n".join(versions)
