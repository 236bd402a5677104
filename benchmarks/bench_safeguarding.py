"""How fast is safeguarding triage (the lexicon and the learned model), and does it stay fast as the
lexicon grows?

    python benchmarks/bench_safeguarding.py

Prints figures only (no pass/fail): how long the model takes to load; messages per second over the
training corpus; p50/p99 for a 1,600-character message, both an ordinary one and a dense one stitched from
corpus messages (dozens of alerts); each with the per-word caches warm (steady state) and cold (every word
seen for the first time); for the words and model together and for the words alone; then the same with a
lexicon ten times larger, made of synthesised entries, and the ratio.
Targets: p99 <= 5 ms for a 1,600-character message with the model; the model loads in under a second;
10x the lexicon costs no more than 2x the time.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.safeguarding import CATEGORIES, assess, default_lexicon_paths, load_lexicon
from bot.safeguarding.corpus import training_corpus
from bot.safeguarding.lexicon import LEXICON_DIR, Lexicon
from bot.safeguarding.model import MODEL_FILE_NAME, load_model

MESSAGE_CHARS = 1600
RUNS = 1000
LEXICON_GROWTH = 10
SEED = 2024

ORDINARY_MESSAGE = (
    "ok so basically im gonna try explain what happened on friday because i know you lot want to know and "
    "honestly i'd rather just get it over with. after school me and my mate jade went to the retail park like "
    "we always do, we got food and just sat about for ages. my mum kept ringing but i didnt answer cos we had a "
    "massive row in the morning about my phone and about me going out all the time, she says im never in and i "
    "never help with my little brothers which isnt even true. anyway jade had to go home at about 7 and i didnt "
    "want to go back yet so i went to the bus station and sat there on my phone for a bit. some lads that jade "
    "knows came over and said there was a party at one of their mates houses near the park. i know i shouldnt "
    "have gone but i was bored and annoyed at mum so i went. it was alright at first, loads of people, music, "
    "pizza. i fell asleep on the sofa about 1. in the morning my phone was flat and i didnt have any money for "
    "the bus so i walked home which took like two hours. mum had rung the police which was so embarrassing, "
    "they came round on saturday and asked me loads of questions and i just said i was at a friends. im fine "
    "now honestly, just tired and a bit fed up. school is stressing me out and i keep getting detentions for "
    "stupid stuff like my shoes. i dont really want to do an interview but if i have to can it be at the youth "
    "centre and not at home because my mum will listen in. also can it be after school on thursday because i "
    "have football on tuesday and wednesday and drama club on monday. thanks x see you then i guess"
)[:MESSAGE_CHARS]

SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "tre",
    "vor",
    "sen",
    "dul",
    "pha",
    "gri",
    "zon",
    "bel",
    "quo",
    "wyn",
    "ast",
    "ember",
    "ruk",
    "tal",
    "ish",
    "orn",
    "vex",
)
FUNCTION_WORDS = ("i", "my", "to", "not", "me", "{someone}", "{family}", "dw", "mae")


def corpus_texts() -> list[str]:
    return [message.text for message in training_corpus()]


def dense_message(texts: list[str], rng: random.Random) -> str:
    parts: list[str] = []
    while sum(len(part) + 1 for part in parts) < MESSAGE_CHARS:
        parts.append(rng.choice(texts))
    return " ".join(parts)[:MESSAGE_CHARS]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_message(lexicon: Lexicon, messages: list[str], cold: bool) -> tuple[float, float]:
    """p50 and p99 in milliseconds, one message after another."""
    for message in messages:
        assess(message, lexicon)
    samples = []
    for run in range(RUNS):
        message = messages[run % len(messages)]
        if cold:
            lexicon.cached_readings.clear()
            if lexicon.model is not None:
                lexicon.model.known_words.clear()
        started = time.perf_counter()
        assess(message, lexicon)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def messages_per_second(lexicon: Lexicon, texts: list[str]) -> float:
    for text in texts:
        assess(text, lexicon)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for text in texts:
            assess(text, lexicon)
        rounds.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rounds)


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthesise_lexicon(count: int, rng: random.Random, directory: Path) -> Path:
    """`count` entries shaped like real ones: 1-4 words, some starting with common words or classes."""
    lines = ["language: en", "entries:"]
    seen = set()
    while len(seen) < count:
        words = [pseudo_word(rng) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4:
            words.insert(0, rng.choice(FUNCTION_WORDS))
        phrase = " ".join(words)
        if phrase in seen:
            continue
        seen.add(phrase)
        extra = ", gap: 2" if rng.random() < 0.2 else ""
        if rng.random() < 0.1:
            extra += f", exclude: [{pseudo_word(rng)}]"
        lines.append(f'  - {{phrase: "{phrase}", category: {rng.choice(CATEGORIES)}{extra}}}')
    path = directory / "synthetic.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(name: str, lexicon: Lexicon, texts: list[str], dense: list[str]) -> dict[str, float]:
    figures = {"corpus msg/s": messages_per_second(lexicon, texts)}
    for label, messages in (("ordinary", [ORDINARY_MESSAGE]), ("dense", dense)):
        for cold in (False, True):
            p50, p99 = time_message(lexicon, messages, cold)
            key = f"{label} {'cold' if cold else 'warm'}"
            figures[f"{key} p50 ms"], figures[f"{key} p99 ms"] = p50, p99
    print(f"\n{name}: {len(lexicon)} entries, {'with' if lexicon.model else 'without'} the model")
    for key, value in figures.items():
        print(f"  {key:24} {value:10.3f}" if "ms" in key else f"  {key:24} {value:10.0f}")
    return figures


def main() -> int:
    rng = random.Random(SEED)
    texts = corpus_texts()
    dense = [dense_message(texts, rng) for _ in range(50)]
    print(
        f"Python {sys.version.split()[0]}; {len(texts)} corpus messages; {RUNS} runs per figure; "
        f"messages of {MESSAGE_CHARS} characters"
    )
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        load_model(LEXICON_DIR / MODEL_FILE_NAME)
        loads.append((time.perf_counter() - started) * 1000)
    print(f"model loaded in {statistics.median(loads):.0f} ms (median of 5; target < 1000 ms)")
    started = time.perf_counter()
    packaged = load_lexicon(default_lexicon_paths())
    print(f"packaged lexicon and model loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
    base = measure("packaged lexicon", packaged, texts, dense)
    words_only = load_lexicon([path for path in default_lexicon_paths() if path.name != MODEL_FILE_NAME])
    measure("packaged lexicon", words_only, texts, dense)
    with tempfile.TemporaryDirectory() as directory:
        synthetic = synthesise_lexicon((LEXICON_GROWTH - 1) * len(packaged), rng, Path(directory))
        started = time.perf_counter()
        bigger = load_lexicon([*default_lexicon_paths(), synthetic])
        print(f"\n{LEXICON_GROWTH}x lexicon loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
    grown = measure(f"{LEXICON_GROWTH}x lexicon", bigger, texts, dense)
    print(f"\ntime ratio, {LEXICON_GROWTH}x lexicon / packaged (target <= 2.0):")
    for key in base:
        ratio = base[key] / grown[key] if key == "corpus msg/s" else grown[key] / base[key]
        print(f"  {key:24} {ratio:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
