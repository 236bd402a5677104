"""What the publish and restore pages show of a change: each changed text, English and Welsh side by side,
with the changed words marked (``text_diff``, ``word_diff``)."""

from __future__ import annotations

from bot.releases import builtin_files
from bot.studio.publishing import text_diff, word_diff


def test_changed_words_are_marked_and_the_rest_kept():
    assert word_diff("Text STOP to stop.", "Text STOP any time to stop.") == [
        ("same", "Text STOP "),
        ("added", "any time "),
        ("same", "to stop."),
    ]
    assert word_diff("Pwy ydych chi?", "Pwy sy'n ysgrifennu?") == [
        ("same", "Pwy "),
        ("removed", "ydych chi?"),
        ("added", "sy'n ysgrifennu?"),
    ]


def test_a_changed_text_is_shown_in_both_languages_and_says_which_changed():
    before = builtin_files("scripts")
    after = {**before, "welcome.yaml": before["welcome.yaml"].replace("en: Who are you?", "en: Who is writing?")}

    [change] = text_diff(before, after)

    assert (change.file, change.where, change.status) == ("welcome.yaml", 'Step "role": the question', "changed")
    assert change.en == [("same", "Who "), ("removed", "are you?"), ("added", "is writing?")]
    assert change.cy == [("same", "Pwy ydych chi?")]
    assert (change.en_changed, change.cy_changed) == (True, False)


def test_a_sentence_added_after_the_last_word_leaves_that_word_unmarked():
    assert word_diff("Who are you?", "Who are you? Tell us.") == [("same", "Who are you? "), ("added", "Tell us.")]


def test_added_and_removed_scripts_and_transcripts_are_told_apart():
    before = builtin_files("scripts")
    after = {name: text for name, text in before.items() if name != "learn.yaml"}
    after["transcripts/new.yaml"] = "name: a new test\n"

    changes = text_diff(before, after)

    assert changes and {change.file for change in changes} == {"learn.yaml"}
    assert {change.status for change in changes} == {"removed"}
    assert all(change.cy_changed and not any(mark == "added" for mark, _ in change.cy) for change in changes)
