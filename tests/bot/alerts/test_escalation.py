"""Safeguarding in the running bot: every message checked first, help at once, an alert that cannot be lost."""

from datetime import timedelta

import sqlalchemy as sa
from auxil.records import staff_messages, with_rota

from bot.alerts.duty import RENOTIFY_AFTER, renotify_unacknowledged
from models import Escalation, OutboxEvent, utcnow


def alerts(runtime) -> list[dict]:
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.type == "safeguarding.alert").order_by(OutboxEvent.created_at)
        ).all()
        return [event.payload["data"] for event in events]


def test_a_hit_mid_journey_gets_help_first_then_the_conversation_carries_on(runtime, young_person):
    young_person.says("hi", "1", "2")
    replies = young_person("i just want to die tbh")
    assert "999" in replies[0] and "116 123" in replies[0]  # 999 first, then Samaritans
    assert replies[0].index("999") < replies[0].index("116 123")
    assert "How old" in replies[-1] or "12 or under" in young_person.options  # still at the same question
    [alert] = alerts(runtime)
    assert alert["categories"] == ["suicide_self_harm"] and alert["severity"] == "immediate"
    assert alert["channel"] == "sms" and alert["language"] == "en"
    assert "die" in alert["excerpt"]


def test_the_alert_is_committed_with_the_message_and_reaches_the_top_of_the_queue(runtime, young_person):
    young_person.says("hi", "1", "3", "11")
    young_person("theres an older guy who gives me weed and money if i go to his flat")
    with runtime.session() as session:
        escalation = session.scalars(sa.select(Escalation)).first()
        assert escalation is not None and escalation.excerpt.startswith("theres an older guy")
        assert escalation.inbound_event_id is not None


def test_repeated_hits_are_all_alerted_but_the_safety_message_is_not_repeated_within_the_hour(runtime, young_person):
    young_person.says("hi", "1")
    first = young_person("i want to kill myself")
    second = young_person("seriously i want to kill myself")
    assert "999" in first[0]
    assert not any("116 123" in reply for reply in second)
    assert len(alerts(runtime)) == 2


def test_stop_with_a_hit_in_it_is_both_a_stop_and_an_alert(runtime, young_person):
    young_person("hi")
    replies = young_person("STOP i want to die")
    assert len(alerts(runtime)) == 1
    assert any("999" in reply for reply in replies)


def test_someone_who_declined_or_stopped_is_still_checked(runtime, young_person):
    young_person.says("hi", "1", "3", "1", "5")  # declined: no need to talk
    young_person("stop")
    young_person("he said he'll stab me if i tell anyone")
    assert [alert["categories"] for alert in alerts(runtime)] == [["violence_weapons"]]


def test_welsh_help_comes_in_welsh(runtime, young_person):
    young_person("helo")
    replies = young_person("dw i eisiau marw")
    assert "0808 164 0123" in replies[0]  # the Samaritans' Welsh line
    assert alerts(runtime)[0]["language"] == "cy"


def test_ordinary_messages_raise_nothing(runtime, young_person):
    young_person.says("hi", "1", "1", "I killed it at football today lol", "dying to see the match")
    assert alerts(runtime) == []


def test_the_duty_worker_is_told_at_once_in_neutral_words(runtime, young_person):
    with_rota(runtime)
    young_person("hi")
    young_person("im going to overdose tonight")
    [message] = staff_messages(runtime)
    assert message["address"] == "+447700900001"
    text = message["replies"][0]["text"]
    assert "/provider/" in text and "overdose" not in text


def test_an_unacknowledged_immediate_alert_is_notified_again_then_to_the_next_person(runtime, young_person):
    with_rota(runtime)
    young_person("hi")
    young_person("i want to end my life")
    now = utcnow()
    assert renotify_unacknowledged(runtime, now) == 0  # not yet: 15 minutes have not passed
    assert renotify_unacknowledged(runtime, now + RENOTIFY_AFTER) == 1
    assert renotify_unacknowledged(runtime, now + 2 * RENOTIFY_AFTER) == 1
    addresses = [message["address"] for message in staff_messages(runtime)]
    assert addresses == ["+447700900001", "+447700900001", "555000111"]


def test_an_acknowledged_alert_is_not_notified_again(runtime, young_person):
    with_rota(runtime)
    young_person("hi")
    young_person("i want to end my life")
    with runtime.session() as session, session.begin():
        for escalation in session.scalars(sa.select(Escalation)):
            escalation.acknowledged_at = utcnow()
    assert renotify_unacknowledged(runtime, utcnow() + timedelta(hours=1)) == 0


def test_an_alert_is_ordered_apart_from_its_referrals_other_events(runtime, young_person):
    """So it never waits behind one of them that the provider has not taken yet."""
    young_person.says("hi", "1", "2")
    young_person("i just want to die tbh")
    with runtime.session() as session:
        [key] = session.scalars(sa.select(OutboxEvent.ordering_key).where(OutboxEvent.type == "safeguarding.alert"))
        others = sa.select(OutboxEvent.ordering_key).where(OutboxEvent.type != "safeguarding.alert")
        others = set(session.scalars(others))
    assert key.startswith("alert:") and key not in others
