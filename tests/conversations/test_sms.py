"""What an SMS costs: GSM-7 carries 160 characters (153 per part), but one character outside it, such as a
Welsh ŵ, sends the whole message as UCS-2 at 70 (67 per part)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.sms import count, encoding, is_gsm7, segments, split_for_sms, to_gsm7_friendly

WELSH_LETTERS_OUTSIDE_GSM7 = "ŵŷâêîôûŴŶÂÊÎÔÛïëÏË"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("", 1, id="empty: still one message"),
        pytest.param("a" * 160, 1, id="160 GSM-7"),
        pytest.param("a" * 161, 2, id="161 GSM-7"),
        pytest.param("a" * 153 * 2, 2, id="2x153 GSM-7"),
        pytest.param("a" * (306 + 1), 3, id="307 GSM-7"),
        pytest.param("ŵ" * 70, 1, id="70 UCS-2"),
        pytest.param("ŵ" * 71, 2, id="71 UCS-2"),
        pytest.param("ŵ" * 67 * 2, 2, id="2x67 UCS-2"),
        pytest.param("ŵ" * (134 + 1), 3, id="135 UCS-2"),
    ],
)
def test_known_segment_counts(text, parts):
    assert segments(text) == parts


@pytest.mark.parametrize("letter", WELSH_LETTERS_OUTSIDE_GSM7)
def test_one_welsh_letter_with_a_circumflex_makes_the_whole_message_ucs2(letter):
    text = "Croeso! " * 15 + letter  # 121 characters: one part in GSM-7, two in UCS-2

    assert encoding(text) == "UCS-2"
    assert segments(text) == 2
    assert segments(text.replace(letter, "w")) == 1


@pytest.mark.parametrize("letter", "éèùìòÇØøÅåÄÖÑÜ§äöñüàÉÆæßΔΦΓΛΩΠΨΣΘΞ¡¿£¥")
def test_accented_letters_in_the_gsm7_table_keep_it_gsm7(letter):
    assert is_gsm7(f"Café {letter}")


def test_the_euro_sign_and_other_extension_characters_count_double():
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("a" * 159 + "[") == 2
    assert encoding("{curly} ^ [square] ~ | \\ €") == "GSM-7"


def test_an_emoji_counts_as_two_code_units():
    assert encoding("👍") == "UCS-2"
    assert segments("👍" * 35) == 1
    assert segments("👍" * 36) == 2


def test_a_two_septet_character_is_never_split_between_parts():
    # 152 plain characters then "€": the euro's two septets would straddle the first part's 153rd place
    assert segments("a" * 152 + "€" + "a" * 152) == 3


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("We’ll " * 30, "2 SMS parts · GSM-7"),  # curly quotes go as plain ones: not 3 parts of UCS-2
        ("  Hi there \n", "1 SMS part · GSM-7"),
        ("Diolch ŵyr ŷd 😀 " * 5, "2 SMS parts · UCS-2 (because of ŵ ŷ 😀)"),
        ("😀" * 35, "1 SMS part · UCS-2 (because of 😀)"),
        ("😀" * 36, "2 SMS parts · UCS-2 (because of 😀)"),
    ],
)
def test_the_one_counter_measures_a_text_as_the_sms_channel_sends_it(text, described):
    counted = count(text)

    assert counted.describe() == described
    assert counted.parts == segments(to_gsm7_friendly(text).strip())


def test_typography_is_made_plain_so_a_message_can_stay_gsm7():
    text = "We’re here – “no pressure”… call\u00a0us"

    assert to_gsm7_friendly(text) == 'We\'re here - "no pressure"... call us'
    assert encoding(to_gsm7_friendly(text)) == "GSM-7"


def test_welsh_letters_are_never_changed():
    text = f"Mae’n iawn: dŵr, tŷ, â, ê, î, ô, û, ï, ë — {WELSH_LETTERS_OUTSIDE_GSM7}"

    friendly = to_gsm7_friendly(text)

    assert friendly == f"Mae'n iawn: dŵr, tŷ, â, ê, î, ô, û, ï, ë - {WELSH_LETTERS_OUTSIDE_GSM7}"
    assert encoding(friendly) == "UCS-2"


def test_a_long_text_is_split_at_sentence_ends_into_parts_of_one_sms():
    sentences = [
        "Thanks for talking to us today.",
        "A worker will message you within 72 hours to find a time that suits you.",
        "You can choose where to meet, and you can bring someone you trust.",
        "Text STOP at any time if you don't want any more messages.",
    ]

    parts = split_for_sms(" ".join(sentences))

    assert parts == [" ".join(sentences[:2]), " ".join(sentences[2:])]
    assert all(segments(part) == 1 for part in parts)


def test_a_welsh_part_is_measured_in_ucs2_and_a_plain_one_in_gsm7():
    text = "Diolch am siarad gyda ni heddiw, mae'n golygu llawer. " * 2 + "Cofia yfed dŵr."

    parts = split_for_sms(text)

    assert parts == [("Diolch am siarad gyda ni heddiw, mae'n golygu llawer. " * 2).strip(), "Cofia yfed dŵr."]
    assert [encoding(part) for part in parts] == ["GSM-7", "UCS-2"]


def test_a_sentence_too_long_for_one_part_is_split_between_words():
    text = ("one two three four five six seven eight nine ten " * 6).strip()

    parts = split_for_sms(text)

    assert len(parts) == 2
    assert " ".join(parts) == text
    assert all(segments(part) == 1 for part in parts)


def test_a_word_longer_than_a_whole_part_is_cut_only_because_it_must_be():
    link = "https://example.org/" + "x" * 200

    parts = split_for_sms(link)

    assert "".join(parts) == link
    assert [segments(part) for part in parts] == [1, 1]


def test_a_text_that_fits_is_one_part_and_a_blank_one_is_none():
    assert split_for_sms("  Hi there.  ") == ["Hi there."]
    assert split_for_sms(" \n ") == []


def test_parts_may_be_allowed_more_than_one_segment_each():
    text = "Sentence number one is here. " * 20

    parts = split_for_sms(text, max_segments_each=2)

    assert all(segments(part) <= 2 for part in parts)
    assert len(parts) == 2


words = st.text(alphabet="abcdefghijkŵŷ€.!?'’ ", min_size=1, max_size=12).map(str.strip).filter(bool)


@given(st.lists(words, min_size=1, max_size=80), st.integers(min_value=1, max_value=3))
def test_every_part_fits_and_no_word_is_lost_or_broken(word_list, max_segments):
    text = " ".join(word_list)

    parts = split_for_sms(text, max_segments_each=max_segments)

    assert all(segments(part) <= max_segments for part in parts)
    assert " ".join(parts).split() == text.split()
