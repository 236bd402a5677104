"""``POST /api/v1/episodes``: a return the provider heard about; the bot records it once per reference and makes
the offer by text (``bot/offers/``). HTTP only: the rules are in ``bot.offers.episodes``."""

from __future__ import annotations

from typing import Any

from flask import g

from bot.offers.episodes import check_report, refuse, report_episode
from bot.routing import area_english_names
from models import Provider
from webhooks.provider_api.common import api, operation, runtime, transaction
from webhooks.provider_api.schemas import EpisodeReported, EpisodeReportRequest


@api.post("/episodes")
@operation(body=EpisodeReportRequest, answer=EpisodeReported, status=201)
def report_episode_view(body: EpisodeReportRequest) -> dict[str, Any]:
    """Tell the bot a young person is back: it records the episode and a referral, and offers them a chat by text."""
    now = runtime().clock()
    with runtime().session() as session:
        areas = list(session.get_one(Provider, g.actor.provider_id).areas or [])
        known = area_english_names(session)
    given = body.model_dump(mode="json", exclude_none=True)
    report, problems = check_report(given, areas, now, runtime().timezone, known)
    if report is None:
        with transaction():
            raise refuse(problems)
    with transaction() as session:
        reported = report_episode(session, runtime(), g.actor.provider_id, report, now)
    return {"episode_id": reported.episode_id, "referral_id": reported.referral_id, "created": reported.created}
