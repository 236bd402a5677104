"""The lexicon files: the packaged ones are valid, and a broken one says what is wrong and where."""

from __future__ import annotations

import pytest

from bot.safeguarding import CATEGORIES, CATEGORY_SEVERITY, LexiconError, default_lexicon_paths, load_lexicon
from bot.safeguarding.lexicon import validate_lexicon_files

CATEGORY_LIST = ", ".join(CATEGORIES)
# Fewer everyday training messages than this are too few to judge a phrase by (the `alone: false` rule, below).
EVERYDAY_MATCHES_TO_JUDGE = 3


def test_packaged_lexicon_files_are_valid():
    assert validate_lexicon_files(default_lexicon_paths()) == []


def test_packaged_lexicon_covers_every_category_in_english_and_welsh():
    lexicon = load_lexicon()
    for language in ("en", "cy"):
        covered = {category for entry in lexicon.entries if entry.language == language for category in entry.categories}
        assert covered == set(CATEGORIES), language


def test_every_welsh_entry_waits_for_a_fluent_speaker():
    lexicon = load_lexicon()
    welsh = [entry for entry in lexicon.entries if entry.language == "cy"]
    assert welsh
    assert all(not entry.reviewed for entry in welsh)
    assert set(welsh) <= set(lexicon.unreviewed())


def test_the_brief_s_slang_is_in_the_lexicon():
    phrases = {entry.phrase for entry in load_lexicon().entries}
    for phrase in (
        "unalive",
        "kms",
        "kys",
        "sewer slide",
        "county lines",
        "going country",
        "going ot",
        "cuckooing",
        "on tick",
        "shank",
        "blade",
        "ching",
        "eisiau marw",
        "lladd fy hun",
        "brifo fy hun",
        "ar goll eto",
        "cysgu ar y stryd",
        "cyllell",
        "gwn",
        "fy nharo",
        "beichiog",
        "gorddos",
        "🔪",
        "💊",
        "⚰️",
    ):
        assert phrase in phrases, phrase


def test_severity_is_immediate_only_for_suicide_and_unsafe_now():
    assert CATEGORY_SEVERITY == {
        "suicide_self_harm": "immediate",
        "unsafe_now": "immediate",
        "criminal_exploitation": "urgent",
        "sexual_exploitation": "urgent",
        "abuse_at_home": "urgent",
        "violence_weapons": "urgent",
        "health": "urgent",
    }


# (file content, the problem reported for it); every file starts with "language: en" on line 1.
BROKEN_FILES = [
    (
        "entries:\n  - {phrase: kms, category: suicide}\n",
        f'3: unknown category "suicide" (expected one of: {CATEGORY_LIST})',
    ),
    ('entries:\n  - {phrase: "", category: health}\n', "3: empty phrase"),
    ("entries:\n  - {phrase: '   ', category: health}\n", "3: empty phrase"),
    ("entries:\n  - {category: health}\n", '3: missing field "phrase"'),
    ("entries:\n  - {phrase: pregnant}\n", '3: missing field "category"'),
    (
        "entries:\n  - {phrase: kill myself, category: suicide_self_harm}\n"
        "  - {phrase: 'KILL  MYSELF!', category: suicide_self_harm}\n",
        '4: duplicate phrase "KILL  MYSELF!" (reads the same as line 3)',
    ),
    (
        "entries:\n  - {phrase: kms, category: suicide_self_harm, colour: red}\n",
        '3: unknown field "colour" in an entry (expected one of: phrase, category, also, gap, fuzzy, alone, exclude, '
        "reviewed, notes)",
    ),
    (
        "entries:\n  - {phrase: kms, category: suicide_self_harm, gap: 9}\n",
        '3: field "gap" must be a whole number from 0 to 3',
    ),
    (
        "entries:\n  - {phrase: kms, category: suicide_self_harm, fuzzy: maybe}\n",
        '3: field "fuzzy" must be true or false',
    ),
    ("entries:\n  - {phrase: kms, category: suicide_self_harm, exclude: lol}\n", 'field "exclude" must be a list'),
    (
        "entries:\n  - {phrase: kms, category: suicide_self_harm, also: [sadness]}\n",
        f'3: unknown category "sadness" in "also" (expected one of: {CATEGORY_LIST})',
    ),
    (
        "entries:\n  - {phrase: '{pet} hits me', category: abuse_at_home}\n",
        '3: phrase "{pet} hits me" uses unknown class {pet}',
    ),
    ("entries:\n  - {phrase: '!!!', category: health}\n", '3: phrase "!!!" has no words or emoji to match'),
    (
        "entries:\n  - {phrase: kms, category: suicide_self_harm, category: health}\n",
        '3: duplicate field "category" in an entry',
    ),
    ("entries:\n  - kms\n", "3: an entry must be a mapping of fields"),
    ("entries:\n  - {phrase: kms, category: suicide_self_harm\n", "invalid YAML"),
    ("phrases:\n  - {phrase: kms, category: suicide_self_harm}\n", '2: unknown field "phrases" in the lexicon file'),
    (
        "entries:\n  - phrase: !!python/object/apply:os.system [echo unsafe]\n    category: health\n",
        "3: phrase must be text",
    ),
    (
        "rules:\n  - {category: violence_weapons, near: '{family}'}\nentries: []\n",
        '3: a rule needs exactly one of "becomes" or "also"',
    ),
]


@pytest.mark.parametrize(("content", "problem"), BROKEN_FILES)
def test_a_broken_lexicon_file_says_what_is_wrong_and_where(tmp_path, content, problem):
    path = tmp_path / "broken.yaml"
    path.write_text("language: en\n" + content, encoding="utf-8")
    problems = validate_lexicon_files([path])
    assert problems, "expected a problem"
    assert all(line.startswith(f"{path}:") for line in problems), problems
    assert any(problem in line for line in problems), problems
    with pytest.raises(LexiconError) as raised:
        load_lexicon([path])
    assert raised.value.problems == problems


def test_every_problem_in_a_file_is_reported_at_once_with_its_line(tmp_path):
    path = tmp_path / "en.yaml"
    path.write_text(
        "language: en\n"
        "entries:\n"
        "  - {phrase: kms, category: suicide_self_harm}\n"
        "  - {phrase: shank, category: weapons}\n"
        "  - {phrase: '', category: health}\n"
        "  - {phrase: kms, category: suicide_self_harm}\n",
        encoding="utf-8",
    )
    assert validate_lexicon_files([path]) == [
        f'{path}:4: unknown category "weapons" (expected one of: {CATEGORY_LIST})',
        f"{path}:5: empty phrase",
        f'{path}:6: duplicate phrase "kms" (reads the same as line 3)',
    ]


def test_the_same_phrase_in_two_files_is_allowed(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("entries:\n  - {phrase: kms, category: suicide_self_harm}\n", encoding="utf-8")
    second.write_text("entries:\n  - {phrase: kms, category: suicide_self_harm}\n", encoding="utf-8")
    assert validate_lexicon_files([first, second]) == []


def test_a_missing_file_is_a_problem(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert validate_lexicon_files([path]) == [f"{path}:1: file not found"]


def test_the_default_lexicon_is_loaded_once():
    assert load_lexicon() is load_lexicon()


def test_no_phrase_that_alerts_alone_is_as_often_everyday_talk_as_an_alert_in_the_training_corpus():
    """The rule the `alone: false` marks were chosen by (README, "Read these with care"): a phrase whose
    matches in the training messages are at least as often on everyday talk (cooking, games, "mum's going to
    kill me") as on alerts, and on at least three, needs a second cue; alone it only puts the message on the
    To read list. Measured on the training corpus only, never on the held-out set."""
    from bot.safeguarding.corpus import training_corpus
    from bot.safeguarding.detector import read_words

    lexicon = load_lexicon()
    alerts: dict[str, int] = {}
    everyday: dict[str, int] = {}
    for message in training_corpus():
        for entry in {entry for entry, _ in read_words(lexicon, message.text).found if entry.alone}:
            name = f"{entry.phrase} ({entry.language})"
            if message.outcome == "alert":
                alerts[name] = alerts.get(name, 0) + 1
            elif message.everyday:
                everyday[name] = everyday.get(name, 0) + 1
    too_everyday = sorted(
        name for name, count in everyday.items() if count >= EVERYDAY_MATCHES_TO_JUDGE and count >= alerts.get(name, 0)
    )
    assert too_everyday == [], "mark these `alone: false`"
