"""How the bot's replies look by SMS: options as a numbered list, as few parts as they fit, GSM-7 kept when
only typography broke it, a Welsh letter never changed, and a long text split at sentence ends."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.sms import SEGMENTS_PER_MESSAGE, sms_texts, twiml
from bot.conversation.render import as_numbered_text
from conversations.interpreter import Reply
from conversations.sms import encoding, segments, to_gsm7_friendly


def test_options_become_a_numbered_list_under_the_question():
    [text] = sms_texts([Reply("Who are you?", ("I'm a young person", "A parent or carer"))])
    assert text == "Who are you?\n1. I'm a young person\n2. A parent or carer"


def test_curly_quotes_and_dashes_are_made_plain_so_the_message_stays_gsm7():
    [text] = sms_texts([Reply("That’s OK – “no” is an answer too…")])
    assert text == 'That\'s OK - "no" is an answer too...'
    assert encoding(text) == "GSM-7"


def test_a_welsh_letter_is_never_changed_even_though_it_costs_a_longer_message():
    [text] = sms_texts([Reply("Pa ddiwrnod sy’n gyfleus i ti? Mae’n iawn dweud ‘ddim yn siŵr’.")])
    assert "siŵr" in text
    assert "'" in text and "’" not in text  # the quotes still became plain
    assert encoding(text) == "UCS-2"


def test_short_replies_share_one_message_when_that_costs_no_extra_part():
    texts = sms_texts([Reply("OK, English from now on."), Reply("How old are you?", ("13 to 15", "16 or 17"))])
    assert texts == ["OK, English from now on.\n\nHow old are you?\n1. 13 to 15\n2. 16 or 17"]


def test_replies_stay_apart_when_joining_them_would_cost_more():
    english = Reply("A" * 150)
    welsh = Reply("Ŵ" * 10)  # joined, the English would be sent as UCS-2 too: four parts instead of two
    assert sms_texts([english, welsh]) == ["A" * 150, "Ŵ" * 10]


def test_a_reply_longer_than_a_few_parts_is_split_at_sentence_ends():
    sentences = [f"This is sentence number {n} of a long message." for n in range(1, 20)]
    texts = sms_texts([Reply(" ".join(sentences))])
    assert len(texts) > 1
    assert all(segments(text) <= SEGMENTS_PER_MESSAGE for text in texts)
    assert all(text.endswith(".") for text in texts)
    assert " ".join(texts) == " ".join(sentences)


def test_twiml_holds_one_message_element_per_sms_with_the_status_callback():
    xml = twiml(["One & two", "<three>"], "https://rhi.example.org/webhooks/sms/status")
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Message action="https://rhi.example.org/webhooks/sms/status">One &amp; two</Message>'
        '<Message action="https://rhi.example.org/webhooks/sms/status">&lt;three&gt;</Message></Response>'
    )


def test_no_replies_is_an_empty_response():
    assert twiml([]) == '<?xml version="1.0" encoding="UTF-8"?><Response />'


@given(
    st.lists(st.builds(Reply, st.text(max_size=600), st.lists(st.text(max_size=40), max_size=5).map(tuple)), max_size=4)
)
def test_every_message_fits_and_nothing_is_lost_or_reordered(replies):
    texts = sms_texts(replies)
    assert all(segments(text) <= SEGMENTS_PER_MESSAGE for text in texts)
    expected = "".join(to_gsm7_friendly(as_numbered_text(reply)) for reply in replies)
    assert "".join("".join(texts).split()) == "".join(expected.split())
