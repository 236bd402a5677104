"""Routing: the journeys ask which area the young person lives in, and everything about their referral goes
to the provider covering that area; "not sure" (or an area nobody covers) goes to the default provider.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from auxil.providers import OTHER_AREA, self_referral
from conftest import Conversation

from bot.admin.providers import add_provider
from bot.conversation.effects import EffectContext, remember_area
from bot.routing import deployment_areas, provider_for_area
from models import Escalation, OutboxEvent, OutboxKind, Provider, Referral, utcnow


@pytest.fixture
def valleys(runtime) -> int:
    """A second provider on the deployment, covering Rhondda Cynon Taf."""
    with runtime.session() as session, session.begin():
        provider = add_provider(session, "valleys", "Valleys Return Home", [OTHER_AREA])
        session.flush()
        return provider.id


def demo_id(runtime) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Provider.id).where(Provider.slug == "demo")).one()


def referral_of(runtime, conversation: Conversation) -> Referral:
    with runtime.session() as session:
        return session.scalars(sa.select(Referral).where(Referral.contact_id == conversation.last.contact_id)).one()


def provider_ids_of_events(runtime, referral_id: int) -> set[int | None]:
    with runtime.session() as session:
        return set(
            session.scalars(
                sa.select(OutboxEvent.provider_id).where(
                    OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK,
                    OutboxEvent.ordering_key == f"referral:{referral_id}",
                )
            )
        )


def test_the_area_question_lists_the_deployments_areas_and_not_sure(runtime, young_person, valleys):
    young_person.says(*self_referral()[:6])
    replies = young_person("home")
    assert replies[-1].startswith("Which area do you live in now?")
    assert young_person.options == ["Cardiff", "Newport", "Rhondda Cynon Taf", "Vale of Glamorgan", "Not sure"]


def test_a_young_person_in_another_providers_area_goes_to_that_provider(runtime, dispatcher, valleys):
    dee = Conversation(dispatcher, "sms", "+447700900102")
    dee.says(*self_referral("rhondda cynon taf"))
    referral = referral_of(runtime, dee)
    assert referral.provider_id == valleys and referral.area == OTHER_AREA
    assert provider_ids_of_events(runtime, referral.id) == {valleys}
    dee("he said he'll stab me if i tell anyone")
    with runtime.session() as session:
        alert = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "safeguarding.alert")).one()
        assert alert.provider_id == valleys
        assert session.scalars(sa.select(Escalation.referral_id)).one() == referral.id


@pytest.mark.parametrize("answer", ["not sure", "5"])
def test_not_sure_goes_to_the_default_provider(runtime, dispatcher, valleys, answer):
    sam = Conversation(dispatcher, "sms", "+447700900101")
    sam.says(*self_referral(answer))
    referral = referral_of(runtime, sam)
    assert referral.provider_id == demo_id(runtime) and referral.area is None
    assert provider_ids_of_events(runtime, referral.id) == {demo_id(runtime)}


def test_a_welsh_speaker_sees_the_welsh_names_and_can_answer_with_them(runtime, dispatcher, valleys):
    cerys = Conversation(dispatcher, "sms", "+447700900105")
    cerys.says("helo", "1", "2", "2", "ddoe", "nac oedden")
    assert cerys("gartref")[-1].startswith("Ym mha ardal rwyt ti'n byw nawr?")
    assert cerys.options == ["Caerdydd", "Casnewydd", "Rhondda Cynon Taf", "Bro Morgannwg", "Ddim yn siŵr"]
    cerys("casnewydd")
    cerys.says("ydy", "caffi", "menyw", "1", "na", "ie")
    assert referral_of(runtime, cerys).area == "newport"


def test_a_parent_is_asked_the_area_too(runtime, dispatcher, valleys):
    parent = Conversation(dispatcher, "sms", "+447700900106")
    parent.says("hi", "2", "1", "3", "2", "2", "2", "1")
    assert parent.options[:4] == ["Cardiff", "Newport", "Rhondda Cynon Taf", "Vale of Glamorgan"]
    parent.says("rhondda cynon taf", "3", "1")
    assert referral_of(runtime, parent).provider_id == valleys


def test_a_deployment_with_no_named_areas_does_not_ask(runtime, young_person):
    with runtime.session() as session, session.begin():
        session.scalars(sa.select(Provider)).one().areas = []
    young_person.says(*self_referral()[:6])
    assert young_person("home")[-1].endswith("Is that OK?")


def test_routing_rules(runtime, valleys):
    with runtime.session() as session:
        assert provider_for_area(session, OTHER_AREA).id == valleys
        assert provider_for_area(session, "cardiff").slug == "demo"
        assert provider_for_area(session, "not_sure").slug == "demo"
        assert provider_for_area(session, "gwynedd").slug == "demo"  # nobody covers it: the default
        assert provider_for_area(session, None).slug == "demo"
        assert [area.key for area in deployment_areas(session)] == [
            "cardiff", "newport", OTHER_AREA, "vale_of_glamorgan",
        ]  # fmt: skip
        session.execute(sa.delete(Provider))
        assert provider_for_area(session, "cardiff") is None  # one provider from the environment


@pytest.mark.parametrize(
    ("offered", "area", "kept"),
    [
        ([{"value": OTHER_AREA}], OTHER_AREA, OTHER_AREA),  # as offered in this conversation
        ([{"value": "cardiff"}], OTHER_AREA, None),  # not among those offered
        (None, OTHER_AREA, OTHER_AREA),  # a script that did not offer them: the areas covered now
        (None, "atlantis", None),
    ],
)
def test_the_area_kept_is_one_offered_or_else_one_covered(runtime, valleys, offered, area, kept):
    with runtime.session() as session:
        variables = {"area": area} | ({"areas": offered} if offered is not None else {})
        context = EffectContext(session, None, variables, utcnow(), runtime.timezone, contact_id=1)
        remember_area(context)
    assert context.contact_changes == {"area": kept}
