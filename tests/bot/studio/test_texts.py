"""Counting what a save of the texts table really changed: texts, not form fields, with plurals."""

from __future__ import annotations

from bot.releases import builtin_files
from bot.studio.texts import apply_text_edits, text_changes, text_fields


def test_three_edits_to_three_texts_are_three_texts_changed():
    source = builtin_files("scripts")["welcome.yaml"]
    fields = {field.key: field for field in text_fields(source)}
    role, first, second = (fields[key] for key in ("steps.role.choose", "steps.role.options.0.label",
                                                    "steps.role.options.1.label"))  # fmt: skip
    edited = apply_text_edits(
        source,
        {
            role.key: ("Who is writing?", role.cy, role.reviewed),
            first.key: (first.en, "Person ifanc ydw i", first.reviewed),
            second.key: ("A parent or a carer", "Rhiant neu ofalwr ydw i", True),
        },
    )

    changes = text_changes(source, edited)

    assert changes.describe() == "3 texts changed (2 in English, 2 in Welsh)" + (
        "; 1 Welsh text marked as checked" if not second.reviewed else ""
    )


def test_a_single_change_is_said_in_the_singular_and_no_change_is_said_plainly():
    source = builtin_files("scripts")["welcome.yaml"]
    role = next(field for field in text_fields(source) if field.key == "steps.role.choose")

    one = apply_text_edits(source, {role.key: (role.en, "Pwy sydd yna?", role.reviewed)})

    assert text_changes(source, one).describe() == "1 text changed (1 in Welsh)"
    assert text_changes(source, source).describe() == "nothing changed"
